package main

import (
	"encoding/csv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// scan proposes the pages of a snapshot's HEAD that match the required
// pattern, leaving out the paths --skip-path names (an admin view, a
// developer's notes) and pages with too few words, on a real git
// repository laid out as the mirror is (<mirror>/<owner>+<name>/repo).
func TestScanSkipsDeveloperFiles(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	mirror := t.TempDir()
	work := filepath.Join(mirror, "owner+site", "repo")
	words := strings.Repeat("Our hotel escort agency offers companions by the hour with rates and booking. ", 8)
	files := map[string]string{
		"index.html":           "<html><head><title>Escorts</title></head><body><p>" + words + "</p></body></html>",
		"rates.php":            "<?php echo 1; ?><html><body><p>" + words + "</p></body></html>",
		"admin/dashboard.html": "<html><body><p>" + words + "</p></body></html>",
		"README.md":            "# Site\n\n" + words,
		"contact.html":         "<html><body><p>Write to us.</p></body></html>",
		"about.html":           "<html><body><p>" + strings.Repeat("We are a family of bakers selling bread since 1920. ", 10) + "</p></body></html>",
	}
	for name, body := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-q", "-m", "pages"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	err = scan([]string{"--repo", "owner/site", "--mirror", mirror, "--label", "adult", "--require", "escort", "--skip-path", `admin/|readme`, "--why", "escort agency"})
	w.Close()
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, row := range rows {
		paths = append(paths, row[3])
		if row[6] != "adult" || row[8] != "owner/site" || row[10] != "escort agency" || row[5] != "en" {
			t.Errorf("row %v", row)
		}
	}
	sort.Strings(paths)
	if strings.Join(paths, ",") != "index.html,rates.php" {
		t.Errorf("proposed %v, want index.html and rates.php (admin, README, the short contact page and the bakery's about page left out)", paths)
	}
}

// promote moves the pending rows to the end of the manifest and leaves the
// pending file with its header; a pending row the manifest already has
// leaves both files untouched.
func TestPromote(t *testing.T) {
	dir := t.TempDir()
	head := "id,repo,commit,path,sha256,language,label,adjacent,group,labeller,reason\n"
	row := func(id, path string) string {
		return id + ",o/site," + strings.Repeat("a", 40) + "," + path + "," + strings.Repeat("b", 64) + ",en,gambling,0,o/site,agent,casino bonus page\n"
	}
	manifest, pending := filepath.Join(dir, "manifest.csv"), filepath.Join(dir, "pending.csv")
	write := func(name, s string) {
		if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write(manifest, head+row("a.html", "a.html"))
	write(pending, head+row("b.html", "b.html")+row("c.html", "c.html"))
	if err := promote([]string{"--manifest", manifest, "--pending", pending}); err != nil {
		t.Fatal(err)
	}
	if got, want := read(manifest), head+row("a.html", "a.html")+row("b.html", "b.html")+row("c.html", "c.html"); got != want {
		t.Errorf("manifest:\n%s\nwant:\n%s", got, want)
	}
	if got := read(pending); got != head {
		t.Errorf("pending = %q, want the header only", got)
	}

	write(pending, head+row("a.html", "a.html"))
	before := read(manifest)
	err := promote([]string{"--manifest", manifest, "--pending", pending})
	if err == nil || !strings.Contains(err.Error(), "already on line 2") {
		t.Errorf("err = %v, want the repeated id refused", err)
	}
	if read(manifest) != before || read(pending) != head+row("a.html", "a.html") {
		t.Error("a refused promotion changed the files")
	}
}
