package rules

import (
	"strings"
	"testing"
	"time"
)

func TestRuleListsAndExceptions(t *testing.T) {
	withDeclarations(t, nil) // rule "x" is read by no detector
	path := writePack(t, `version: "1"
rules:
  x:
    id: X-1
    policy: "8.3"
    status: test
    severity: low
    lists:
      stop_words: [express, alibris]
    exceptions:
      - {value: alibris.com, reason: a bookseller, expires: "2026-12-31"}
      - {value: never.example, reason: forever}
`)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Rule("x")
	words, err := r.List("stop_words")
	if err != nil || len(words) != 2 || words[1] != "alibris" {
		t.Fatalf("List = %v, %v", words, err)
	}
	if _, err := r.List("missing"); err == nil || !strings.Contains(err.Error(), "rules.x.lists.missing") {
		t.Errorf("missing list error = %v", err)
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d.Add(23 * time.Hour) }
	if !r.Exceptions[0].Active(day("2026-12-31")) || r.Exceptions[0].Active(day("2027-01-01")) {
		t.Error("expiry is inclusive of its day and ends after it")
	}
	if !r.Exceptions[1].Active(day("2099-01-01")) {
		t.Error("an exception without expiry never expires")
	}

	bad := writePack(t, `version: "1"
rules:
  x:
    id: X-1
    policy: "8.3"
    status: test
    severity: low
    exceptions:
      - {value: a.example, expires: "31.12.2026"}
`)
	_, err = Load(bad)
	if err == nil || !strings.Contains(err.Error(), "exceptions[0].reason") || !strings.Contains(err.Error(), "exceptions[0].expires") {
		t.Errorf("bad exception error = %v", err)
	}
}
