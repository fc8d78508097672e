package main

import (
	"context"
	"fmt"
	"io"

	"affwatch/rules"
)

const rulesHelp = `
Checks a rule pack, shows what it changes against the embedded default, or
prints the default (the reference for every key).

A pack of your own starts with 'extends: default' and holds only what it
changes; it is laid over the default key by key:
  - a key you set replaces the default's value (one threshold of one rule);
  - a mapping you set merges into the default's (rules, commission, ...);
  - a list you set adds its entries to the default's list (an allowlist
    entry, a stop word); an entry with a 'name' (a brand) merges into the
    default's entry of that name;
  - 'key: !remove' deletes an inherited key, '- !remove VALUE' deletes an
    inherited list entry ('- !remove {publisher_id: P1}' every entry with
    those fields), and 'key: !replace VALUE' takes VALUE whole.

Every key is checked before any input is read: an unknown key (a typo) is
an error at its line with the nearest known key, a threshold must have its
type (integers stay integers) and lie in its range, and rule names in the
allow-list and the penalty ladder must exist. Errors name file:line; the
exit status is 2.

Example pack (my-pack.yaml), raising one click_burst threshold:
  extends: default
  version: "2026.12-local"
  rules:
    click_burst:
      thresholds:
        min_modified_z: 4.5

Examples:
  affwatch rules check --rules my-pack.yaml
  affwatch rules diff --rules my-pack.yaml
  affwatch rules default > reference.yaml`

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("rules: want 'check', 'diff' or 'default' (see affwatch rules --help)")
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprintln(stdout, "Usage: affwatch rules check|diff [--rules FILE] | affwatch rules default\n"+rulesHelp)
		return nil
	case "default":
		_, err := stdout.Write(rules.DefaultYAML())
		return err
	case "check", "diff":
		var path string
		fs := newFlagSet("rules "+args[0], "affwatch rules "+args[0]+" [--rules FILE]", rulesHelp, stderr)
		fs.StringVar(&path, "rules", "", "rule pack (default: the embedded pack)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		p, err := rules.Load(path)
		if err != nil {
			return err
		}
		if args[0] == "diff" {
			return printDiff(p, stdout)
		}
		fmt.Fprintf(stdout, "%s: version %s, sha256 %s, %d brand(s), %d rule(s), every key checked\n", p.Source, p.Version, p.SHA256[:16], len(p.Brands), len(p.Rules))
		for _, n := range p.RuleNames() {
			r := p.Rules[n]
			fmt.Fprintf(stdout, "  %-20s %-10s %-12s %-8s %s\n", n, r.ID, r.Status, r.Severity, r.Policy)
		}
		return nil
	}
	return usagef("rules: unknown subcommand %q (want check, diff or default)", args[0])
}

func printDiff(p *rules.Pack, stdout io.Writer) error {
	changes, err := p.Diff()
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "%s changes nothing against the default pack\n", p.Source)
		return nil
	}
	fmt.Fprintf(stdout, "%s against the default pack (+ added, - removed, ~ changed):\n", p.Source)
	for _, c := range changes {
		fmt.Fprintln(stdout, "  "+c.String())
	}
	fmt.Fprintf(stdout, "%d change(s)\n", len(changes))
	return nil
}
