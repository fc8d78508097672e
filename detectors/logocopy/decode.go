package logocopy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// Limits of decoding: dimensions are read from the headers (and an ICO's
// directory) first, and an image over the pixel cap is never decoded.
const (
	DefaultMaxPixels = 4096 * 4096
	// MaxICOEntries bounds the images examined inside one ICO.
	MaxICOEntries = 16
)

var errTooLarge = errors.New("image over the pixel cap")

// Decoded is one picture of an asset: an ICO holds several.
type Decoded struct {
	Format        string // png, jpeg, gif, bmp, webp, ico/png, ico/bmp
	Width, Height int
	Img           image.Image
}

// Sniff names an image format from its first bytes ("" when unknown).
func Sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "gif"
	case bytes.HasPrefix(b, []byte("BM")) && len(b) >= 26:
		return "bmp"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	case len(b) >= 6 && b[0] == 0 && b[1] == 0 && (b[2] == 1 || b[2] == 2) && b[3] == 0:
		return "ico"
	}
	return ""
}

// DecodeAll decodes every picture of an asset within maxPixels each; errs
// lists the pictures skipped and why (an ICO may decode in part).
func DecodeAll(b []byte, maxPixels int64) (out []Decoded, errs []error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	f := Sniff(b)
	if f == "ico" {
		return decodeICO(b, maxPixels)
	}
	d, err := decodeOne(b, f, maxPixels)
	if err != nil {
		return nil, []error{err}
	}
	return []Decoded{d}, nil
}

func decodeOne(b []byte, format string, maxPixels int64) (Decoded, error) {
	var cfgFn func([]byte) (image.Config, error)
	var decFn func([]byte) (image.Image, error)
	rd := func(fn func(r *bytes.Reader) (image.Config, error)) func([]byte) (image.Config, error) {
		return func(b []byte) (image.Config, error) { return fn(bytes.NewReader(b)) }
	}
	switch format {
	case "png":
		cfgFn = rd(func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) })
		decFn = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	case "jpeg":
		cfgFn = rd(func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) })
		decFn = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case "gif":
		// the first frame: an animated logo's first frame is its still
		cfgFn = rd(func(r *bytes.Reader) (image.Config, error) { return gif.DecodeConfig(r) })
		decFn = func(b []byte) (image.Image, error) { return gif.Decode(bytes.NewReader(b)) }
	case "bmp":
		cfgFn = rd(func(r *bytes.Reader) (image.Config, error) { return bmp.DecodeConfig(r) })
		decFn = func(b []byte) (image.Image, error) { return bmp.Decode(bytes.NewReader(b)) }
	case "webp":
		cfgFn = rd(func(r *bytes.Reader) (image.Config, error) { return webp.DecodeConfig(r) })
		decFn = func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }
	default:
		return Decoded{}, errors.New("unknown image format")
	}
	cfg, err := cfgFn(b)
	if err != nil {
		return Decoded{}, fmt.Errorf("%s header: %w", format, err)
	}
	if err := checkDims(cfg.Width, cfg.Height, maxPixels); err != nil {
		return Decoded{Format: format, Width: cfg.Width, Height: cfg.Height}, fmt.Errorf("%s: %w", format, err)
	}
	img, err := decFn(b)
	if err != nil {
		return Decoded{Format: format, Width: cfg.Width, Height: cfg.Height}, fmt.Errorf("%s: %w", format, err)
	}
	bd := img.Bounds()
	if err := checkDims(bd.Dx(), bd.Dy(), maxPixels); err != nil {
		return Decoded{}, fmt.Errorf("%s: %w", format, err)
	}
	return Decoded{Format: format, Width: bd.Dx(), Height: bd.Dy(), Img: img}, nil
}

func checkDims(w, h int, maxPixels int64) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("empty image %d×%d", w, h)
	}
	if int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("%w: %d×%d > %d pixels", errTooLarge, w, h, maxPixels)
	}
	return nil
}

// ICOEntry is one directory entry of an ICO (or CUR) file.
type ICOEntry struct {
	Width, Height int // from the directory (0 there means 256)
	BitCount      int
	Offset, Size  int
}

// ParseICO reads an ICO directory with every offset and size checked
// against the file; entries pointing outside it are dropped.
func ParseICO(b []byte) ([]ICOEntry, error) {
	if len(b) < 6 || b[0] != 0 || b[1] != 0 || (b[2] != 1 && b[2] != 2) || b[3] != 0 {
		return nil, errors.New("ico: bad header")
	}
	n := int(binary.LittleEndian.Uint16(b[4:6]))
	if n == 0 {
		return nil, errors.New("ico: no images")
	}
	if n > (len(b)-6)/16 {
		return nil, fmt.Errorf("ico: directory of %d entries truncated", n)
	}
	var out []ICOEntry
	for i := 0; i < n && len(out) < MaxICOEntries; i++ {
		e := b[6+16*i : 6+16*i+16]
		w, h := int(e[0]), int(e[1])
		if w == 0 {
			w = 256
		}
		if h == 0 {
			h = 256
		}
		size := uint64(binary.LittleEndian.Uint32(e[8:12]))
		off := uint64(binary.LittleEndian.Uint32(e[12:16]))
		if size == 0 || off < uint64(6+16*n) || off >= uint64(len(b)) || size > uint64(len(b))-off {
			continue
		}
		out = append(out, ICOEntry{Width: w, Height: h, BitCount: int(binary.LittleEndian.Uint16(e[6:8])), Offset: int(off), Size: int(size)})
	}
	if len(out) == 0 {
		return nil, errors.New("ico: no entry within the file")
	}
	return out, nil
}

func decodeICO(b []byte, maxPixels int64) (out []Decoded, errs []error) {
	entries, err := ParseICO(b)
	if err != nil {
		return nil, []error{err}
	}
	for i, e := range entries {
		data := b[e.Offset : e.Offset+e.Size]
		if bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			d, err := decodeOne(data, "png", maxPixels)
			if err != nil {
				errs = append(errs, fmt.Errorf("ico entry %d: %w", i, err))
				continue
			}
			d.Format = "ico/png"
			out = append(out, d)
			continue
		}
		img, err := decodeDIB(data, maxPixels)
		if err != nil {
			errs = append(errs, fmt.Errorf("ico entry %d: %w", i, err))
			continue
		}
		bd := img.Bounds()
		out = append(out, Decoded{Format: "ico/bmp", Width: bd.Dx(), Height: bd.Dy(), Img: img})
	}
	return out, errs
}

// decodeDIB decodes the bitmap of an ICO entry: a BITMAPINFOHEADER whose
// height counts the colour rows and the 1-bit AND mask rows, then the
// palette (≤ 8 bits per pixel), the colour rows and the mask, bottom-up.
// Supported: 1, 4, 8, 24 and 32 bits per pixel, uncompressed.
func decodeDIB(d []byte, maxPixels int64) (image.Image, error) {
	if len(d) < 40 {
		return nil, errors.New("dib: truncated header")
	}
	hdr := int(binary.LittleEndian.Uint32(d[0:4]))
	if hdr < 40 || hdr > len(d) {
		return nil, fmt.Errorf("dib: header size %d", hdr)
	}
	w := int(int32(binary.LittleEndian.Uint32(d[4:8])))
	h2 := int(int32(binary.LittleEndian.Uint32(d[8:12])))
	bpp := int(binary.LittleEndian.Uint16(d[14:16]))
	comp := binary.LittleEndian.Uint32(d[16:20])
	if comp != 0 && !(comp == 3 && bpp == 32) {
		return nil, fmt.Errorf("dib: compression %d not supported", comp)
	}
	if w <= 0 || w > 4096 || h2 <= 0 || h2 > 8192 {
		return nil, fmt.Errorf("dib: dimensions %d×%d", w, h2)
	}
	h := h2 / 2
	if h == 0 {
		h = h2
	}
	if err := checkDims(w, h, maxPixels); err != nil {
		return nil, err
	}
	var palette []color.NRGBA
	pos := hdr
	if bpp <= 8 {
		switch bpp {
		case 1, 4, 8:
		default:
			return nil, fmt.Errorf("dib: %d bits per pixel", bpp)
		}
		n := int(binary.LittleEndian.Uint32(d[32:36]))
		if n == 0 || n > 1<<bpp {
			n = 1 << bpp
		}
		if pos+4*n > len(d) {
			return nil, errors.New("dib: truncated palette")
		}
		for i := range n {
			p := d[pos+4*i:]
			palette = append(palette, color.NRGBA{p[2], p[1], p[0], 0xff})
		}
		pos += 4 * n
	} else if bpp != 24 && bpp != 32 {
		return nil, fmt.Errorf("dib: %d bits per pixel", bpp)
	}
	if comp == 3 {
		pos += 12 // BI_BITFIELDS masks after a 40-byte header; assume BGRA
	}
	stride := ((w*bpp + 31) / 32) * 4
	if pos > len(d) || stride*h > len(d)-pos {
		return nil, errors.New("dib: truncated pixels")
	}
	pix := d[pos : pos+stride*h]
	maskStride := ((w + 31) / 32) * 4
	var mask []byte
	if mp := pos + stride*h; h2 == 2*h && maskStride*h <= len(d)-mp {
		mask = d[mp : mp+maskStride*h]
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	anyAlpha := false
	for y := range h {
		row := pix[(h-1-y)*stride:]
		for x := range w {
			var c color.NRGBA
			switch bpp {
			case 32:
				p := row[4*x:]
				c = color.NRGBA{p[2], p[1], p[0], p[3]}
				if p[3] != 0 {
					anyAlpha = true
				}
			case 24:
				p := row[3*x:]
				c = color.NRGBA{p[2], p[1], p[0], 0xff}
			default:
				bit := x * bpp
				v := int(row[bit/8]>>(8-bpp-bit%8)) & (1<<bpp - 1)
				if v < len(palette) {
					c = palette[v]
				}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	// a 32-bit bitmap's alpha rules; otherwise (or when it is all zero)
	// the AND mask marks the transparent pixels
	if bpp == 32 && !anyAlpha {
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 0xff
		}
	}
	if mask != nil && (bpp != 32 || !anyAlpha) {
		for y := range h {
			row := mask[(h-1-y)*maskStride:]
			for x := range w {
				if row[x/8]>>(7-x%8)&1 == 1 {
					img.Pix[y*img.Stride+4*x+3] = 0
				}
			}
		}
	}
	return img, nil
}
