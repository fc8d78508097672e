package reports

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"affwatch/detectors/logocopy"
)

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeDataURL checks that u is our own PNG data URL and decodes it.
func decodeDataURL(t *testing.T, u string) image.Image {
	t.Helper()
	b64, ok := strings.CutPrefix(u, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40q", u)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestThumbnail(t *testing.T) {
	tests := []struct {
		w, h, wantW, wantH int
	}{
		{300, 150, 128, 64},
		{150, 300, 64, 128},
		{256, 256, 128, 128},
		{16, 16, 16, 16}, // small: kept, the page scales it up unsmoothed
		{1000, 1, 128, 1},
	}
	for _, tc := range tests {
		img := image.NewNRGBA(image.Rect(0, 0, tc.w, tc.h))
		got := thumbnail(img, LogoThumbPixels)
		if got.Bounds().Dx() != tc.wantW || got.Bounds().Dy() != tc.wantH {
			t.Errorf("thumbnail of %d×%d is %v, want %d×%d", tc.w, tc.h, got.Bounds(), tc.wantW, tc.wantH)
		}
	}
	// Averaging is alpha-weighted: red next to transparent stays red, half
	// as opaque.
	img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x += 2 {
			img.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
			img.SetNRGBA(x+1, y, color.NRGBA{0, 0, 255, 0})
		}
	}
	if c := thumbnail(img, 128).NRGBAAt(10, 10); c != (color.NRGBA{255, 0, 0, 127}) {
		t.Errorf("averaged pixel %v, want {255 0 0 127}", c)
	}
}

// pngHeaderOnly is a PNG whose header claims w×h pixels (no image data):
// what a decompression bomb's header looks like.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestThumbnailURLHostile: what a crawled favicon may be never reaches the
// page as itself: an SVG (with script), a bomb's header, garbage, HTML.
func TestThumbnailURLHostile(t *testing.T) {
	for name, b := range map[string][]byte{
		"svg with script": []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`),
		"bomb header":     pngHeaderOnly(100000, 100000),
		"over the cap":    pngHeaderOnly(4096, 4096),
		"garbage":         []byte("\x00\x01\x02not an image"),
		"html":            []byte(`<html><img src=x onerror=alert(1)></html>`),
		"empty":           nil,
	} {
		t.Run(name, func(t *testing.T) {
			u, note := thumbnailURL(b, 0, 0)
			if u != "" || !strings.HasPrefix(note, "The picture could not be decoded safely") {
				t.Errorf("thumbnailURL = %.60q, %q; want no picture and a note", u, note)
			}
		})
	}
}

// TestThumbnailURL: a real favicon (the demo's) is re-encoded, never
// embedded as served; an ICO gives the picture of the size the detector
// compared.
func TestThumbnailURL(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "demo", "brandcopy-shop.store-apple-touch-icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	u, note := thumbnailURL(raw, 180, 180)
	if note != "" {
		t.Fatal(note)
	}
	if strings.Contains(string(u), base64.StdEncoding.EncodeToString(raw[:60])) {
		t.Error("the served bytes were embedded as they came")
	}
	if b := decodeDataURL(t, string(u)).Bounds(); b.Dx() != 128 || b.Dy() != 128 {
		t.Errorf("embedded picture %v, want 128×128", b)
	}
	small := encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 16, 16)))
	big := encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 48, 32)))
	ico := logocopy.ICO(small, big)
	for _, tc := range []struct{ w, h, wantW int }{{16, 16, 16}, {48, 32, 48}, {0, 0, 48}} {
		u, note := thumbnailURL(ico, tc.w, tc.h)
		if note != "" {
			t.Fatal(note)
		}
		if got := decodeDataURL(t, string(u)).Bounds().Dx(); got != tc.wantW {
			t.Errorf("ICO picture for %d×%d is %d wide, want %d", tc.w, tc.h, got, tc.wantW)
		}
	}
}

// TestAttachLogo: the found picture is shown only when its bytes are those
// the detector compared, the reference only when the pack's file is the
// one the finding recorded.
func TestAttachLogo(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "demo", "brandcopy-shop.store-apple-touch-icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	ev := demoEvidence(t, "logo_copy", "PSITE06")
	key := func(r *logoRequest) [3]string { return [3]string{r.crawlID, r.assetURL, r.sha} }

	r := logoRequestFor(ev)
	attachLogo(r, map[[3]string][]byte{key(r): raw}, newRefLogos("default"))
	if r.pair.RefSrc == "" || r.pair.FoundSrc == "" || r.pair.RefNote != "" || r.pair.FoundNote != "" {
		t.Errorf("pair not drawn: ref %q found %q", r.pair.RefNote, r.pair.FoundNote)
	}
	if len(r.pair.Distances) != 4 {
		t.Errorf("%d distances, want 4", len(r.pair.Distances))
	}

	r = logoRequestFor(ev)
	tampered := append(append([]byte(nil), raw...), 0)
	attachLogo(r, map[[3]string][]byte{key(r): tampered}, newRefLogos("default"))
	if r.pair.FoundSrc != "" || !strings.Contains(r.pair.FoundNote, "differ from those the detector compared") {
		t.Errorf("tampered bytes: %q", r.pair.FoundNote)
	}

	r = logoRequestFor(ev)
	r.refSHA = strings.Repeat("0", 64)
	attachLogo(r, nil, newRefLogos("default"))
	if r.pair.RefSrc != "" || !strings.Contains(r.pair.RefNote, "has changed since the run") {
		t.Errorf("changed reference: %q", r.pair.RefNote)
	}
	if r.pair.FoundSrc != "" || !strings.Contains(r.pair.FoundNote, "kept no bytes") {
		t.Errorf("missing bytes: %q", r.pair.FoundNote)
	}

	r = logoRequestFor(ev)
	attachLogo(r, nil, newRefLogos(filepath.Join(t.TempDir(), "missing.yaml")))
	if r.pair.RefSrc != "" || !strings.Contains(r.pair.RefNote, "rule pack could not be read") {
		t.Errorf("missing pack: %q", r.pair.RefNote)
	}
}
