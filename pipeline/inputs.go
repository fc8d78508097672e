package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"affwatch/loaders"
)

// Discover finds the input files and says, in the log, what it did not
// read: entries skipped as hidden or marker names, and names that look
// meant as a dataset. Nothing in the input vanishes unsaid.
func Discover(in string, log *slog.Logger, opts loaders.DiscoverOptions) (*loaders.Inputs, error) {
	inputs, err := loaders.DiscoverInputsWith(in, opts)
	if err != nil {
		return nil, err
	}
	for _, s := range inputs.SetAside {
		log.Warn("broken file set aside, not loaded (--set-aside-broken-files)", "detail", s)
	}
	for _, s := range inputs.Skipped {
		log.Warn("input skipped: names starting with . or _ are not data (hidden files, _SUCCESS markers); rename it to load it", "path", s)
	}
	for _, w := range inputs.Warnings {
		log.Warn("input not read", "detail", w)
	}
	return inputs, nil
}

// checkWritable makes sure the output directory can be written before any
// work: a read-only --out was found only when the reports were written,
// after the whole run.
func checkWritable(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("--out %s: cannot create the output directory: %w", out, unwrapPath(err))
	}
	f, err := os.CreateTemp(out, ".affwatch-write-check-*")
	if err != nil {
		return fmt.Errorf("--out %s: the output directory is not writable (%w); choose another --out or fix its permissions", out, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// setAsideWarnings words the files set aside for run.json's input_warnings.
func setAsideWarnings(setAside []string) []string {
	out := make([]string, len(setAside))
	for i, s := range setAside {
		out[i] = "set aside, not loaded (--set-aside-broken-files): " + s
	}
	return out
}

// LoadOnly is `affwatch load`: the datasets of in into the database (in
// outDir unless db.Path says otherwise), under a fresh run id, nothing
// judged. night, when set, is the night whose rows a re-load replaces.
func LoadOnly(ctx context.Context, in, outDir string, night time.Time, db DB, progress loaders.Progress, log *slog.Logger) (*loaders.Result, string, error) {
	inputs, err := Discover(in, log, loaders.DiscoverOptions{})
	if err != nil {
		return nil, "", err
	}
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return nil, "", err
		}
	}
	st, err := db.Open(ctx, outDir)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	res, err := loaders.Load(ctx, st, inputs.Files, loaders.Options{RunID: NewRunID(time.Now().UTC()), Night: night, Progress: progress, Logger: log})
	return res, st.Path(), err
}
