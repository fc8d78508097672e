package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"image"
	"image/draw"
	"image/png"
	"strings"

	"affwatch/detectors/logocopy"
	"affwatch/rules"
)

// Bounds of the logo pictures. Crawled bytes are hostile: they are decoded
// within a pixel cap (dimensions read from the header first), reduced and
// re-encoded as PNG; neither the raw bytes nor any SVG ever reach the page.
const (
	// MaxLogoPairs caps the reference/found pairs drawn in one report
	// (each embeds two small PNGs); later findings keep their evidence
	// table and distances.
	MaxLogoPairs = 100
	// LogoThumbPixels is the longest side of an embedded picture.
	LogoThumbPixels = 128
	// maxLogoPixels caps the pictures decoded for the report (the
	// detector's cap is larger; a bigger picture is not drawn here).
	maxLogoPixels = 2048 * 2048
	// maxLogoBytes is the most of an asset read from the database (the
	// crawler keeps 256 KiB).
	maxLogoBytes = 1 << 20
)

// logoPair is a logo_copy finding's reference logo beside the picture
// found on the publisher's site.
type logoPair struct {
	RefSrc, FoundSrc     template.URL // data:image/png;base64 of our own PNG encoding
	RefNote, FoundNote   string       // why a picture is not shown
	RefLabel, FoundLabel string
	RefSize, FoundSize   string
	Distances            []logoDistance
	Verdict              string
}

type logoDistance struct {
	Hash, Distance, Max, Bits string
	Over                      bool
}

// logoRequest is what a logo_copy finding's evidence names.
type logoRequest struct {
	crawlID, assetURL, sha string
	refPath, refSHA        string
	width, height          int
	pair                   *logoPair
}

// logoRequestFor reads a logo_copy finding's evidence: its reference and
// its best-matching asset, and lays out the distances.
func logoRequestFor(ev *jsonValue) *logoRequest {
	ref, best := ev.get("reference"), ev.get("best")
	if ref == nil || best == nil {
		return nil
	}
	r := &logoRequest{
		crawlID: evStr(best, "crawl_id"), assetURL: evStr(best, "asset_url"), sha: evStr(best, "sha256"),
		refPath: evStr(ref, "path"), refSHA: evStr(ref, "sha256"),
	}
	w, _ := evNum(best, "width")
	h, _ := evNum(best, "height")
	r.width, r.height = int(w), int(h)
	rw, _ := evNum(ref, "width")
	rh, _ := evNum(ref, "height")
	p := &logoPair{
		RefLabel:   truncateRunes(strings.TrimSpace(evStr(ev, "brand")+" reference logo "+r.refPath), MaxEvidenceCellRunes),
		RefSize:    fmt.Sprintf("%d×%d px", int(rw), int(rh)),
		FoundLabel: truncateRunes(evStr(best, "kind")+" "+r.assetURL, MaxEvidenceCellRunes),
		FoundSize:  fmt.Sprintf("%d×%d px", r.width, r.height),
	}
	thresholds, bits := ev.get("thresholds"), ev.get("hash_bits")
	if d := best.get("distances"); d != nil && d.kind == jsonObject {
		for i, k := range d.keys {
			ld := logoDistance{Hash: truncateRunes(k, 40), Distance: d.elems[i].display(20)}
			if b, ok := evNum(bits, k); ok {
				ld.Bits = qty(b)
			}
			if m, ok := evNum(thresholds, k+"_max"); ok {
				ld.Max = qty(m)
				if x, ok := evNum(d, k); ok && x > m {
					ld.Over = true
				}
			}
			p.Distances = append(p.Distances, ld)
		}
	}
	mean, okMean := evNum(best, "mean_distance")
	switch {
	case evStr(best, "exact_match") == "true":
		p.Verdict = "byte-identical to the reference file"
	case okMean:
		p.Verdict = fmt.Sprintf("mean normalized distance %s", qty(mean))
		if m, ok := evNum(thresholds, "mean_distance_max"); ok {
			p.Verdict += fmt.Sprintf(" (a match is at most %s; 0 is the same picture)", qty(m))
		}
	}
	if cb := evStr(best, "compared_by"); cb != "" && cb != "bytes" {
		p.Verdict = strings.TrimPrefix(p.Verdict+"; compared by "+cb, "; ")
	}
	r.pair = p
	return r
}

// logoAssets reads the bytes of the requested assets in one query, keyed
// by crawl id, URL and hash.
func logoAssets(ctx context.Context, db *sql.DB, reqs []*logoRequest) (map[[3]string][]byte, error) {
	out := map[[3]string][]byte{}
	var crawls, urls, shas []string
	for _, r := range reqs {
		if r.crawlID == "" {
			continue
		}
		crawls, urls, shas = append(crawls, r.crawlID), append(urls, r.assetURL), append(shas, r.sha)
	}
	if len(crawls) == 0 {
		return out, nil
	}
	err := eachHTMLRow(ctx, db, "LogoAssets", []any{crawls, urls, shas, maxLogoBytes}, func(rows *sql.Rows) error {
		var k [3]string
		var b []byte
		if err := rows.Scan(&k[0], &k[1], &k[2], &b); err != nil {
			return err
		}
		out[k] = b
		return nil
	})
	return out, err
}

// refLogos reads the pack's reference logos, once each, checked against
// the hash the finding recorded (a pack edited since the run would show
// another picture).
type refLogos struct {
	pack    *rules.Pack
	packErr error
	loaded  bool
	source  string
	cache   map[string]refLogo
}

type refLogo struct {
	src  template.URL
	note string
}

func newRefLogos(source string) *refLogos {
	return &refLogos{source: source, cache: map[string]refLogo{}}
}

func (l *refLogos) get(path, wantSHA string) refLogo {
	key := path + "\x00" + wantSHA
	if r, ok := l.cache[key]; ok {
		return r
	}
	if !l.loaded {
		l.loaded = true
		l.pack, l.packErr = rules.Load(l.source)
	}
	var r refLogo
	switch {
	case l.packErr != nil:
		r.note = "The rule pack could not be read to show the reference (" + l.packErr.Error() + ")."
	default:
		b, err := l.pack.ReadLogo(path)
		if err != nil {
			r.note = "The reference logo could not be read: " + err.Error() + "."
			break
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); wantSHA != "" && got != wantSHA {
			r.note = "The pack's reference logo has changed since the run (sha256 " + got[:12] + "…): not shown."
			break
		}
		r.src, r.note = thumbnailURL(b, 0, 0)
	}
	l.cache[key] = r
	return r
}

// thumbnailURL decodes an image within the pixel cap (the picture of size
// w×h when the file holds several, as an ICO does; the largest otherwise),
// reduces it to at most LogoThumbPixels a side and returns it as a PNG data
// URL; or, when it cannot, why.
func thumbnailURL(b []byte, w, h int) (template.URL, string) {
	pics, errs := logocopy.DecodeAll(b, maxLogoPixels)
	if len(pics) == 0 {
		why := "unknown format"
		if len(errs) > 0 {
			why = errs[0].Error()
		}
		return "", "The picture could not be decoded safely (" + truncateRunes(why, 120) + "): not shown."
	}
	pick := 0
	for i, p := range pics {
		if p.Width == w && p.Height == h {
			pick = i
			break
		}
		if p.Width*p.Height > pics[pick].Width*pics[pick].Height {
			pick = i
		}
	}
	img := thumbnail(pics[pick].Img, LogoThumbPixels)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", "The picture could not be re-encoded: not shown."
	}
	// The URL is built here from our own encoding only, so it is safe to
	// mark as such for html/template (which refuses data: URLs otherwise).
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), ""
}

// thumbnail reduces img to fit side×side by averaging the source pixels
// each target pixel covers (alpha-weighted, so a transparent border does
// not darken the edge); a smaller picture is kept at its size (the page
// scales it up without smoothing).
func thumbnail(img image.Image, side int) *image.NRGBA {
	b := img.Bounds()
	src := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	sw, sh := b.Dx(), b.Dy()
	tw, th := sw, sh
	if sw > side || sh > side {
		if sw >= sh {
			tw, th = side, max(1, sh*side/sw)
		} else {
			tw, th = max(1, sw*side/sh), side
		}
	}
	if tw == sw && th == sh {
		return src
	}
	dst := image.NewNRGBA(image.Rect(0, 0, tw, th))
	for ty := 0; ty < th; ty++ {
		y0, y1 := ty*sh/th, max(ty*sh/th+1, (ty+1)*sh/th)
		for tx := 0; tx < tw; tx++ {
			x0, x1 := tx*sw/tw, max(tx*sw/tw+1, (tx+1)*sw/tw)
			var r, g, bl, a, n uint64
			for y := y0; y < y1; y++ {
				row := src.Pix[y*src.Stride:]
				for x := x0; x < x1; x++ {
					p := row[4*x : 4*x+4]
					pa := uint64(p[3])
					r += uint64(p[0]) * pa
					g += uint64(p[1]) * pa
					bl += uint64(p[2]) * pa
					a += pa
					n++
				}
			}
			o := dst.Pix[ty*dst.Stride+4*tx:]
			if a > 0 {
				o[0], o[1], o[2] = uint8(r/a), uint8(g/a), uint8(bl/a)
			}
			o[3] = uint8(a / n)
		}
	}
	return dst
}

// attachLogo fills a request's pair from the asset bytes found (if any)
// and the reference.
func attachLogo(r *logoRequest, assets map[[3]string][]byte, refs *refLogos) {
	p := r.pair
	ref := refs.get(r.refPath, r.refSHA)
	p.RefSrc, p.RefNote = ref.src, ref.note
	b, ok := assets[[3]string{r.crawlID, r.assetURL, r.sha}]
	switch {
	case !ok:
		p.FoundNote = "The crawler kept no bytes of this picture (over its storage cap, or crawled in another database): only its hashes were compared."
	default:
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); r.sha != "" && got != r.sha {
			p.FoundNote = "The stored bytes differ from those the detector compared (sha256 " + got[:12] + "…): not shown."
			return
		}
		p.FoundSrc, p.FoundNote = thumbnailURL(b, r.width, r.height)
	}
}
