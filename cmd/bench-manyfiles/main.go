// Command bench-manyfiles measures loading a delivery split into many tiny
// files (issue 19: 10,000 files of a 23 k-row program took 11 minutes and
// 1.8 GB). It generates one program, splits its clicks into N files of a
// few rows each, and times `affwatch load` on each split with every binary
// given, one after another in the same run, so their ratio is measured side
// by side: the wall time and the peak RSS of the process.
//
//	go run ./cmd/bench-manyfiles --affwatch bin/affwatch --baseline /tmp/old/affwatch --files 1000,10000
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"affwatch/cmd/internal/benchutil"
)

func main() {
	affwatch := flag.String("affwatch", "bin/affwatch", "the affwatch binary to measure")
	baseline := flag.String("baseline", "", "an older affwatch binary to measure beside it (optional)")
	files := flag.String("files", "1000,10000", "file counts to split the clicks into, comma-separated")
	seed := flag.Int("seed", 3, "generator seed")
	clicks := flag.Int("clicks", 20000, "clicks to generate (the generator adds a few)")
	dir := flag.String("dir", ".cache/bench-manyfiles", "work directory")
	appendTo := flag.String("append", "", "append the results to this Markdown file")
	flag.Parse()
	if err := run(*affwatch, *baseline, *files, *seed, *clicks, *dir, *appendTo); err != nil {
		fmt.Fprintln(os.Stderr, "bench-manyfiles:", err)
		os.Exit(1)
	}
}

type result struct {
	binary  string
	files   int
	seconds float64
	rssMiB  float64
}

func run(affwatch, baseline, filesList string, seed, clicks int, dir, appendTo string) error {
	base := filepath.Join(dir, "base")
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gen := exec.Command(affwatch, "fixtures", "generate", "--seed", strconv.Itoa(seed), "--clicks", strconv.Itoa(clicks), "--out", base)
	gen.Stderr = os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	os.Remove(filepath.Join(base, "labels.csv"))
	bins := []string{affwatch}
	if baseline != "" {
		bins = []string{baseline, affwatch}
	}
	var results []result
	for _, s := range strings.Split(filesList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("--files %q", s)
		}
		in := filepath.Join(dir, fmt.Sprintf("split-%d", n))
		rows, err := split(base, in, n)
		if err != nil {
			return err
		}
		for _, bin := range bins {
			r, err := measure(bin, in, filepath.Join(dir, "out"))
			if err != nil {
				return fmt.Errorf("%s on %d files: %w", bin, n, err)
			}
			r.files = n
			results = append(results, r)
			fmt.Printf("%-40s %6d files (%d click rows): %8.1f s, peak RSS %6.0f MiB\n", bin, n, rows, r.seconds, r.rssMiB)
		}
	}
	report := table(results, baseline != "")
	fmt.Print(report)
	if appendTo != "" {
		host, _ := os.Hostname()
		return benchutil.AppendMarkdown(appendTo, fmt.Sprintf("\n### Many small files (%s, %s, %d cores)\n\n`go run ./cmd/bench-manyfiles --files %s%s` (`make bench-manyfiles`): `affwatch load` of a generated program (seed %d, %d clicks) whose clicks are split into N files.\n\n%s",
			time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), filesList, map[bool]string{true: " --baseline OLD", false: ""}[baseline != ""], seed, clicks, report))
	}
	return nil
}

// split copies the program into in with its clicks in exactly n files
// (clicks/part-NNNNN.csv, rows spread evenly) and returns the click rows.
func split(base, in string, n int) (int, error) {
	os.RemoveAll(in)
	if err := os.MkdirAll(filepath.Join(in, "clicks"), 0o755); err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if e.Name() == "clicks.csv" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(base, e.Name()))
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(in, e.Name()), b, 0o644); err != nil {
			return 0, err
		}
	}
	f, err := os.Open(filepath.Join(base, "clicks.csv"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var header string
	var rows []string
	for sc.Scan() {
		if header == "" {
			header = sc.Text()
			continue
		}
		rows = append(rows, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if n > len(rows) {
		n = len(rows)
	}
	for i := 0; i < n; i++ {
		lo, hi := i*len(rows)/n, (i+1)*len(rows)/n
		body := header + "\n" + strings.Join(rows[lo:hi], "\n") + "\n"
		if err := os.WriteFile(filepath.Join(in, "clicks", fmt.Sprintf("part-%05d.csv", i)), []byte(body), 0o644); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

func measure(bin, in, out string) (result, error) {
	os.RemoveAll(out)
	cmd := exec.Command(bin, "load", "--in", in, "--out", out, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, err
	}
	r := result{binary: bin, seconds: time.Since(start).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssMiB = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return r, nil
}

func table(rs []result, paired bool) string {
	var b strings.Builder
	b.WriteString("| files | binary | seconds | peak RSS MiB |")
	if paired {
		b.WriteString(" time ratio (old/new) | RSS ratio (old/new) |")
	}
	b.WriteString("\n|---|---|---|---|")
	if paired {
		b.WriteString("---|---|")
	}
	b.WriteString("\n")
	for i, r := range rs {
		fmt.Fprintf(&b, "| %d | %s | %.1f | %.0f |", r.files, r.binary, r.seconds, r.rssMiB)
		if paired {
			if i%2 == 1 {
				old := rs[i-1]
				fmt.Fprintf(&b, " %.1f× | %.1f× |", old.seconds/r.seconds, old.rssMiB/r.rssMiB)
			} else {
				b.WriteString(" | |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
