// Command affwatch keeps an affiliate program honest: it loads a night's
// click and order logs into DuckDB, scores publishers against the program's
// rules, and writes penalty recommendations with the evidence for them.
//
// This package only parses flags and wires packages together; the work
// lives in loaders, detectors, rules and reports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"affwatch/loaders"
	"affwatch/pipeline"
	"affwatch/rules"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"run", "load a night's inputs, detect, recommend penalties, write the reports", runRun},
	{"demo", "generate data, run the whole batch on it, print where the report is", runDemo},
	{"partition", "split clicks and orders by publisher into N hive partitions (input of run --partition)", runPartition},
	{"merge", "combine the partitions of a night into the outputs of a whole run", runMerge},
	{"load", "load inputs into the database only (no detection)", runLoad},
	{"appeal", "record an appeal decision (G.12): a cleared publisher is not escalated for it", runAppeal},
	{"explain", "print a publisher's recommendation, findings and evidence, and its history", runExplain},
	{"report", "write the outputs of a stored run again, from the database alone", runReport},
	{"compact", "compact the database's storage now (what every 7th nightly run does when it closes)", runCompact},
	{"fixtures", "generate synthetic datasets with ground-truth labels", runFixtures},
	{"rules", "print or check a rule pack", runRules},
	{"eval", "measure detection quality (precision, recall) on generated data with ground truth", runEval},
	{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		fmt.Fprintln(stdout, "affwatch", version)
		return nil
	}},
}

const usageHeader = `affwatch — nightly fraud and compliance analysis for an affiliate program.

Usage:
  affwatch <command> [flags]

Commands:
`

const usageFooter = `
Typical nightly run:
  affwatch run --in /data/2026-11-21 --out /reports/2026-11-21 --date 2026-11-21 --db /var/lib/affwatch/affwatch.duckdb

Try it on generated data:
  affwatch demo

Run 'affwatch <command> --help' for a command's flags.
Exit status: 0 success, 1 the run failed, 2 usage or input-contract error.
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHeader)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageFooter)
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs a command line and maps its error to an exit status.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name := args[0]
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		return exitCode(err, stderr)
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	sort.Strings(names)
	fmt.Fprintf(stderr, "affwatch: unknown command %q (commands: %s; see affwatch --help)\n", name, strings.Join(names, ", "))
	return 2
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue *usageError
	var pe *pipeline.UsageError
	var ce *loaders.ContractError
	var ve *rules.ValidationError
	switch {
	case errors.As(err, &ue), errors.As(err, &pe):
		fmt.Fprintf(stderr, "affwatch: %v\n", err)
		return 2
	case errors.As(err, &ve):
		fmt.Fprintf(stderr, "affwatch: the rule pack is not valid; nothing was read or written (affwatch rules --help explains the pack):\n%s\n", indent(err.Error()))
		return 2
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "affwatch: the input does not meet the input contract (docs/INPUTS.md); nothing was loaded:\n%s\n", indent(err.Error()))
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "affwatch: interrupted; no outputs were written for this run")
		return 1
	default:
		fmt.Fprintf(stderr, "affwatch: %v\n", err)
		return 1
	}
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}

// newFlagSet returns a flag set whose --help prints the command's summary,
// usage line and flags.
func newFlagSet(name, usageLine, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\n%s\n\nFlags:\n", usageLine, strings.TrimSpace(help))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// logging holds the flags every command shares for logs.
type logging struct {
	format string
	level  string
}

func (l *logging) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
}

func (l *logging) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.level)); err != nil {
		return nil, usagef("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, usagef("--log-format must be text or json, not %q", l.format)
}

// parseFlagsAndArgs is parseFlags for commands that take arguments too;
// flags may come before, between or after them.
func parseFlagsAndArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
