package logocopy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/image/draw"
)

// Case is one labeled image of the quality corpus.
type Case struct {
	Class string // a transformation of a reference, or "negatives"
	Name  string
	Ref   string // the reference it derives from ("" for negatives)
	Bytes []byte
}

// Transformations of the test matrix, in report order.
var Transformations = []string{"resize", "hue_shift", "grayscale", "jpeg_q30", "pad_10", "crop_10", "ico_bmp", "ico_png"}

// PositiveCases derives the test matrix from a reference picture.
func PositiveCases(ref string, img image.Image) []Case {
	var out []Case
	add := func(class, name string, b []byte) {
		out = append(out, Case{Class: class, Name: ref + " " + name, Ref: ref, Bytes: b})
	}
	for _, s := range []int{16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512} {
		add("resize", fmt.Sprintf("%dpx", s), encPNG(scale(img, s, s)))
	}
	add("resize", "200x120 (aspect changed)", encPNG(scale(img, 200, 120)))
	for _, deg := range []float64{30, 60, 90, 120, 180, 240, 300} {
		add("hue_shift", fmt.Sprintf("%g°", deg), encPNG(mapColors(img, func(c color.NRGBA) color.NRGBA { return hueShift(c, deg) })))
		add("hue_shift", fmt.Sprintf("%g° 32px", deg), encPNG(scale(mapColors(img, func(c color.NRGBA) color.NRGBA { return hueShift(c, deg) }), 32, 32)))
	}
	gray := mapColors(img, func(c color.NRGBA) color.NRGBA {
		y := uint8(math.Round(0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)))
		return color.NRGBA{y, y, y, c.A}
	})
	add("grayscale", "full size", encPNG(gray))
	add("grayscale", "64px", encPNG(scale(gray, 64, 64)))
	for _, s := range []int{0, 32, 64, 128} {
		src := img
		if s > 0 {
			src = scale(img, s, s)
		}
		var b bytes.Buffer
		jpeg.Encode(&b, flatten(src), &jpeg.Options{Quality: 30})
		add("jpeg_q30", fmt.Sprintf("%dpx", src.Bounds().Dx()), b.Bytes())
	}
	white, clear := color.NRGBA{255, 255, 255, 255}, color.NRGBA{}
	add("pad_10", "white, 10% each side", encPNG(pad(img, 0.1, 0.1, 0.1, 0.1, white)))
	add("pad_10", "transparent, 10% each side", encPNG(pad(img, 0.1, 0.1, 0.1, 0.1, clear)))
	add("pad_10", "white, 10% left and top", encPNG(pad(img, 0.1, 0.1, 0, 0, white)))
	add("pad_10", "grey, 5% each side, 64px", encPNG(scale(pad(img, 0.05, 0.05, 0.05, 0.05, color.NRGBA{200, 200, 200, 255}), 64, 64)))
	add("crop_10", "5% each side", encPNG(crop(img, 0.05, 0.05, 0.05, 0.05)))
	add("crop_10", "10% each side", encPNG(crop(img, 0.1, 0.1, 0.1, 0.1)))
	add("crop_10", "10% left and top", encPNG(crop(img, 0.1, 0.1, 0, 0)))
	add("crop_10", "10% right, 48px", encPNG(scale(crop(img, 0, 0, 0.1, 0), 48, 48)))
	for _, s := range []int{16, 32, 48} {
		add("ico_bmp", fmt.Sprintf("32-bit %dpx", s), ICO(icoBMP(scale(img, s, s), 32)))
		add("ico_bmp", fmt.Sprintf("24-bit+mask %dpx", s), ICO(icoBMP(scale(img, s, s), 24)))
	}
	add("ico_bmp", "16+32+48 in one file", ICO(icoBMP(scale(img, 16, 16), 32), icoBMP(scale(img, 32, 32), 32), icoBMP(scale(img, 48, 48), 24)))
	for _, s := range []int{16, 32, 64, 256} {
		add("ico_png", fmt.Sprintf("%dpx", s), ICO(encPNG(scale(img, s, s))))
	}
	add("ico_png", "16 bmp + 256 png in one file", ICO(icoBMP(scale(img, 16, 16), 32), encPNG(scale(img, 256, 256))))
	return out
}

// NegativeCases are the non-brand logos: n procedural ones (seeded) and,
// when the Debian icon themes are installed, up to maxIcons of their PNGs.
func NegativeCases(n, maxIcons int) []Case {
	var out []Case
	for i := range n {
		out = append(out, Case{Class: "negatives", Name: fmt.Sprintf("procedural #%d", i), Bytes: encPNG(ProceduralLogo(uint64(i)))})
	}
	for i, l := range HardLetters {
		out = append(out, Case{Class: "negatives", Name: fmt.Sprintf("hard: white %c on red", l), Bytes: encPNG(LetterMark(l, 128, i%3))})
	}
	for _, f := range debianIcons(maxIcons) {
		b, err := os.ReadFile(f)
		if err == nil && len(b) <= 256<<10 {
			out = append(out, Case{Class: "negatives", Name: f, Bytes: b})
		}
	}
	return out
}

// debianIcons lists one PNG per icon name from the installed icon themes
// (adwaita-icon-theme, hicolor-icon-theme), largest size first; none when
// they are not installed.
func debianIcons(limit int) []string {
	if limit <= 0 {
		return nil
	}
	var files []string
	for _, pat := range []string{"/usr/share/icons/*/*/*/*.png", "/usr/share/icons/*/*x*/*/*.png"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	sort.Strings(files)
	best := map[string]string{}
	size := func(f string) int {
		var w int
		fmt.Sscanf(filepath.Base(filepath.Dir(filepath.Dir(f))), "%dx", &w)
		return w
	}
	for _, f := range files {
		if strings.Contains(f, "symbolic") {
			continue // the symbolic icons are one-colour glyphs of the same names
		}
		name := filepath.Base(f)
		if cur, ok := best[name]; !ok || abs(size(f)-64) < abs(size(cur)-64) {
			best[name] = f
		}
	}
	var out []string
	for _, f := range best {
		out = append(out, f)
	}
	sort.Strings(out)
	if len(out) > limit {
		// an even spread over the sorted names
		step := float64(len(out)) / float64(limit)
		var pick []string
		for i := range limit {
			pick = append(pick, out[int(float64(i)*step)])
		}
		out = pick
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// ProceduralLogo draws a non-brand logo from a seed: a plain, gradient,
// white or transparent field (square, rounded or round), then one to four
// shapes (circles, rings, rectangles, triangles, stars, stripes, chevrons)
// or letters drawn as strokes, in random colours, sizes and positions.
func ProceduralLogo(seed uint64) image.Image {
	r := rand.New(rand.NewPCG(seed, 0x6c6f676f))
	size := []int{32, 48, 64, 96, 128, 180, 256}[r.IntN(7)]
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	rc := func() color.NRGBA {
		return color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
	}
	bg1, bg2 := rc(), rc()
	fieldKind := r.IntN(5) // 0 plain, 1 gradient, 2 white, 3 transparent, 4 dark
	if fieldKind == 2 {
		bg1 = color.NRGBA{255, 255, 255, 255}
	} else if fieldKind == 4 {
		bg1 = color.NRGBA{uint8(r.IntN(40)), uint8(r.IntN(40)), uint8(r.IntN(40)), 255}
	}
	shape := r.IntN(3) // 0 square, 1 rounded, 2 round
	var shapes []func(x, y float64) bool
	var cols []color.NRGBA
	if r.IntN(3) > 0 {
		// letters as strokes: 1–4 letters, A only inside words
		n := 1 + r.IntN(4)
		word := ""
		for len(word) < n {
			l := letters[r.IntN(len(letters))]
			if n == 1 && l == 'A' {
				continue
			}
			word += string(l)
		}
		th := 0.04 + r.Float64()*0.08
		x0, y0 := 0.1+r.Float64()*0.15, 0.15+r.Float64()*0.3
		w := (0.85 - x0) / float64(n)
		h := math.Min(0.75-y0+0.15, w*(1.1+r.Float64()*0.6))
		fg := rc()
		for i, l := range word {
			segs := strokes[l]
			lx := x0 + float64(i)*w
			shapes = append(shapes, func(x, y float64) bool {
				u, v := (x-lx)/(w*0.85), (y-y0)/h
				for _, s := range segs {
					if segDist(u*w*0.85, v*h, s[0]*w*0.85, s[1]*h, s[2]*w*0.85, s[3]*h) < th/2 {
						return true
					}
				}
				return false
			})
			cols = append(cols, fg)
		}
	}
	for k := r.IntN(4) + 1 - min(1, len(shapes)); k > 0; k-- {
		cx, cy, rad := 0.2+r.Float64()*0.6, 0.2+r.Float64()*0.6, 0.1+r.Float64()*0.3
		rot := r.Float64() * math.Pi
		var f func(x, y float64) bool
		switch r.IntN(7) {
		case 0:
			f = func(x, y float64) bool { return math.Hypot(x-cx, y-cy) < rad }
		case 1:
			in := rad * (0.4 + r.Float64()*0.4)
			f = func(x, y float64) bool { d := math.Hypot(x-cx, y-cy); return d < rad && d > in }
		case 2:
			w, h := rad, rad*(0.3+r.Float64())
			f = func(x, y float64) bool {
				u, v := rotate(x-cx, y-cy, rot)
				return math.Abs(u) < w && math.Abs(v) < h
			}
		case 3:
			f = func(x, y float64) bool { return inPolygon(x-cx, y-cy, regular(3, rad, rot)) }
		case 4:
			pts := 5 + r.IntN(3)
			f = func(x, y float64) bool { return inPolygon(x-cx, y-cy, star(pts, rad, rad*0.45, rot)) }
		case 5:
			period, th := 0.08+r.Float64()*0.15, 0.3+r.Float64()*0.4
			f = func(x, y float64) bool {
				u, _ := rotate(x, y, rot)
				return math.Mod(u+10, period) < period*th
			}
		case 6:
			th := 0.05 + r.Float64()*0.1
			f = func(x, y float64) bool {
				return segDist(x, y, cx-rad, cy-rad/2, cx, cy+rad/2) < th || segDist(x, y, cx, cy+rad/2, cx+rad, cy-rad/2) < th
			}
		}
		shapes = append([]func(x, y float64) bool{f}, shapes...)
		cols = append([]color.NRGBA{rc()}, cols...)
	}
	for py := range size {
		for px := range size {
			x, y := (float64(px)+0.5)/float64(size), (float64(py)+0.5)/float64(size)
			c := bg1
			switch fieldKind {
			case 1:
				c = lerp(bg1, bg2, (x+y)/2)
			case 3:
				c = color.NRGBA{}
			}
			if fieldKind != 3 {
				switch shape {
				case 1:
					if dx, dy := math.Max(0, math.Abs(x-0.5)-0.32), math.Max(0, math.Abs(y-0.5)-0.32); math.Hypot(dx, dy) > 0.18 {
						c = color.NRGBA{}
					}
				case 2:
					if math.Hypot(x-0.5, y-0.5) > 0.5 {
						c = color.NRGBA{}
					}
				}
			}
			for i, f := range shapes {
				if f(x, y) {
					c = cols[i]
				}
			}
			img.SetNRGBA(px, py, c)
		}
	}
	return img
}

const letters = "ABCDEFHIKLMNOPRSTUVWXYZ"

// strokes draws capital letters as line segments in a unit box (x0, y0,
// x1, y1), y downwards.
var strokes = map[rune][][4]float64{
	'A': {{0, 1, 0.5, 0}, {0.5, 0, 1, 1}, {0.25, 0.6, 0.75, 0.6}},
	'B': {{0, 0, 0, 1}, {0, 0, 0.7, 0}, {0.7, 0, 0.8, 0.25}, {0.8, 0.25, 0.7, 0.5}, {0, 0.5, 0.8, 0.5}, {0.8, 0.5, 1, 0.75}, {1, 0.75, 0.8, 1}, {0.8, 1, 0, 1}},
	'C': {{1, 0, 0.2, 0}, {0.2, 0, 0, 0.3}, {0, 0.3, 0, 0.7}, {0, 0.7, 0.2, 1}, {0.2, 1, 1, 1}},
	'D': {{0, 0, 0, 1}, {0, 0, 0.6, 0}, {0.6, 0, 1, 0.4}, {1, 0.4, 1, 0.6}, {1, 0.6, 0.6, 1}, {0.6, 1, 0, 1}},
	'E': {{0, 0, 0, 1}, {0, 0, 1, 0}, {0, 0.5, 0.7, 0.5}, {0, 1, 1, 1}},
	'F': {{0, 0, 0, 1}, {0, 0, 1, 0}, {0, 0.5, 0.7, 0.5}},
	'H': {{0, 0, 0, 1}, {1, 0, 1, 1}, {0, 0.5, 1, 0.5}},
	'I': {{0.5, 0, 0.5, 1}, {0.2, 0, 0.8, 0}, {0.2, 1, 0.8, 1}},
	'K': {{0, 0, 0, 1}, {1, 0, 0, 0.55}, {0.3, 0.4, 1, 1}},
	'L': {{0, 0, 0, 1}, {0, 1, 1, 1}},
	'M': {{0, 1, 0, 0}, {0, 0, 0.5, 0.6}, {0.5, 0.6, 1, 0}, {1, 0, 1, 1}},
	'N': {{0, 1, 0, 0}, {0, 0, 1, 1}, {1, 1, 1, 0}},
	'O': {{0.3, 0, 0.7, 0}, {0.7, 0, 1, 0.3}, {1, 0.3, 1, 0.7}, {1, 0.7, 0.7, 1}, {0.7, 1, 0.3, 1}, {0.3, 1, 0, 0.7}, {0, 0.7, 0, 0.3}, {0, 0.3, 0.3, 0}},
	'P': {{0, 1, 0, 0}, {0, 0, 0.8, 0}, {0.8, 0, 1, 0.25}, {1, 0.25, 0.8, 0.5}, {0.8, 0.5, 0, 0.5}},
	'R': {{0, 1, 0, 0}, {0, 0, 0.8, 0}, {0.8, 0, 1, 0.25}, {1, 0.25, 0.8, 0.5}, {0.8, 0.5, 0, 0.5}, {0.4, 0.5, 1, 1}},
	'S': {{1, 0, 0, 0}, {0, 0, 0, 0.5}, {0, 0.5, 1, 0.5}, {1, 0.5, 1, 1}, {1, 1, 0, 1}},
	'T': {{0, 0, 1, 0}, {0.5, 0, 0.5, 1}},
	'U': {{0, 0, 0, 0.8}, {0, 0.8, 0.2, 1}, {0.2, 1, 0.8, 1}, {0.8, 1, 1, 0.8}, {1, 0.8, 1, 0}},
	'V': {{0, 0, 0.5, 1}, {0.5, 1, 1, 0}},
	'W': {{0, 0, 0.25, 1}, {0.25, 1, 0.5, 0.4}, {0.5, 0.4, 0.75, 1}, {0.75, 1, 1, 0}},
	'X': {{0, 0, 1, 1}, {1, 0, 0, 1}},
	'Y': {{0, 0, 0.5, 0.5}, {1, 0, 0.5, 0.5}, {0.5, 0.5, 0.5, 1}},
	'Z': {{0, 0, 1, 0}, {1, 0, 0, 1}, {0, 1, 1, 1}},
}

func segDist(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	l := dx*dx + dy*dy
	t := 0.0
	if l > 0 {
		t = math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/l))
	}
	return math.Hypot(px-ax-t*dx, py-ay-t*dy)
}

func rotate(x, y, a float64) (float64, float64) {
	s, c := math.Sincos(a)
	return x*c - y*s, x*s + y*c
}

func regular(n int, r, rot float64) [][2]float64 {
	var p [][2]float64
	for i := range n {
		a := rot + 2*math.Pi*float64(i)/float64(n)
		p = append(p, [2]float64{r * math.Cos(a), r * math.Sin(a)})
	}
	return p
}

func star(n int, r1, r2, rot float64) [][2]float64 {
	var p [][2]float64
	for i := range 2 * n {
		r := r1
		if i%2 == 1 {
			r = r2
		}
		a := rot + math.Pi*float64(i)/float64(n)
		p = append(p, [2]float64{r * math.Cos(a), r * math.Sin(a)})
	}
	return p
}

func inPolygon(x, y float64, p [][2]float64) bool {
	in := false
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		if (p[i][1] > y) != (p[j][1] > y) && x < (p[j][0]-p[i][0])*(y-p[i][1])/(p[j][1]-p[i][1])+p[i][0] {
			in = !in
		}
	}
	return in
}

func lerp(a, b color.NRGBA, t float64) color.NRGBA {
	f := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t) }
	return color.NRGBA{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B), 255}
}

func encPNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func scale(img image.Image, w, h int) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

func flatten(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}

func mapColors(img image.Image, f func(color.NRGBA) color.NRGBA) *image.NRGBA {
	m := toNRGBA(img)
	for i := 0; i < len(m.Pix); i += 4 {
		c := f(color.NRGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3]})
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

// hueShift rotates a colour's hue in HSL, keeping saturation and lightness.
func hueShift(c color.NRGBA, deg float64) color.NRGBA {
	r, g, b := float64(c.R)/255, float64(c.G)/255, float64(c.B)/255
	mx, mn := math.Max(r, math.Max(g, b)), math.Min(r, math.Min(g, b))
	l := (mx + mn) / 2
	if mx == mn {
		return c
	}
	d := mx - mn
	s := d / (1 - math.Abs(2*l-1))
	var h float64
	switch mx {
	case r:
		h = math.Mod((g-b)/d, 6)
	case g:
		h = (b-r)/d + 2
	default:
		h = (r-g)/d + 4
	}
	h = math.Mod(h*60+deg+360, 360)
	cc := (1 - math.Abs(2*l-1)) * s
	x := cc * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - cc/2
	var rr, gg, bb float64
	switch {
	case h < 60:
		rr, gg = cc, x
	case h < 120:
		rr, gg = x, cc
	case h < 180:
		gg, bb = cc, x
	case h < 240:
		gg, bb = x, cc
	case h < 300:
		rr, bb = x, cc
	default:
		rr, bb = cc, x
	}
	u := func(v float64) uint8 { return uint8(math.Round(math.Max(0, math.Min(1, v+m)) * 255)) }
	return color.NRGBA{u(rr), u(gg), u(bb), c.A}
}

// pad adds borders, as fractions of the width and height, on the left,
// top, right and bottom.
func pad(img image.Image, l, t, r, b float64, c color.NRGBA) *image.NRGBA {
	bd := img.Bounds()
	w, h := bd.Dx(), bd.Dy()
	pl, pt := int(float64(w)*l), int(float64(h)*t)
	dst := image.NewNRGBA(image.Rect(0, 0, w+pl+int(float64(w)*r), h+pt+int(float64(h)*b)))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(pl, pt, pl+w, pt+h), img, bd.Min, draw.Over)
	return dst
}

func crop(img image.Image, l, t, r, b float64) *image.NRGBA {
	bd := img.Bounds()
	w, h := bd.Dx(), bd.Dy()
	rect := image.Rect(bd.Min.X+int(float64(w)*l), bd.Min.Y+int(float64(h)*t), bd.Max.X-int(float64(w)*r), bd.Max.Y-int(float64(h)*b))
	dst := image.NewNRGBA(image.Rect(0, 0, rect.Dx(), rect.Dy()))
	draw.Draw(dst, dst.Bounds(), img, rect.Min, draw.Src)
	return dst
}

// icoBMP encodes a picture as an ICO entry's bitmap: 32-bit BGRA, or
// 24-bit with the AND mask marking the transparent pixels.
func icoBMP(img image.Image, bpp int) []byte {
	m := toNRGBA(img)
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	stride := ((w*bpp + 31) / 32) * 4
	maskStride := ((w + 31) / 32) * 4
	var b bytes.Buffer
	hdr := make([]byte, 40)
	binary.LittleEndian.PutUint32(hdr[0:], 40)
	binary.LittleEndian.PutUint32(hdr[4:], uint32(w))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(2*h))
	binary.LittleEndian.PutUint16(hdr[12:], 1)
	binary.LittleEndian.PutUint16(hdr[14:], uint16(bpp))
	binary.LittleEndian.PutUint32(hdr[20:], uint32((stride+maskStride)*h))
	b.Write(hdr)
	for y := h - 1; y >= 0; y-- {
		row := make([]byte, stride)
		for x := range w {
			c := m.NRGBAAt(x, y)
			if bpp == 32 {
				copy(row[4*x:], []byte{c.B, c.G, c.R, c.A})
			} else {
				copy(row[3*x:], []byte{c.B, c.G, c.R})
			}
		}
		b.Write(row)
	}
	for y := h - 1; y >= 0; y-- {
		row := make([]byte, maskStride)
		for x := range w {
			if m.NRGBAAt(x, y).A < 128 {
				row[x/8] |= 1 << (7 - x%8)
			}
		}
		b.Write(row)
	}
	return b.Bytes()
}

// ICO assembles an ICO file from entries (PNG files or ICO bitmaps).
func ICO(entries ...[]byte) []byte {
	var b bytes.Buffer
	head := []byte{0, 0, 1, 0, 0, 0}
	binary.LittleEndian.PutUint16(head[4:], uint16(len(entries)))
	b.Write(head)
	off := 6 + 16*len(entries)
	for _, e := range entries {
		w, h := 0, 0
		if bytes.HasPrefix(e, []byte("\x89PNG")) {
			if cfg, err := png.DecodeConfig(bytes.NewReader(e)); err == nil {
				w, h = cfg.Width, cfg.Height
			}
		} else if len(e) >= 12 {
			w, h = int(binary.LittleEndian.Uint32(e[4:])), int(binary.LittleEndian.Uint32(e[8:]))/2
		}
		d := make([]byte, 16)
		d[0], d[1] = byte(w%256), byte(h%256)
		binary.LittleEndian.PutUint16(d[4:], 1)
		binary.LittleEndian.PutUint16(d[6:], 32)
		binary.LittleEndian.PutUint32(d[8:], uint32(len(e)))
		binary.LittleEndian.PutUint32(d[12:], uint32(off))
		b.Write(d)
		off += len(e)
	}
	for _, e := range entries {
		b.Write(e)
	}
	return b.Bytes()
}

// HardLetters are drawn as hard negatives in the reference's own style (a
// white stroked capital on a red square): every letter but A.
const HardLetters = "BCDEFHIKLMNOPRSTUVWXYZ"

// LetterMark draws one letter as thick white strokes on a red square, in
// one of three weights: what another brand's mark in the same style
// looks like.
func LetterMark(l rune, size, weight int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	red, white := color.NRGBA{0xe6, 0x2e, 0x04, 0xff}, color.NRGBA{0xff, 0xff, 0xff, 0xff}
	th := []float64{0.1, 0.14, 0.18}[weight%3]
	for py := range size {
		for px := range size {
			x, y := (float64(px)+0.5)/float64(size), (float64(py)+0.5)/float64(size)
			c := red
			u, v := (x-0.2)/0.6, (y-0.15)/0.7
			for _, sg := range strokes[l] {
				if segDist(u*0.6, v*0.7, sg[0]*0.6, sg[1]*0.7, sg[2]*0.6, sg[3]*0.7) < th/2 {
					c = white
					break
				}
			}
			img.SetNRGBA(px, py, c)
		}
	}
	return img
}
