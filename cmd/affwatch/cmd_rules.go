package main

import (
	"context"
	"fmt"
	"io"

	"affwatch/rules"
)

const rulesHelp = `
Checks a rule pack and lists its rules, or prints the embedded default pack
(a starting point for your own: save it, keep 'extends: default' and only
the keys you change).

Examples:
  affwatch rules check --rules my-pack.yaml
  affwatch rules default > my-pack.yaml`

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("rules: want 'check' or 'default' (see affwatch rules --help)")
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprintln(stdout, "Usage: affwatch rules check [--rules FILE] | affwatch rules default\n"+rulesHelp)
		return nil
	case "default":
		_, err := stdout.Write(rules.DefaultYAML())
		return err
	case "check":
		var path string
		fs := newFlagSet("rules check", "affwatch rules check [--rules FILE]", rulesHelp, stderr)
		fs.StringVar(&path, "rules", "", "rule pack to check (default: the embedded pack)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		p, err := rules.Load(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: version %s, sha256 %s, %d brand(s)\n", p.Source, p.Version, p.SHA256[:16], len(p.Brands))
		for _, n := range p.RuleNames() {
			r := p.Rules[n]
			fmt.Fprintf(stdout, "  %-20s %-10s %-12s %-8s %s\n", n, r.ID, r.Status, r.Severity, r.Policy)
		}
		return nil
	}
	return usagef("rules: unknown subcommand %q (want check or default)", args[0])
}
