package all

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The packages a nightly run links may not depend on the evaluation or the
// data generator: a production binary must not carry the ground truth's
// code, and a change to the generator must not change a night's findings.
// Commands (cmd/) wire them together, and test helpers may use them.
func TestProductionImportsNoEvalOrFixtures(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := build.Default
	ctx.BuildTags = append(ctx.BuildTags, "duckdb_arrow")
	imports := map[string][]string{} // package → affwatch imports of its non-test files
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		// Build constraints count: a `//go:build ignore` generator is not
		// part of any package.
		bp, err := ctx.ImportDir(path, 0)
		if err != nil {
			if _, none := err.(*build.NoGoError); none {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(root, path)
		pkg := "affwatch/" + filepath.ToSlash(rel)
		imports[pkg] = nil
		for _, p := range bp.Imports {
			if strings.HasPrefix(p, "affwatch/") {
				imports[pkg] = append(imports[pkg], p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	forbidden := func(p string) bool {
		return p == "affwatch/eval" || strings.HasPrefix(p, "affwatch/eval/") || p == "affwatch/fixtures" || strings.HasPrefix(p, "affwatch/fixtures/")
	}
	production := func(p string) bool {
		return !forbidden(p) && !strings.HasPrefix(p, "affwatch/cmd/") && !strings.HasSuffix(p, "test")
	}
	var bad []string
	checked := 0
	for pkg := range imports {
		if !production(pkg) {
			continue
		}
		checked++
		// Breadth-first over the package's transitive affwatch imports,
		// remembering the path for the message.
		via := map[string]string{pkg: ""}
		queue := []string{pkg}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			for _, q := range imports[p] {
				if _, seen := via[q]; seen {
					continue
				}
				via[q] = p
				if forbidden(q) {
					chain := []string{q}
					for at := p; at != ""; at = via[at] {
						chain = append([]string{at}, chain...)
					}
					bad = append(bad, strings.Join(chain, " → "))
					continue
				}
				queue = append(queue, q)
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("production package depends on evaluation or fixtures: %s", b)
	}
	if checked < 20 {
		t.Fatalf("checked only %d production packages under %s: the walk is broken", checked, root)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s is not the module root: %v", root, err)
	}
}
