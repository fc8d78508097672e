package rules

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadPack feeds arbitrary pack files (alone and laid over the
// default): loading never panics, and every failure is a ValidationError
// naming the pack, so the command line always says "rule pack" and exits 2.
func FuzzLoadPack(f *testing.F) {
	for _, seed := range []string{
		"extends: default\nrules:\n  click_burst:\n    thresholds:\n      min_modified_z: 4.5\n",
		"extends: default\ncommission:\n  cis_countries: [!remove GE, UA]\n",
		"extends: default\nbrands:\n  - name: AliExpress\n    keywords: [!remove alimama]\n",
		"extends: default\nallowlist: !replace []\npenalties:\n  corrections: !remove\n",
		"version: \"1\"\nrules: {x: {thresholds: {a: .nan}}}\n",
		"extends: default\nrules: !remove\n",
		"extends: default\n&a x: *a\n",
		"- just\n- a list\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "pack.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(path)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is not a ValidationError: %T %v", err, err)
			}
			return
		}
		if p.Version == "" {
			t.Fatal("a pack without a version loaded")
		}
		if _, err := p.Diff(); err != nil {
			t.Fatalf("diff of a valid pack: %v", err)
		}
	})
}
