package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ReferenceLists says where the run finds the maintained lists that label
// general invalid traffic (GIVT, the MRC's list-based class): a known-bot
// user-agent list from a maintained package, the pack's own extra
// patterns, an optional IAB/ABC spiders-and-bots file, and CIDR files that
// class IP addresses as data-centre, Tor exit or the program's own. The
// lists themselves are never part of the pack: the pack names their paths,
// the run records each list's name, version and SHA-256 (run.json).
//
// Relative paths resolve against the pack file's folder; the embedded
// default pack's resolve against the working directory (where `make`
// installs the package, .cache/reflists/).
type ReferenceLists struct {
	BotUserAgents BotUserAgents `yaml:"bot_user_agents"`
	IPRanges      []IPRangeFile `yaml:"ip_ranges"`

	lines map[string]int // key path → line, for messages about a key
}

// BotUserAgents configures the known-bot user-agent lists.
type BotUserAgents struct {
	// Path is a crawler-user-agents JSON file (an array of objects with a
	// "pattern" regular expression, as the npm package crawler-user-agents
	// ships it); its package.json beside it, when present, gives the
	// version. Empty: no maintained list.
	Path string `yaml:"path"`
	// IABPath is an IAB/ABC International Spiders & Bots list in the
	// simple text form documented in docs/REFERENCE_LISTS.md (one pattern
	// per line, `#` comments), for programs that license it. Empty: none.
	IABPath string `yaml:"iab_path"`
	// ExtraPatterns are the pack's own patterns (RE2 syntax, matched
	// against the whole user agent): automation tools and headless
	// browsers a list may lack.
	ExtraPatterns []BotPattern `yaml:"extra_patterns"`
}

// BotPattern is one of the pack's own user-agent patterns.
type BotPattern struct {
	Pattern string `yaml:"pattern"`
	Note    string `yaml:"note"`
}

// IPRangeFile is one CIDR file and the class its ranges give an address.
type IPRangeFile struct {
	Class string `yaml:"class"`
	Path  string `yaml:"path"`
	// Name labels the list in evidence and run.json (default: the file's
	// base name).
	Name string `yaml:"name"`
}

// IP classes of IPRangeFile.Class. Only datacenter makes a click GIVT:
// people use Tor, and the program's own staff test links from the office.
const (
	IPClassDatacenter = "datacenter"
	IPClassTor        = "tor"
	IPClassInternal   = "internal"
)

// IPClasses are the classes a CIDR file may give, in order of precedence
// when ranges of two classes overlap.
var IPClasses = []string{IPClassInternal, IPClassDatacenter, IPClassTor}

// UnmarshalYAML decodes the block strictly and validates it, so a typo or
// a bad pattern fails `rules check` at its own line, before any work.
func (rl *ReferenceLists) UnmarshalYAML(n *yaml.Node) error {
	type plain ReferenceLists
	var errs []string
	bad := func(line int, key, msg string) {
		errs = append(errs, fmt.Sprintf("line %d: reference_lists%s: %s", line, key, msg))
	}
	lines := map[string]int{"": n.Line}
	recordLines(n, "", lines)
	if b := mappingValue(n, "bot_user_agents"); b != nil {
		recordLines(b, ".bot_user_agents", lines)
		if ep := mappingValue(b, "extra_patterns"); ep != nil && ep.Kind == yaml.SequenceNode {
			for i, e := range ep.Content {
				k := fmt.Sprintf(".bot_user_agents.extra_patterns[%d]", i)
				lines[k] = e.Line
				recordLines(e, k, lines)
			}
		}
	}
	if ir := mappingValue(n, "ip_ranges"); ir != nil && ir.Kind == yaml.SequenceNode {
		for i, e := range ir.Content {
			k := fmt.Sprintf(".ip_ranges[%d]", i)
			lines[k] = e.Line
			recordLines(e, k, lines)
		}
	}
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*rl = ReferenceLists(p)
	rl.lines = lines
	for i, e := range rl.BotUserAgents.ExtraPatterns {
		k := fmt.Sprintf(".bot_user_agents.extra_patterns[%d]", i)
		if e.Pattern == "" {
			bad(lines[k], k+".pattern", "required")
			continue
		}
		if _, err := regexp.Compile(e.Pattern); err != nil {
			bad(lines[k], k+".pattern", fmt.Sprintf("not a valid RE2 pattern: %v", err))
		}
	}
	seen := map[string]bool{}
	for i, f := range rl.IPRanges {
		k := fmt.Sprintf(".ip_ranges[%d]", i)
		if !contains(IPClasses, f.Class) {
			bad(lines[k], k+".class", fmt.Sprintf("%q is not one of %s", f.Class, strings.Join(IPClasses, ", ")))
		}
		if f.Path == "" {
			bad(lines[k], k+".path", "required: a CIDR file, one range per line")
		}
		if name := f.ListName(); seen[name] {
			bad(lines[k], k+".name", fmt.Sprintf("%q names two lists: give each its own name", name))
		} else {
			seen[name] = true
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// recordLines records the line of each key of a mapping. Unknown keys and
// values of the wrong type are the pack loader's (its schema check runs
// before this decoder, with "did you mean").
func recordLines(n *yaml.Node, prefix string, lines map[string]int) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		lines[prefix+"."+n.Content[i].Value] = n.Content[i].Line
	}
}

// ListName is the name the list goes by in evidence and run.json.
func (f IPRangeFile) ListName() string {
	if f.Name != "" {
		return f.Name
	}
	return filepath.Base(f.Path)
}

// Line returns the line of a key of the block ("bot_user_agents.path",
// "ip_ranges[0]"), 0 when unknown: run-time errors about a list (a file
// that cannot be read) point at the pack line that names it.
func (rl ReferenceLists) Line(key string) int { return rl.lines["."+key] }

// ResolvePath resolves a path named in the pack: a relative path is
// looked up beside the pack file first, then in the working directory
// (where the embedded default's .cache/reflists/ paths point, and where a
// pack extending the default inherits them from), then in the checkout the
// affwatch binary was built in (bin/affwatch's parent, where `make
// reflists` installs the lists), so a nightly job started from another
// directory still finds them. Not found anywhere: the path as written,
// which the run reports as unavailable.
func (p *Pack) ResolvePath(path string) string {
	return p.resolvePath(path, executableDir())
}

func (p *Pack) resolvePath(path, exeDir string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	if p.Dir != "" {
		if beside := filepath.Join(p.Dir, path); fileExists(beside) {
			return beside
		}
	}
	if fileExists(path) || exeDir == "" {
		return path
	}
	for _, dir := range []string{filepath.Dir(exeDir), exeDir} {
		if beside := filepath.Join(dir, path); fileExists(beside) {
			return beside
		}
	}
	return path
}

// executableDir is the directory of the running binary ("" when unknown).
func executableDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return filepath.Dir(exe)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
