package logocopy

import (
	"image"
	"math"
	"math/bits"
	"sort"
)

// gridMax bounds the grey grid an image is reduced to before hashing: the
// work per image is bounded whatever its size.
const gridMax = 256

// hashGrid bounds the trimmed picture the hashes are computed from.
const hashGrid = 128

// grid is a grey image, values 0–1, row-major.
type grid struct {
	w, h int
	v    []float64
}

func (g grid) at(x, y int) float64 { return g.v[y*g.w+x] }

// toGrid composites the image on white (transparent pixels look like the
// page behind them), converts to luma and reduces it to at most gridMax
// on its longer side by averaging up to 4×4 samples per cell.
func toGrid(img image.Image) grid {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if w > gridMax || h > gridMax {
		if w >= h {
			ow, oh = gridMax, max(1, h*gridMax/w)
		} else {
			ow, oh = max(1, w*gridMax/h), gridMax
		}
	}
	g := grid{w: ow, h: oh, v: make([]float64, ow*oh)}
	for cy := range oh {
		y0, y1 := cy*h/oh, max((cy+1)*h/oh, cy*h/oh+1)
		for cx := range ow {
			x0, x1 := cx*w/ow, max((cx+1)*w/ow, cx*w/ow+1)
			sx, sy := min(4, x1-x0), min(4, y1-y0)
			var sum float64
			for j := range sy {
				for i := range sx {
					x := b.Min.X + x0 + (x1-x0)*i/sx
					y := b.Min.Y + y0 + (y1-y0)*j/sy
					r, gg, bb, a := img.At(x, y).RGBA()
					l := (0.299*float64(r) + 0.587*float64(gg) + 0.114*float64(bb)) / 0xffff
					af := float64(a) / 0xffff
					sum += l + (1 - af) // premultiplied: composite on white
				}
			}
			g.v[cy*ow+cx] = min(1, sum/float64(sx*sy))
		}
	}
	return g
}

// stretch maps the grid's range to 0–1 (a recoloured logo keeps its
// shapes, not its contrast); a flat grid is left alone.
func (g grid) stretch() grid {
	lo, hi := 1.0, 0.0
	for _, v := range g.v {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi-lo < 0.03 {
		return g
	}
	out := grid{w: g.w, h: g.h, v: make([]float64, len(g.v))}
	for i, v := range g.v {
		out.v[i] = (v - lo) / (hi - lo)
	}
	return out
}

func (g grid) sub(x0, y0, x1, y1 int) grid {
	out := grid{w: x1 - x0, h: y1 - y0, v: make([]float64, (x1-x0)*(y1-y0))}
	for y := y0; y < y1; y++ {
		copy(out.v[(y-y0)*out.w:], g.v[y*g.w+x0:y*g.w+x1])
	}
	return out
}

// trim removes uniform borders (padding, a plain frame, the plain field
// around a mark), repeatedly, so that a padded or slightly cropped copy
// reduces to the same picture. The border colour is the corners' when
// they agree; a row or column is uniform when at most 2 % of it differs
// from it by more than trimTol.
func (g grid) trim() grid {
	const trimTol = 0.2
	for pass := 0; pass < 3; pass++ {
		if g.w < 8 || g.h < 8 {
			return g
		}
		c := []float64{g.at(0, 0), g.at(g.w-1, 0), g.at(0, g.h-1), g.at(g.w-1, g.h-1)}
		sort.Float64s(c)
		if c[3]-c[0] > trimTol {
			// three corners agreeing is enough (a mark touching one corner)
			switch {
			case c[2]-c[0] <= trimTol/2:
				c[3] = c[1]
			case c[3]-c[1] <= trimTol/2:
				c[0] = c[2]
			default:
				return g
			}
		}
		bg := (c[1] + c[2]) / 2
		uniform := func(x0, y0, dx, dy, n int) bool {
			bad := 0
			for i := range n {
				if math.Abs(g.at(x0+dx*i, y0+dy*i)-bg) > trimTol {
					bad++
				}
			}
			return bad*50 <= n
		}
		x0, y0, x1, y1 := 0, 0, g.w, g.h
		for y0 < y1-1 && uniform(x0, y0, 1, 0, x1-x0) {
			y0++
		}
		for y1-1 > y0 && uniform(x0, y1-1, 1, 0, x1-x0) {
			y1--
		}
		for x0 < x1-1 && uniform(x0, y0, 0, 1, y1-y0) {
			x0++
		}
		for x1-1 > x0 && uniform(x1-1, y0, 0, 1, y1-y0) {
			x1--
		}
		// a mark reduced to a sliver is no picture: keep what we had
		if (x1-x0)*5 < g.w && (y1-y0)*5 < g.h || x1-x0 < 4 || y1-y0 < 4 {
			return g
		}
		if x0 == 0 && y0 == 0 && x1 == g.w && y1 == g.h {
			return g
		}
		// the row or column where the border meets the picture is a
		// blend of both after any resampling: drop it with the border
		if y0 > 0 && y1-y0 > 8 {
			y0++
		}
		if y1 < g.h && y1-y0 > 8 {
			y1--
		}
		if x0 > 0 && x1-x0 > 8 {
			x0++
		}
		if x1 < g.w && x1-x0 > 8 {
			x1--
		}
		g = g.sub(x0, y0, x1, y1).stretch()
	}
	return g
}

// centreCrop keeps the middle frac of each side.
func (g grid) centreCrop(frac float64) grid {
	cw, ch := max(1, int(math.Round(float64(g.w)*frac))), max(1, int(math.Round(float64(g.h)*frac)))
	x0, y0 := (g.w-cw)/2, (g.h-ch)/2
	return g.sub(x0, y0, x0+cw, y0+ch)
}

// tap is the input span and weights of one output cell of a resampling.
type tap struct {
	j0 int
	w  []float64
}

// taps resizes a line of m cells to n: area averaging when shrinking,
// linear interpolation when enlarging.
func taps(m, n int) []tap {
	out := make([]tap, n)
	if m >= n {
		scale := float64(m) / float64(n)
		for i := range n {
			a, b := float64(i)*scale, float64(i+1)*scale
			t := tap{j0: int(a)}
			for j := int(a); j < m && float64(j) < b; j++ {
				lo, hi := max(a, float64(j)), min(b, float64(j+1))
				t.w = append(t.w, (hi-lo)/scale)
			}
			out[i] = t
		}
		return out
	}
	for i := range n {
		x := (float64(i)+0.5)*float64(m)/float64(n) - 0.5
		x = max(0, min(float64(m-1), x))
		j := int(x)
		f := x - float64(j)
		if j+1 < m {
			out[i] = tap{j0: j, w: []float64{1 - f, f}}
		} else {
			out[i] = tap{j0: j, w: []float64{1}}
		}
	}
	return out
}

func (g grid) resize(w, h int) grid {
	tx, ty := taps(g.w, w), taps(g.h, h)
	tmp := make([]float64, w*g.h)
	for y := range g.h {
		row := g.v[y*g.w : (y+1)*g.w]
		for x, t := range tx {
			var s float64
			for k, wt := range t.w {
				s += row[t.j0+k] * wt
			}
			tmp[y*w+x] = s
		}
	}
	out := grid{w: w, h: h, v: make([]float64, w*h)}
	for y, t := range ty {
		for x := range w {
			var s float64
			for k, wt := range t.w {
				s += tmp[(t.j0+k)*w+x] * wt
			}
			out.v[y*w+x] = s
		}
	}
	return out
}

// Hash is a bit string of 64 or 256 bits.
type Hash []uint64

// Distance is the Hamming distance of two hashes of the same kind.
func Distance(a, b Hash) int {
	d := 0
	for i := range min(len(a), len(b)) {
		d += bits.OnesCount64(a[i] ^ b[i])
	}
	return d
}

func setBit(h Hash, i int) { h[i/64] |= 1 << uint(63-i%64) }

// dHash compares horizontally adjacent cells of an (n+1)×n reduction and
// vertically adjacent cells of an n×(n+1) one: 2n² bits.
func dHash(g grid, n int) Hash {
	h := make(Hash, (2*n*n+63)/64)
	r := g.resize(n+1, n)
	i := 0
	for y := range n {
		for x := range n {
			if r.at(x, y) < r.at(x+1, y) {
				setBit(h, i)
			}
			i++
		}
	}
	c := g.resize(n, n+1)
	for y := range n {
		for x := range n {
			if c.at(x, y) < c.at(x, y+1) {
				setBit(h, i)
			}
			i++
		}
	}
	return h
}

var cosTables = map[int][]float64{}

func cosTable(n int) []float64 {
	if t, ok := cosTables[n]; ok {
		return t
	}
	t := make([]float64, n*n)
	for u := range n {
		for x := range n {
			t[u*n+x] = math.Cos(math.Pi * float64(u) * (2*float64(x) + 1) / float64(2*n))
		}
	}
	cosTables[n] = t
	return t
}

func init() {
	cosTable(32)
	cosTable(64)
}

// pHash is the DCT hash: reduce to size×size, take the k×k lowest
// frequencies and set a bit for each above their median (the DC term is
// left out of the median).
func pHash(g grid, size, k int) Hash {
	r := g.resize(size, size)
	t := cosTable(size)
	// rows: only the k lowest frequencies are needed
	tmp := make([]float64, size*k)
	for y := range size {
		for u := range k {
			var s float64
			for x := range size {
				s += r.v[y*size+x] * t[u*size+x]
			}
			tmp[y*k+u] = s
		}
	}
	coef := make([]float64, k*k)
	for v := range k {
		for u := range k {
			var s float64
			for y := range size {
				s += tmp[y*k+u] * t[v*size+y]
			}
			coef[v*k+u] = s
		}
	}
	sorted := append([]float64(nil), coef[1:]...)
	sort.Float64s(sorted)
	med := sorted[len(sorted)/2]
	h := make(Hash, (k*k+63)/64)
	for i, c := range coef {
		if c > med {
			setBit(h, i)
		}
	}
	return h
}

// Kinds of hashes, and their lengths in bits.
const (
	DHash8   = "dhash8"  // 2×8×8 bits
	DHash16  = "dhash16" // 2×16×16 bits
	PHash8   = "phash8"  // 8×8 of 32×32
	PHash16  = "phash16" // 16×16 of 64×64
	nKinds   = 4
	maxCrops = 3
)

// Kinds lists the hash kinds in a fixed order; Bits their lengths.
var (
	Kinds = [nKinds]string{DHash8, DHash16, PHash8, PHash16}
	Bits  = [nKinds]int{128, 512, 64, 256}
)

// Fingerprint is the hashes of one picture: per variant (the trimmed
// picture and its centre crops), one hash of each kind.
type Fingerprint struct {
	W, H     int // trimmed size in the grey grid
	Variants [][nKinds]Hash
}

// Crops are the centre crops compared besides the whole trimmed picture.
var Crops = []float64{1, 0.9, 0.8}

// FingerprintOf computes the hashes of a decoded picture.
func FingerprintOf(img image.Image) Fingerprint {
	return fingerprintGrid(toGrid(img))
}

// RefScales are the sizes (longer side, in pixels) a reference is also
// reduced to before hashing: a 16-pixel favicon has lost the detail the
// finer hashes see, and is compared with the reference reduced alike.
var RefScales = []int{16, 24, 32, 48, 64, 96, 128}

// ReferenceFingerprints are a reference picture's fingerprints: as it is
// and reduced to each of RefScales smaller than it (area averaging).
func ReferenceFingerprints(img image.Image) []Fingerprint {
	g := toGrid(img)
	out := []Fingerprint{fingerprintGrid(g)}
	for _, s := range RefScales {
		if s >= max(g.w, g.h) {
			continue
		}
		w, h := s, max(1, g.h*s/g.w)
		if g.h > g.w {
			w, h = max(1, g.w*s/g.h), s
		}
		out = append(out, fingerprintGrid(g.resize(w, h)))
	}
	return out
}

func fingerprintGrid(g grid) Fingerprint {
	g = g.stretch().trim()
	fp := Fingerprint{W: g.w, H: g.h}
	// the hashes read at most 64×64 cells: 128 on the longer side keeps
	// the area averaging exact enough and bounds the work
	if g.w > hashGrid || g.h > hashGrid {
		if g.w >= g.h {
			g = g.resize(hashGrid, max(1, g.h*hashGrid/g.w))
		} else {
			g = g.resize(max(1, g.w*hashGrid/g.h), hashGrid)
		}
	}
	for _, c := range Crops {
		v := g
		if c != 1 {
			v = g.centreCrop(c)
		}
		fp.Variants = append(fp.Variants, [nKinds]Hash{dHash(v, 8), dHash(v, 16), pHash(v, 32, 8), pHash(v, 64, 16)})
	}
	return fp
}

// Distances are the smallest distances of each kind between two
// fingerprints over the pairs of variants that are closest overall
// (normalized sum), so all four come from the same alignment.
type Distances [nKinds]int

// Norm is the mean of the distances as fractions of their lengths.
func (d Distances) Norm() float64 {
	var s float64
	for i, v := range d {
		s += float64(v) / float64(Bits[i])
	}
	return s / nKinds
}

// Compare returns the distances of the best-aligned pair of variants.
func Compare(a, b Fingerprint) Distances {
	var best Distances
	bestN := math.Inf(1)
	for _, va := range a.Variants {
		for _, vb := range b.Variants {
			var d Distances
			for k := range nKinds {
				d[k] = Distance(va[k], vb[k])
			}
			if n := d.Norm(); n < bestN {
				best, bestN = d, n
			}
		}
	}
	return best
}
