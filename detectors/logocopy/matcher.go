package logocopy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"affwatch/crawler"
	"affwatch/rules"
)

// Params are the rule's thresholds (rules.logo_copy.thresholds in the
// pack), decoded and range-checked when the pack loads.
type Params struct {
	// Hamming distances at most which a picture matches a reference; all
	// must hold, on the best-aligned pair of variants (whole trimmed
	// picture or a centre crop, reference at one of its scales).
	DHash8Max  int `yaml:"dhash8_max" range:"[0,128]"`
	DHash16Max int `yaml:"dhash16_max" range:"[0,512]"`
	PHash8Max  int `yaml:"phash8_max" range:"[0,64]"`
	PHash16Max int `yaml:"phash16_max" range:"[0,256]"`
	// MeanDistanceMax bounds the mean of the four distances as fractions
	// of their lengths.
	MeanDistanceMax float64 `yaml:"mean_distance_max" range:"[0,1]"`
	MaxPixels       int     `yaml:"max_pixels" range:"[1,]"`      // decode cap per picture (width × height)
	MaxAssetBytes   int     `yaml:"max_asset_bytes" range:"[1,]"` // bytes of an asset examined (the crawler keeps ≤ 256 KiB)
	MinSide         int     `yaml:"min_side" range:"[1,]"`        // pictures smaller than this on either side are not compared
	MaxAssets       int     `yaml:"max_assets" range:"[1,1000]"`  // matching assets listed per finding
	ScoreExact      float64 `yaml:"score_exact" range:"[0,1]"`    // score of a byte-identical copy
	ScoreMatch      float64 `yaml:"score_match" range:"[0,1]"`    // score of a perceptual match at distance 0 …
	ScoreEdge       float64 `yaml:"score_edge" range:"[0,1]"`     // … falling to this at the thresholds
	// AHashMax and ScoreAHash judge an asset whose bytes the crawler did
	// not keep (over its storage cap) by the crawler's 64-bit average
	// hash alone: a weak signal.
	AHashMax   int     `yaml:"ahash_max" range:"[0,64]"`
	ScoreAHash float64 `yaml:"score_ahash" range:"[0,1]"`
}

var thresholds = rules.Declare[Params](RuleName)

// ParamsFrom reads the rule's thresholds.
func ParamsFrom(r rules.Rule) (Params, error) { return thresholds.From(r) }

func (p Params) maxes() [nKinds]float64 {
	return [nKinds]float64{float64(p.DHash8Max), float64(p.DHash16Max), float64(p.PHash8Max), float64(p.PHash16Max)}
}

// Reference is one reference logo of a brand.
type Reference struct {
	Brand, Path string
	SHA256      string
	Width       int
	Height      int
	FPs         []Fingerprint
	// AHashes are the crawler's average hashes of the reference at the
	// sizes of RefScales and as it is (crawler.InspectImage).
	AHashes []uint64
}

// LoadReferences reads and fingerprints every logo of the pack's brands.
func LoadReferences(pack *rules.Pack, p Params) ([]Reference, error) {
	var out []Reference
	for _, b := range pack.Brands {
		for _, path := range b.Logos {
			data, err := pack.ReadLogo(path)
			if err != nil {
				return nil, err
			}
			ds, errs := DecodeAll(data, int64(p.MaxPixels))
			if len(ds) == 0 {
				return nil, fmt.Errorf("%s: reference logo %s of %s: %v", pack.Source, path, b.Name, errs)
			}
			sum := sha256.Sum256(data)
			ref := Reference{Brand: b.Name, Path: path, SHA256: hex.EncodeToString(sum[:]), Width: ds[0].Width, Height: ds[0].Height}
			for _, d := range ds {
				ref.FPs = append(ref.FPs, ReferenceFingerprints(d.Img)...)
				for _, s := range append([]int{0, 256, 512}, RefScales...) {
					b := data
					if s > 0 {
						b = encPNG(scale(d.Img, s, s*d.Height/max(1, d.Width)))
					}
					if h, ok := parseAHash(crawler.InspectImage(b, int64(p.MaxPixels)).AHash); ok {
						ref.AHashes = append(ref.AHashes, h)
					}
				}
			}
			out = append(out, ref)
		}
	}
	return out, nil
}

// Match is how an asset compares with one reference.
type Match struct {
	Exact     bool      // byte-identical (sha256)
	Matched   bool      // exact, or every distance within its threshold
	Distances Distances // of the closest picture of the asset
	Mean      float64   // mean normalized distance
	Picture   int       // which picture of the asset (ICO entry order)
	Format    string
	Width     int
	Height    int
	Score     float64
}

// Matcher compares assets with the references.
type Matcher struct {
	Refs []Reference
	P    Params
}

// Asset is an asset's bytes, decoded and fingerprinted once.
type Asset struct {
	SHA256   string
	Pictures []Decoded
	FPs      []Fingerprint
	Problems []string
}

// Prepare decodes and fingerprints an asset's bytes within the caps.
func (m *Matcher) Prepare(b []byte) Asset {
	if len(b) > m.P.MaxAssetBytes {
		b = b[:m.P.MaxAssetBytes]
	}
	sum := sha256.Sum256(b)
	a := Asset{SHA256: hex.EncodeToString(sum[:])}
	ds, errs := DecodeAll(b, int64(m.P.MaxPixels))
	for _, e := range errs {
		a.Problems = append(a.Problems, e.Error())
	}
	for _, d := range ds {
		if d.Width < m.P.MinSide || d.Height < m.P.MinSide {
			a.Problems = append(a.Problems, fmt.Sprintf("%s %d×%d: smaller than %d pixels", d.Format, d.Width, d.Height, m.P.MinSide))
			continue
		}
		a.Pictures = append(a.Pictures, Decoded{Format: d.Format, Width: d.Width, Height: d.Height})
		a.FPs = append(a.FPs, FingerprintOf(d.Img))
	}
	return a
}

// Compare returns the asset's closest comparison with a reference.
func (m *Matcher) Compare(a Asset, ref Reference) Match {
	best := Match{Mean: math.Inf(1), Picture: -1}
	maxes := m.P.maxes()
	for i, fp := range a.FPs {
		for _, rfp := range ref.FPs {
			d := Compare(rfp, fp)
			if n := d.Norm(); n < best.Mean {
				pic := a.Pictures[i]
				best = Match{Distances: d, Mean: n, Picture: i, Format: pic.Format, Width: pic.Width, Height: pic.Height}
			}
		}
	}
	best.Exact = a.SHA256 == ref.SHA256
	if best.Picture >= 0 {
		best.Matched = best.Mean <= m.P.MeanDistanceMax
		for k, v := range best.Distances {
			if float64(v) > maxes[k] {
				best.Matched = false
			}
		}
		// the score falls with the mean distance: the single hashes are
		// gates (the finer ones are noisy on a 16–32 px favicon)
		if best.Matched {
			f := math.Min(1, best.Mean/math.Max(m.P.MeanDistanceMax, 1e-9))
			best.Score = m.P.ScoreMatch - (m.P.ScoreMatch-m.P.ScoreEdge)*f
		}
	} else {
		best.Mean = 1
	}
	if best.Exact {
		best.Matched, best.Score = true, m.P.ScoreExact
	}
	best.Score = math.Round(best.Score*1000) / 1000
	best.Mean = math.Round(best.Mean*1000) / 1000
	return best
}

func parseAHash(s string) (uint64, bool) {
	if len(s) != 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return v, err == nil
}

// AHashMatch is how the crawler's average hash of an asset whose bytes
// were not kept compares with a reference: the smallest Hamming distance
// over the reference's sizes.
type AHashMatch struct {
	Distance int
	Matched  bool
	Score    float64
}

// CompareAHash compares the crawler's average hash (hex) with a reference.
func (m *Matcher) CompareAHash(hexHash string, ref Reference) (AHashMatch, bool) {
	h, ok := parseAHash(hexHash)
	if !ok || len(ref.AHashes) == 0 {
		return AHashMatch{}, false
	}
	best := 65
	for _, r := range ref.AHashes {
		best = min(best, bits.OnesCount64(h^r))
	}
	am := AHashMatch{Distance: best, Matched: best <= m.P.AHashMax}
	if am.Matched {
		am.Score = m.P.ScoreAHash
	}
	return am, true
}
