package logocopy

import (
	"testing"
)

// FuzzDecodeICO: no input may panic or decode a picture over the cap.
// Seeds: testdata/fuzz/FuzzDecodeICO and the ICOs of the test matrix.
func FuzzDecodeICO(f *testing.F) {
	img := testImage(16, 16)
	f.Add(ICO(encPNG(img)))
	f.Add(ICO(icoBMP(img, 32), icoBMP(img, 24)))
	f.Add(ICO(icoBMP8(img)))
	f.Add([]byte{0, 0, 1, 0, 1, 0})
	const maxPixels = 64 * 64
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ParseICO(b)
		if err == nil {
			for _, e := range entries {
				if e.Offset < 0 || e.Size <= 0 || e.Offset+e.Size > len(b) {
					t.Fatalf("entry outside the file: %+v (len %d)", e, len(b))
				}
			}
		}
		ds, _ := DecodeAll(b, maxPixels)
		for _, d := range ds {
			if bd := d.Img.Bounds(); bd.Dx()*bd.Dy() > maxPixels {
				t.Fatalf("decoded %v over the cap", bd)
			}
			FingerprintOf(d.Img)
		}
	})
}
