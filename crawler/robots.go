package crawler

import (
	"bufio"
	"bytes"
	"strings"
)

// Robots is a parsed robots.txt (RFC 9309) for one user-agent token.
type Robots struct {
	rules []robotsRule
	// DisallowAll is set when robots.txt could not be fetched for a
	// server-side reason (5xx): RFC 9309 §2.3.1.3 says assume complete
	// disallow.
	DisallowAll bool
}

type robotsRule struct {
	allow bool
	path  string
}

// MaxRobotsBytes: RFC 9309 asks crawlers to parse at least 500 KiB.
const MaxRobotsBytes = 512 << 10

// ParseRobots keeps the group for agent (matched case-insensitively as a
// substring of the product token), or the * group when none names it.
func ParseRobots(body []byte, agent string) *Robots {
	agent = strings.ToLower(agent)
	type group struct {
		agents []string
		rules  []robotsRule
	}
	var groups []*group
	var cur *group
	lastWasAgent := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		switch k {
		case "user-agent":
			if !lastWasAgent || cur == nil {
				cur = &group{}
				groups = append(groups, cur)
			}
			cur.agents = append(cur.agents, strings.ToLower(v))
			lastWasAgent = true
		case "allow", "disallow":
			lastWasAgent = false
			if cur == nil {
				continue
			}
			if v == "" && k == "disallow" {
				continue // "Disallow:" with no path allows everything
			}
			cur.rules = append(cur.rules, robotsRule{allow: k == "allow", path: v})
		default:
			lastWasAgent = false
		}
	}
	var star *group
	for _, g := range groups {
		for _, a := range g.agents {
			if a == "*" {
				if star == nil {
					star = g
				}
			} else if a != "" && strings.Contains(agent, a) {
				return &Robots{rules: g.rules}
			}
		}
	}
	if star != nil {
		return &Robots{rules: star.rules}
	}
	return &Robots{}
}

// Allowed reports whether path (with query) may be fetched: the longest
// matching rule wins, allow on a tie.
func (r *Robots) Allowed(path string) bool {
	if r == nil {
		return true
	}
	if r.DisallowAll {
		return false
	}
	if path == "" {
		path = "/"
	}
	best, allowed := -1, true
	for _, rule := range r.rules {
		if n, ok := robotsMatch(rule.path, path); ok && (n > best || n == best && rule.allow) {
			best, allowed = n, rule.allow
		}
	}
	return allowed
}

// robotsMatch matches a robots.txt path pattern (* wildcard, $ end anchor).
func robotsMatch(pattern, path string) (int, bool) {
	anchored := strings.HasSuffix(pattern, "$")
	p := strings.TrimSuffix(pattern, "$")
	parts := strings.Split(p, "*")
	pos := 0
	for i, part := range parts {
		if i == 0 {
			if !strings.HasPrefix(path, part) {
				return 0, false
			}
			pos = len(part)
			continue
		}
		j := strings.Index(path[pos:], part)
		if j < 0 {
			return 0, false
		}
		pos += j + len(part)
	}
	if anchored && pos != len(path) && !(len(parts) > 1 && parts[len(parts)-1] == "") {
		return 0, false
	}
	return len(pattern), true
}
