package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// deployFlagSets builds each command's real flag set, so the examples in
// docs/deploy are parsed exactly as affwatch would parse them.
var deployFlagSets = map[string]func() *flag.FlagSet{
	"run": func() *flag.FlagSet {
		var o runOptions
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		o.register(fs)
		return fs
	},
	"merge": func() *flag.FlagSet {
		var o mergeOptions
		fs := flag.NewFlagSet("merge", flag.ContinueOnError)
		o.register(fs)
		return fs
	},
}

// shellVar matches the shell variables of the examples ($D, "$JOB_COMPLETION_INDEX").
var shellVar = regexp.MustCompile(`\$\{?[A-Z_]+\}?`)

// TestDeployExamplesParse: every affwatch command line in docs/deploy (the
// CronJob, the partitioned night's Jobs, the systemd unit) uses flags that
// exist, with values the command accepts, so an operator copying them gets
// a run, not a usage error.
func TestDeployExamplesParse(t *testing.T) {
	files, err := filepath.Glob("../../docs/deploy/*")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".yaml":
			lines = append(lines, yamlCommands(t, f, b)...)
		case ".service":
			text := strings.ReplaceAll(string(b), "\\\n", " ")
			for _, l := range strings.Split(text, "\n") {
				if strings.HasPrefix(l, "ExecStart=") {
					lines = append(lines, strings.Trim(strings.TrimPrefix(l, "ExecStart=/bin/sh -c "), "'"))
				}
			}
		}
	}
	commands := map[string]int{}
	for _, l := range lines {
		_, rest, ok := strings.Cut(l, "affwatch ")
		if !ok {
			continue
		}
		rest = strings.NewReplacer(`"`, "", "'", "").Replace(rest)
		args := strings.Fields(shellVar.ReplaceAllString(rest, "1"))
		name, args := args[0], args[1:]
		mk, ok := deployFlagSets[name]
		if !ok {
			t.Errorf("docs/deploy: affwatch %s: no such command in this test's table", name)
			continue
		}
		fs := mk()
		fs.SetOutput(io.Discard)
		pos, err := parseFlagsAndArgs(fs, args)
		if err != nil {
			t.Errorf("docs/deploy: affwatch %s: %v", strings.Join(append([]string{name}, args...), " "), err)
			continue
		}
		if name == "run" && len(pos) > 0 {
			t.Errorf("docs/deploy: affwatch run takes no arguments, got %v", pos)
		}
		if name == "run" {
			var o runOptions
			fs := flag.NewFlagSet("run", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o.register(fs)
			fs.Parse(args)
			if _, err := o.check(); err != nil {
				t.Errorf("docs/deploy: affwatch run %s: %v", strings.Join(args, " "), err)
			}
		}
		commands[name]++
	}
	// The CronJob and the systemd unit run whole nights; the Jobs of a
	// partitioned night run the baselines, the partitions and the merge.
	if commands["run"] < 4 || commands["merge"] < 1 {
		t.Errorf("found %v affwatch command lines in docs/deploy, want ≥ 4 runs and a merge", commands)
	}
}

// yamlCommands returns the command lines of every container in a YAML file
// of several documents: its args joined, or the script of a sh -c.
func yamlCommands(t *testing.T, name string, b []byte) []string {
	t.Helper()
	var out []string
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if img, ok := v["image"].(string); ok && strings.Contains(img, "affwatch") {
					var parts []string
					for _, a := range v["args"].([]any) {
						parts = append(parts, a.(string))
					}
					line := strings.Join(parts, " ")
					if !strings.Contains(line, "affwatch ") {
						line = "affwatch " + line
					}
					out = append(out, line)
				}
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(doc)
	}
	return out
}
