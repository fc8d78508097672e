package crawler

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // favicons and logos come as GIF, JPEG and PNG
	_ "image/jpeg"
	_ "image/png"
)

// DefaultMaxImagePixels caps decoded images: a 20,000×20,000 PNG of a few
// kilobytes would need 1.6 GB to decode. Logos and favicons are far below.
const DefaultMaxImagePixels = 4096 * 4096

// ImageInfo is what an image's bytes say, read within the pixel cap.
type ImageInfo struct {
	Format string // png, jpeg, gif, ico; "" when unknown
	Width  int
	Height int
	// AHash is a 64-bit average hash of the decoded image (hex), for finding
	// copied logos and favicons; "" when not decoded.
	AHash string
	// Problem says why the image was not decoded ("" when it was).
	Problem string
}

var errTooManyPixels = errors.New("image too large to decode")

// InspectImage reads dimensions from the header (and an ICO's directory)
// first and decodes only when width × height is within maxPixels.
func InspectImage(b []byte, maxPixels int64) ImageInfo {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxImagePixels
	}
	if isICO(b) {
		return inspectICO(b, maxPixels)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return ImageInfo{Problem: "unknown or corrupt image: " + err.Error()}
	}
	info := ImageInfo{Format: format, Width: cfg.Width, Height: cfg.Height}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		info.Problem = fmt.Sprintf("%s: %d×%d pixels, over the cap of %d", errTooManyPixels, cfg.Width, cfg.Height, maxPixels)
		return info
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		info.Problem = "decode: " + err.Error()
		return info
	}
	info.AHash = averageHash(img)
	return info
}

func isICO(b []byte) bool {
	return len(b) >= 6 && b[0] == 0 && b[1] == 0 && b[2] == 1 && b[3] == 0
}

// inspectICO reads an ICO directory. Each entry says its size in one byte
// (0 means 256); an entry may embed a PNG whose own header is then read.
// The largest entry within the cap is decoded when it is a PNG.
func inspectICO(b []byte, maxPixels int64) ImageInfo {
	n := int(binary.LittleEndian.Uint16(b[4:6]))
	info := ImageInfo{Format: "ico"}
	if n == 0 || 6+16*n > len(b) {
		info.Problem = "ico: directory truncated"
		return info
	}
	var best []byte
	for i := range n {
		e := b[6+16*i : 6+16*i+16]
		w, h := int(e[0]), int(e[1])
		if w == 0 {
			w = 256
		}
		if h == 0 {
			h = 256
		}
		size := int(binary.LittleEndian.Uint32(e[8:12]))
		off := int(binary.LittleEndian.Uint32(e[12:16]))
		var data []byte
		if off >= 0 && size > 0 && off < len(b) && size <= len(b)-off {
			data = b[off : off+size]
			if len(data) > 8 && bytes.HasPrefix(data, []byte("\x89PNG")) {
				if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
					w, h = cfg.Width, cfg.Height // the PNG's own header is authoritative
				}
			}
		}
		if int64(w)*int64(h) > maxPixels {
			info.Width, info.Height = w, h
			info.Problem = fmt.Sprintf("%s: ico entry %d×%d pixels, over the cap of %d", errTooManyPixels, w, h, maxPixels)
			return info
		}
		if w*h >= info.Width*info.Height {
			info.Width, info.Height = w, h
			best = data
		}
	}
	if len(best) > 8 && bytes.HasPrefix(best, []byte("\x89PNG")) {
		if img, _, err := image.Decode(bytes.NewReader(best)); err == nil {
			info.AHash = averageHash(img)
		}
	}
	return info
}

// averageHash shrinks the image to 8×8 grey cells and sets a bit for each
// cell brighter than the mean: copies, rescaled or recompressed, keep most
// bits, so a small Hamming distance means the same picture.
func averageHash(img image.Image) string {
	bnd := img.Bounds()
	w, h := bnd.Dx(), bnd.Dy()
	if w == 0 || h == 0 {
		return ""
	}
	var cells [64]float64
	for cy := range 8 {
		for cx := range 8 {
			x0, x1 := bnd.Min.X+cx*w/8, bnd.Min.X+max((cx+1)*w/8, cx*w/8+1)
			y0, y1 := bnd.Min.Y+cy*h/8, bnd.Min.Y+max((cy+1)*h/8, cy*h/8+1)
			// sample at most 4×4 points per cell: bounded work for any size
			var sum float64
			var n int
			for sy := range 4 {
				for sx := range 4 {
					x := x0 + (x1-x0)*sx/4
					y := y0 + (y1-y0)*sy/4
					g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
					_, _, _, a := img.At(x, y).RGBA()
					// transparent pixels count as white, as on a page
					v := float64(g.Y)*float64(a)/0xffff + 255*(1-float64(a)/0xffff)
					sum += v
					n++
				}
			}
			cells[cy*8+cx] = sum / float64(n)
		}
	}
	var mean float64
	for _, v := range cells {
		mean += v
	}
	mean /= 64
	var bits uint64
	for i, v := range cells {
		if v > mean {
			bits |= 1 << uint(63-i)
		}
	}
	return fmt.Sprintf("%016x", bits)
}
