package logocopy

import (
	"testing"

	"affwatch/rules"
)

func benchMatcher(b *testing.B) (*Matcher, []byte) {
	pack, err := rules.Default()
	if err != nil {
		b.Fatal(err)
	}
	p, err := ParamsFrom(pack.Rules[RuleName])
	if err != nil {
		b.Fatal(err)
	}
	refs, err := LoadReferences(pack, p)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := pack.ReadLogo("brand/aliexpress.png")
	return &Matcher{Refs: refs, P: p}, raw
}

// BenchmarkPrepare: decode and fingerprint one 256 px PNG asset.
func BenchmarkPrepare(b *testing.B) {
	m, raw := benchMatcher(b)
	for b.Loop() {
		m.Prepare(raw)
	}
}

// BenchmarkPrepareICO: a favicon.ico with 16, 32 and 48 px bitmaps.
func BenchmarkPrepareICO(b *testing.B) {
	m, raw := benchMatcher(b)
	ds, _ := DecodeAll(raw, 0)
	ico := ICO(icoBMP(scale(ds[0].Img, 16, 16), 32), icoBMP(scale(ds[0].Img, 32, 32), 32), icoBMP(scale(ds[0].Img, 48, 48), 24))
	for b.Loop() {
		m.Prepare(ico)
	}
}

// BenchmarkCompare: one prepared asset against one reference (all scales).
func BenchmarkCompare(b *testing.B) {
	m, _ := benchMatcher(b)
	a := m.Prepare(encPNG(ProceduralLogo(1)))
	for b.Loop() {
		m.Compare(a, m.Refs[0])
	}
}
