package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"affwatch/loaders"
)

// isTerminal reports whether w is a character device (a terminal), the only
// place a progress bar belongs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// loadBar draws file-by-file load progress on a terminal.
type loadBar struct {
	w     io.Writer
	start time.Time
}

func newLoadProgress(stderr io.Writer) loaders.Progress {
	if !isTerminal(stderr) {
		return nil
	}
	return &loadBar{w: stderr, start: time.Now()}
}

func (b *loadBar) FileStarted(f loaders.File, i, total int) {
	fmt.Fprintf(b.w, "\r\033[Kloading %s %s (%s)", bar(i-1, total), f.Rel, humanBytes(f.SizeBytes))
}

func (b *loadBar) FileDone(r loaders.FileResult, i, total int) {
	fmt.Fprintf(b.w, "\r\033[Kloading %s %s: %d rows, %d quarantined", bar(i, total), r.Rel, r.RowsLoaded, r.RowsQuarantined)
	if i == total {
		fmt.Fprintf(b.w, " — done in %s\n", time.Since(b.start).Round(time.Millisecond))
	}
}

func bar(done, total int) string {
	const width = 20
	n := 0
	if total > 0 {
		n = done * width / total
	}
	b := make([]byte, width)
	for i := range b {
		if i < n {
			b[i] = '#'
		} else {
			b[i] = '.'
		}
	}
	return fmt.Sprintf("[%s] %d/%d", b, done, total)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
