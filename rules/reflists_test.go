package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReferenceListsDefault(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	rl := p.ReferenceLists
	if !strings.HasSuffix(rl.BotUserAgents.Path, "crawler-user-agents/crawler-user-agents.json") || len(rl.BotUserAgents.ExtraPatterns) == 0 || len(rl.IPRanges) != 0 {
		t.Errorf("default reference_lists = %+v", rl)
	}
	if rl.Line("bot_user_agents.path") == 0 {
		t.Error("no line recorded for bot_user_agents.path")
	}
}

// TestReferenceListsErrors: every mistake is refused at its own line,
// before any work.
func TestReferenceListsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown key with suggestion", `
reference_lists:
  bot_user_agent:
    path: x.json
`, []string{"pack.yaml:4: reference_lists.bot_user_agent: unknown key; did you mean bot_user_agents?"}},
		{"misspelled nested key", `
reference_lists:
  bot_user_agents:
    pth: x.json
`, []string{"pack.yaml:5: reference_lists.bot_user_agents.pth: unknown key; did you mean path?"}},
		{"bad pattern", `
reference_lists:
  bot_user_agents:
    extra_patterns:
      - {pattern: "(unclosed"}
      - {note: "no pattern"}
`, []string{"pack.yaml:6: reference_lists.bot_user_agents.extra_patterns[5].pattern: not a valid RE2 pattern", "pack.yaml:7: reference_lists.bot_user_agents.extra_patterns[6].pattern: required"}},
		{"bad class and missing path", `
reference_lists:
  ip_ranges:
    - {class: cloud, path: a.cidr}
    - {class: tor}
    - {class: datacenter, path: a.cidr}
`, []string{"pack.yaml:5: reference_lists.ip_ranges[0].class: \"cloud\" is not one of internal, datacenter, tor",
			"pack.yaml:6: reference_lists.ip_ranges[1].path: required",
			"pack.yaml:7: reference_lists.ip_ranges[2].name: \"a.cidr\" names two lists"}},
		{"unknown key in a range entry", `
reference_lists:
  ip_ranges:
    - {class: tor, path: t.txt, clas: x}
`, []string{"pack.yaml:5: reference_lists.ip_ranges[0].clas: unknown key; did you mean class?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePack(t, "extends: default\nversion: \"t\""+tc.body)
			_, err := Load(path)
			if err == nil {
				t.Fatal("pack accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the pack file", err)
			}
		})
	}
}

func TestReferenceListsOverride(t *testing.T) {
	path := writePack(t, `extends: default
version: "t"
reference_lists:
  bot_user_agents:
    path: lists/bots.json
    iab_path: iab.txt
  ip_ranges:
    - {class: datacenter, path: ranges/aws.cidr, name: aws-2026-12}
    - {class: internal, path: office.cidr}
`)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rl := p.ReferenceLists
	if rl.BotUserAgents.IABPath != "iab.txt" || len(rl.IPRanges) != 2 || rl.IPRanges[0].ListName() != "aws-2026-12" || rl.IPRanges[1].ListName() != "office.cidr" {
		t.Errorf("reference_lists = %+v", rl)
	}
	// Relative paths: beside the pack when the file is there, else as given.
	if got := p.ResolvePath("lists/bots.json"); got != "lists/bots.json" {
		t.Errorf("missing file resolved to %q", got)
	}
	if got := p.ResolvePath("pack.yaml"); !strings.HasSuffix(got, "/pack.yaml") || got == "pack.yaml" {
		t.Errorf("file beside the pack resolved to %q", got)
	}
}

// TestDefaultListsFoundFromAnotherDirectory: the embedded pack's relative
// list paths are found in the checkout the binary was built in when the
// working directory is elsewhere (a nightly job started from /), and the
// working directory still comes first.
func TestDefaultListsFoundFromAnotherDirectory(t *testing.T) {
	checkout := t.TempDir()
	list := filepath.Join(".cache", "reflists", "bots.json")
	if err := os.MkdirAll(filepath.Join(checkout, ".cache", "reflists"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(checkout, list), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	exeDir := filepath.Join(checkout, "bin")
	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	embedded := &Pack{}
	for _, tc := range []struct {
		name, path, exeDir, want string
	}{
		{"beside the binary's checkout", list, exeDir, filepath.Join(checkout, list)},
		{"binary in the checkout's root", list, checkout, filepath.Join(checkout, list)},
		{"nowhere: as written", filepath.Join(".cache", "reflists", "other.json"), exeDir, filepath.Join(".cache", "reflists", "other.json")},
		{"binary's directory unknown", list, "", list},
		{"absolute", filepath.Join(checkout, list), exeDir, filepath.Join(checkout, list)},
	} {
		if got := embedded.resolvePath(tc.path, tc.exeDir); got != tc.want {
			t.Errorf("%s: %q resolved to %q, want %q", tc.name, tc.path, got, tc.want)
		}
	}
	// The working directory's copy wins over the checkout's.
	if err := os.MkdirAll(filepath.Join(elsewhere, ".cache", "reflists"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(elsewhere, list), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := embedded.resolvePath(list, exeDir); got != list {
		t.Errorf("with a copy in the working directory: resolved to %q, want %q", got, list)
	}
}
