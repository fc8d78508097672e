// Package benchutil holds what the bench-* commands share: appending their
// Markdown to docs/BENCHMARKS.md, the machine's load average (printed
// beside every figure, since the machine is shared), and the stage times
// and counts of an affwatch run's run.json.
package benchutil

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AppendMarkdown appends text to the file at path, creating it: a long
// benchmark must not lose its table to a missing file.
func AppendMarkdown(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadAvg is the 1, 5 and 15-minute load average, or "?" where
// /proc/loadavg cannot be read.
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Run is what a benchmark reads of an affwatch run's run.json.
type Run struct {
	Stages          map[string]float64 // seconds per stage, summed over repeats
	Findings        int
	Recommendations int
	RowsRead        int64 // over every input file
}

// ReadRun reads run.json from an affwatch output directory.
func ReadRun(outDir string) (Run, error) {
	path := filepath.Join(outDir, "run.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return Run{}, err
	}
	var man struct {
		Timings []struct {
			Stage   string  `json:"stage"`
			Seconds float64 `json:"seconds"`
		} `json:"timings"`
		Counts struct {
			Findings        int `json:"findings"`
			Recommendations int `json:"recommendations"`
		} `json:"counts"`
		Inputs []struct {
			RowsRead int64 `json:"rows_read"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return Run{}, fmt.Errorf("%s: %w", path, err)
	}
	r := Run{Stages: map[string]float64{}, Findings: man.Counts.Findings, Recommendations: man.Counts.Recommendations}
	for _, t := range man.Timings {
		r.Stages[t.Stage] += t.Seconds
	}
	for _, in := range man.Inputs {
		r.RowsRead += in.RowsRead
	}
	return r, nil
}
