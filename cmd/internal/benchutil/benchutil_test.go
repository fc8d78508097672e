package benchutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendMarkdownCreatesAndAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	for _, s := range []string{"one\n", "two\n"} {
		if err := AppendMarkdown(path, s); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "one\ntwo\n" {
		t.Errorf("file holds %q, want both appends in order", b)
	}
}

func TestReadRun(t *testing.T) {
	dir := t.TempDir()
	manifest := `{"timings":[{"stage":"load","seconds":1.5},{"stage":"detect","seconds":2},{"stage":"load","seconds":0.5}],
		"counts":{"findings":7,"recommendations":5},"inputs":[{"rows_read":100},{"rows_read":23}]}`
	if err := os.WriteFile(filepath.Join(dir, "run.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Stages["load"] != 2 || r.Stages["detect"] != 2 || r.Findings != 7 || r.Recommendations != 5 || r.RowsRead != 123 {
		t.Errorf("ReadRun = %+v", r)
	}
	os.WriteFile(filepath.Join(dir, "run.json"), []byte("{"), 0o644)
	if _, err := ReadRun(dir); err == nil || !strings.Contains(err.Error(), "run.json") {
		t.Errorf("a broken run.json: error %v, want one naming the file", err)
	}
}

func TestLoadAvg(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		t.Skip("no /proc/loadavg on this system: LoadAvg says ?")
	}
	if f := strings.Fields(LoadAvg()); len(f) != 3 {
		t.Errorf("LoadAvg() = %q, want three figures", LoadAvg())
	}
}
