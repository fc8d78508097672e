package reports

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminalSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"P000111", "P000111"},
		{"отчёт — 100 %", "отчёт — 100 %"},
		{"\x1b[2J", `\x1b[2J`},
		{"a\rb\nc\td", `a\x0db\x0ac\x09d`},
		{"bell\a", `bell\x07`},
		{"del\x7f", `del\x7f`},
		{"csi\u009b31m", `csi\u009b31m`},
		{"\u202etxet", `\u202etxet`},
		{"iso\u2066late\u2069", `iso\u2066late\u2069`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad\xffbyte", `bad\xffbyte`},
	}
	for _, tc := range tests {
		if got := TerminalSafe(tc.in); got != tc.want {
			t.Errorf("TerminalSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzExplainText: whatever a finding's evidence, summary or ids hold, the
// text printed for a terminal carries no control character but newlines of
// its own, and no bidirectional override.
func FuzzExplainText(f *testing.F) {
	f.Add(`{"ua":"curl\u001b[31m","ids":["a","b"],"rows":[{"a":1},{"b":[1,2]}]}`, "sum\x1b]0;t\a", "P\r1")
	f.Add(`[[[[[[[[[[{"x":"\u202e"}]]]]]]]]]]`, "\u009b", "\xff")
	f.Add(`"just a string"`, "", "")
	f.Fuzz(func(t *testing.T, evidence, summary, id string) {
		if !json.Valid([]byte(evidence)) {
			return
		}
		rec := Recommendation{PublisherID: id, Action: id, PolicyRef: id, Summary: summary, AppealDeadline: id,
			FindingIDs: []string{id}, ShadowFindingIDs: []string{id}, Severity: &id, Basis: json.RawMessage(evidence)}
		e := &Explanation{PublisherID: id, Runs: []ExplainedRun{{RunID: id, Status: id, Recommendation: &rec,
			Findings: []ExplainedFinding{{FindingID: id, Detector: id, Severity: id, Summary: summary, PolicyRef: id,
				Evidence: evidenceObject(evidence), OrderIDs: []string{id, summary}}},
			Suppressed: []SuppressedFinding{{FindingID: id, Summary: summary}}}},
			History: []HistoryLine{{Night: &id, Kind: "finding", FindingID: id, What: id, Summary: summary}},
			Appeals: []Appeal{{Note: summary, DecidedBy: id}}}
		var b strings.Builder
		if err := e.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 in the output")
		}
		for _, r := range out {
			if r != '\n' && unsafeRune(r) {
				t.Fatalf("raw %U in the output:\n%q", r, out)
			}
		}
	})
}
