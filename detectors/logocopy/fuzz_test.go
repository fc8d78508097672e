package logocopy

import (
	"testing"
)

// FuzzDecodeICO: no input may panic or decode a picture over the cap.
// Seeds: testdata/fuzz/FuzzDecodeICO (directories that lie about sizes and
// offsets, 20000×20000 PNG entries, bitmaps with bad headers) and the ICOs
// of the test matrix.
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
			bd := d.Img.Bounds()
			if bd.Dx()*bd.Dy() > maxPixels {
				t.Fatalf("decoded %v over the cap", bd)
			}
			// the sizes reported are the picture's, not the directory's claim
			if d.Width != bd.Dx() || d.Height != bd.Dy() || bd.Dx() <= 0 || bd.Dy() <= 0 {
				t.Fatalf("%s reported %dx%d, picture %v", d.Format, d.Width, d.Height, bd)
			}
			FingerprintOf(d.Img)
		}
	})
}
