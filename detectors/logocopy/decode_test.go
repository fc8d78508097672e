package logocopy

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"os"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
)

func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 0x40, 0xff})
		}
	}
	return img
}

func TestDecodeFormats(t *testing.T) {
	img := testImage(40, 30)
	var jp, gf, bm bytes.Buffer
	jpeg.Encode(&jp, img, nil)
	gif.Encode(&gf, img, nil)
	bmp.Encode(&bm, img)
	webpBytes, err := os.ReadFile("testdata/sample.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		format string
		b      []byte
	}{{"png", encPNG(img)}, {"jpeg", jp.Bytes()}, {"gif", gf.Bytes()}, {"bmp", bm.Bytes()}, {"webp", webpBytes}} {
		if got := Sniff(c.b); got != c.format {
			t.Errorf("sniff %s: %q", c.format, got)
		}
		ds, errs := DecodeAll(c.b, 0)
		if len(ds) != 1 || len(errs) != 0 {
			t.Errorf("%s: %d pictures, errors %v", c.format, len(ds), errs)
			continue
		}
		if c.format != "webp" && (ds[0].Width != 40 || ds[0].Height != 30) {
			t.Errorf("%s: %d×%d", c.format, ds[0].Width, ds[0].Height)
		}
	}
}

// icoBMP8 encodes an 8-bit paletted ICO bitmap with its AND mask.
func icoBMP8(img *image.NRGBA) []byte {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	stride, maskStride := (w+3)/4*4, ((w+31)/32)*4
	hdr := make([]byte, 40)
	binary.LittleEndian.PutUint32(hdr[0:], 40)
	binary.LittleEndian.PutUint32(hdr[4:], uint32(w))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(2*h))
	binary.LittleEndian.PutUint16(hdr[12:], 1)
	binary.LittleEndian.PutUint16(hdr[14:], 8)
	var b bytes.Buffer
	b.Write(hdr)
	for i := range 256 { // grey palette
		b.Write([]byte{byte(i), byte(i), byte(i), 0})
	}
	for y := h - 1; y >= 0; y-- {
		row := make([]byte, stride)
		for x := range w {
			c := img.NRGBAAt(x, y)
			row[x] = byte((int(c.R) + int(c.G) + int(c.B)) / 3)
		}
		b.Write(row)
	}
	b.Write(make([]byte, maskStride*h))
	return b.Bytes()
}

func TestICO(t *testing.T) {
	img := testImage(32, 32)
	file := ICO(encPNG(testImage(64, 64)), icoBMP(img, 32), icoBMP(img, 24), icoBMP8(img))
	ds, errs := DecodeAll(file, 0)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var formats []string
	for _, d := range ds {
		formats = append(formats, d.Format)
	}
	if strings.Join(formats, ",") != "ico/png,ico/bmp,ico/bmp,ico/bmp" || ds[0].Width != 64 || ds[1].Width != 32 || ds[1].Height != 32 {
		t.Fatalf("pictures %v", formats)
	}
	// every bitmap depth decodes to the same picture (bottom-up rows)
	for i := 1; i < 3; i++ {
		if got, want := ds[i].Img.At(5, 20), img.At(5, 20); !sameRGB(got, want) {
			t.Errorf("entry %d pixel %v, want %v", i, got, want)
		}
	}
	// the AND mask makes pixels transparent in a 24-bit entry
	half := testImage(16, 16)
	for x := range 16 {
		half.SetNRGBA(x, 0, color.NRGBA{})
	}
	ds, _ = DecodeAll(ICO(icoBMP(half, 24)), 0)
	if _, _, _, a := ds[0].Img.At(3, 0).RGBA(); a != 0 {
		t.Errorf("masked pixel alpha %d", a)
	}
}

func sameRGB(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	return r1>>8 == r2>>8 && g1>>8 == g2>>8 && b1>>8 == b2>>8
}

func TestICOHostile(t *testing.T) {
	good := ICO(encPNG(testImage(16, 16)))
	cases := map[string][]byte{
		"empty":           {},
		"header only":     {0, 0, 1, 0},
		"no entries":      {0, 0, 1, 0, 0, 0},
		"dir truncated":   good[:20],
		"count too large": append([]byte{0, 0, 1, 0, 0xff, 0xff}, good[6:]...),
	}
	// offset past the end, size past the end
	bad := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(bad[18:], uint32(len(bad)+10))
	cases["offset outside"] = bad
	bad = append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(bad[14:], 0xffffffff)
	cases["size outside"] = bad
	for name, b := range cases {
		if ds, errs := DecodeAll(b, 0); len(ds) != 0 || len(errs) == 0 {
			t.Errorf("%s: %d pictures, errors %v", name, len(ds), errs)
		}
	}
}

// Dimensions are checked on the headers before any pixel is decoded.
func TestPixelCap(t *testing.T) {
	big := encPNG(testImage(300, 300))
	if ds, errs := DecodeAll(big, 200*200); len(ds) != 0 || len(errs) == 0 || !strings.Contains(errs[0].Error(), "pixel cap") {
		t.Errorf("png over the cap: %v", errs)
	}
	// a bitmap header claiming 4096×4096 with no pixels behind it
	hdr := make([]byte, 40)
	binary.LittleEndian.PutUint32(hdr[0:], 40)
	binary.LittleEndian.PutUint32(hdr[4:], 4096)
	binary.LittleEndian.PutUint32(hdr[8:], 8192)
	binary.LittleEndian.PutUint16(hdr[14:], 32)
	_, errs := DecodeAll(ICO(hdr), 1024*1024)
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "pixel cap") {
		t.Errorf("dib over the cap: %v", errs)
	}
	_, errs = DecodeAll(ICO(hdr), 0)
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "truncated") {
		t.Errorf("dib without pixels: %v", errs)
	}
	// a PNG header claiming 100000×100000 inside an ICO
	p := encPNG(testImage(8, 8))
	binary.BigEndian.PutUint32(p[16:], 100000)
	binary.BigEndian.PutUint32(p[20:], 100000)
	if _, errs := DecodeAll(ICO(p), 0); len(errs) == 0 {
		t.Error("huge png in ico decoded")
	}
}
