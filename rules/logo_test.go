package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestReadLogoEmbedded(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range p.Brands {
		for _, l := range b.Logos {
			data, err := p.ReadLogo(l)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			if !bytes.HasPrefix(data, []byte("\x89PNG")) {
				t.Errorf("%s: not a PNG", l)
			}
		}
	}
	for _, bad := range []string{"", "../default.yaml", "/etc/passwd", "brand/../../x", "brand/missing.png"} {
		if _, err := p.ReadLogo(bad); err == nil {
			t.Errorf("ReadLogo(%q) succeeded", bad)
		}
	}
}

func TestReadLogoPackDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "brand"), 0o755)
	os.WriteFile(filepath.Join(dir, "brand", "mine.png"), []byte("mine"), 0o644)
	pf := filepath.Join(dir, "pack.yaml")
	os.WriteFile(pf, []byte("extends: default\n"), 0o644)
	p, err := Load(pf)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p.ReadLogo("brand/mine.png"); err != nil || string(b) != "mine" {
		t.Errorf("pack-relative logo: %q %v", b, err)
	}
	// inherited from the default pack, absent beside this file: embedded
	if b, err := p.ReadLogo("brand/aliexpress.png"); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("inherited logo: %v", err)
	}
}
