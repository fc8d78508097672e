// Command content-corpus keeps the corpus of real pages of issue 18
// outside the repository: `scan` proposes manifest rows from a fetched
// snapshot of a public repository (its HTML, PHP and Markdown (and MDX) pages with
// enough visible text, one label for the pages that pass a required
// pattern), `build` copies every manifest row's file out of the snapshots
// into the cache (.cache/content-corpus), checking each file's hash.
//
// Only the manifest is committed; the pages are third-party text.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"affwatch/crawler"
	"affwatch/fixtures/pages/real"
)

const usage = `content-corpus keeps the real-page corpus of the prohibited_content classifier.

Usage:
  content-corpus build [--manifest FILE] [--mirror DIR] [--cache DIR]
      copy every manifest row's page out of the git snapshots under DIR
      (<mirror>/<owner>+<name>/repo) into the cache, verifying its sha256;
      prints how many pages were written, present and unreachable.
  content-corpus promote [--manifest FILE] [--pending FILE]
      move the rows waiting for the next training (pending.csv) to the
      end of the manifest, leaving pending.csv with its header only; run
      it right before retraining on the whole corpus (make train-content).
  content-corpus scan --repo OWNER/NAME --label LABEL --why TEXT [flags]
      print manifest rows (CSV, no header) for the pages of a snapshot's
      HEAD whose visible text has at least --min-words words and matches
      --require; --preview prints each page's text head to stderr instead.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "scan":
		err = scan(os.Args[2:])
	case "promote":
		err = promote(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "content-corpus: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "content-corpus: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	manifest := fs.String("manifest", "", "manifest CSV (default: the committed fixtures/pages/real/manifest.csv)")
	mirror := fs.String("mirror", real.DefaultMirror, "directory of fetched git snapshots, <owner>+<name>/repo")
	cache := fs.String("cache", real.DefaultCache, "directory the pages are written to")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	var rows []real.Row
	var err error
	if *manifest == "" {
		// the pages waiting for the next training too: a round's new
		// pages are measured (train-content --pending) before they are
		// promoted
		rows, err = real.Manifest()
		if err == nil {
			var pending []real.Row
			pending, err = real.Pending()
			rows = append(rows, pending...)
		}
	} else {
		f, ferr := os.Open(*manifest)
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		rows, err = real.ParseManifest(f, *manifest)
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*cache, 0o755); err != nil {
		return err
	}
	var wrote, present, unreachable int
	missingRepos := map[string]int{}
	for _, r := range rows {
		dst := filepath.Join(*cache, r.ID)
		if b, err := os.ReadFile(dst); err == nil && hash(b) == r.SHA256 {
			present++
			continue
		}
		gd, err := real.GitDir(*mirror, r.Repo)
		if err != nil {
			missingRepos[r.Repo]++
			unreachable++
			continue
		}
		b, err := real.Show(gd, r.Commit, r.Path)
		if err != nil {
			missingRepos[r.Repo]++
			unreachable++
			continue
		}
		if hash(b) != r.SHA256 {
			return fmt.Errorf("%s %s@%s: sha256 %s, the manifest says %s", r.Repo, r.Path, r.Commit[:12], hash(b), r.SHA256)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
		wrote++
	}
	what := "in " + *manifest
	if *manifest == "" {
		what = "in the manifest and pending.csv"
	}
	fmt.Printf("%d pages %s: %d written, %d already present, %d unreachable\n", len(rows), what, wrote, present, unreachable)
	var names []string
	for n := range missingRepos {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("  unreachable: %s (%d pages): fetch a snapshot of it into %s\n", n, missingRepos[n], *mirror)
	}
	return nil
}

// promote appends the pending rows to the manifest. Both files are
// parsed first and the result is parsed again before anything is
// written, so a bad or repeated row leaves both files as they were.
func promote(args []string) error {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	manifest := fs.String("manifest", "fixtures/pages/real/manifest.csv", "the manifest the model is trained from")
	pending := fs.String("pending", "fixtures/pages/real/pending.csv", "rows waiting for the next training")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	mb, err := os.ReadFile(*manifest)
	if err != nil {
		return err
	}
	pb, err := os.ReadFile(*pending)
	if err != nil {
		return err
	}
	if _, err := real.ParseManifest(bytes.NewReader(mb), *manifest); err != nil {
		return err
	}
	rows, err := real.ParseManifest(bytes.NewReader(pb), *pending)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		fmt.Printf("%s has no rows: nothing to promote\n", *pending)
		return nil
	}
	head, body, _ := bytes.Cut(pb, []byte("\n"))
	if len(mb) > 0 && mb[len(mb)-1] != '\n' {
		mb = append(mb, '\n')
	}
	merged := append(append([]byte{}, mb...), body...)
	if len(merged) > 0 && merged[len(merged)-1] != '\n' {
		merged = append(merged, '\n')
	}
	if _, err := real.ParseManifest(bytes.NewReader(merged), *manifest+" with "+*pending); err != nil {
		return fmt.Errorf("not promoted: %w", err)
	}
	if err := writeFileAtomic(*manifest, merged); err != nil {
		return err
	}
	if err := writeFileAtomic(*pending, append(head, '\n')); err != nil {
		return err
	}
	fmt.Printf("promoted %d rows from %s to %s; retrain (make train-content) before committing\n", len(rows), *pending, *manifest)
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

var pageExt = regexp.MustCompile(`(?i)\.(html?|php|md|mdx|markdown|tsx|jsx|vue|astro)$`)

func scan(args []string) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	repo := fs.String("repo", "", "owner/name of the snapshot")
	mirror := fs.String("mirror", real.DefaultMirror, "directory of fetched git snapshots")
	label := fs.String("label", "", "label of the pages that pass (a category or clean)")
	adjacent := fs.Bool("adjacent", false, "clean pages on a topic near a category")
	why := fs.String("why", "", "reason, one line")
	by := fs.String("by", "agent", "labeller")
	require := fs.String("require", "", "regular expression (case-insensitive) the visible text must match")
	exclude := fs.String("exclude", "", "regular expression (case-insensitive) that rejects a page")
	pathRe := fs.String("path", "", "regular expression the file's path must match")
	skipPath := fs.String("skip-path", "", "regular expression (case-insensitive) of paths that are not pages a visitor sees (admin views, READMEs, design notes)")
	minWords := fs.Int("min-words", 60, "fewest words of visible text")
	max := fs.Int("max", 60, "most pages taken from the repository (by hash order: deterministic)")
	lang := fs.String("lang", "", "language of every page (default: guessed per page)")
	group := fs.String("group", "", "group (default: the repository)")
	preview := fs.Bool("preview", false, "print text heads to stderr, no rows")
	withJS := fs.Bool("js", false, "also read .js files as React components (sites whose pages are .js components; use with --path)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *repo == "" || (*label == "" && !*preview) {
		return usageError{"scan needs --repo and --label"}
	}
	gd, err := real.GitDir(*mirror, *repo)
	if err != nil {
		return err
	}
	commit, err := git(gd, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	commit = strings.TrimSpace(commit)
	list, err := git(gd, "ls-tree", "-r", "--name-only", commit)
	if err != nil {
		return err
	}
	var req, exc, pr, skip *regexp.Regexp
	if *skipPath != "" {
		skip = regexp.MustCompile("(?i)" + *skipPath)
	}
	if *require != "" {
		req = regexp.MustCompile("(?i)" + *require)
	}
	if *exclude != "" {
		exc = regexp.MustCompile("(?i)" + *exclude)
	}
	if *pathRe != "" {
		pr = regexp.MustCompile(*pathRe)
	}
	type cand struct {
		path, sum, lang, text string
		words                 int
	}
	var cands []cand
	seenText := map[string]bool{}
	for _, p := range strings.Split(strings.TrimSpace(list), "\n") {
		isJS := *withJS && strings.HasSuffix(strings.ToLower(p), ".js")
		if !(pageExt.MatchString(p) || isJS) || (pr != nil && !pr.MatchString(p)) || (skip != nil && skip.MatchString(p)) {
			continue
		}
		b, err := real.Show(gd, commit, p)
		if err != nil || len(b) > 4<<20 {
			continue
		}
		text := VisibleText(p, b)
		words := len(strings.Fields(text))
		if words < *minWords {
			continue
		}
		if req != nil && !req.MatchString(text) {
			continue
		}
		if exc != nil && exc.MatchString(text) {
			continue
		}
		// near-duplicate template pages: the same first 400 characters
		key := clip(strings.Join(strings.Fields(text), " "), 400)
		if seenText[key] {
			continue
		}
		seenText[key] = true
		l := *lang
		if l == "" {
			l = GuessLanguage(text)
		}
		cands = append(cands, cand{path: p, sum: hash(b), lang: l, text: text, words: words})
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].sum < cands[j].sum })
	if len(cands) > *max {
		cands = cands[:*max]
	}
	g := *group
	if g == "" {
		g = *repo
	}
	w := csv.NewWriter(os.Stdout)
	for _, c := range cands {
		if *preview {
			fmt.Fprintf(os.Stderr, "== %s [%s, %d words]\n%s\n", c.path, c.lang, c.words, clip(strings.Join(strings.Fields(c.text), " "), 300))
			continue
		}
		adj := "0"
		if *adjacent {
			adj = "1"
		}
		w.Write([]string{c.sum[:16] + ".html", *repo, commit, c.path, c.sum, c.lang, *label, adj, g, *by, *why})
	}
	w.Flush()
	fmt.Fprintf(os.Stderr, "%s: %d pages\n", *repo, len(cands))
	return w.Error()
}

func git(gitDir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"--git-dir=" + gitDir}, args...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}

// VisibleText is what the classifier would read of a page: title, meta
// and visible text by the crawler's extraction.
func VisibleText(path string, b []byte) string {
	u, _ := url.Parse("https://corpus.example/" + path)
	info := crawler.Extract(u, real.Prepare(path, b))
	return info.Title + "\n" + info.Description + "\n" + info.Text
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

var stop = map[string][]string{
	"en": {"the", "and", "of", "to", "you", "with", "for", "is", "our", "your"},
	"es": {"el", "la", "de", "que", "y", "en", "los", "las", "para", "con", "del", "por"},
	"pt": {"de", "que", "e", "o", "a", "do", "da", "em", "para", "com", "não", "os", "você"},
	"fr": {"le", "la", "les", "de", "des", "et", "en", "du", "pour", "vous", "est", "une"},
	"de": {"der", "die", "und", "das", "ist", "nicht", "mit", "sie", "für", "auf", "ein"},
	"it": {"il", "di", "che", "e", "la", "per", "un", "non", "sono", "con", "gli", "della"},
	"tr": {"ve", "bir", "bu", "için", "ile", "da", "de", "olan", "çok", "en"},
}

// GuessLanguage names a page's language by script and stop words.
func GuessLanguage(text string) string {
	var cyr, latin, other int
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
		case unicode.Is(unicode.Latin, r):
			latin++
		case unicode.IsLetter(r):
			other++
		}
	}
	if cyr > latin && cyr > other {
		return "ru"
	}
	if other > latin {
		return "other"
	}
	counts := map[string]int{}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		w = strings.Trim(w, ".,;:!?()\"'«»")
		for l, ws := range stop {
			for _, s := range ws {
				if w == s {
					counts[l]++
				}
			}
		}
	}
	best, bestN := "other", 0
	for _, l := range []string{"en", "es", "pt", "fr", "de", "it", "tr"} {
		if counts[l] > bestN {
			best, bestN = l, counts[l]
		}
	}
	return best
}
