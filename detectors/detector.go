package detectors

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"affwatch/rules"
)

// Detector codes of DESIGN §6 (contract).
const (
	CookieStuffing    = "cookie_stuffing"
	ClickBurst        = "click_burst"
	SelfPurchase      = "self_purchase"
	SelfPromotion     = "self_promotion"
	PopupTraffic      = "popup_traffic"
	BrandDomain       = "brand_domain"
	BrandMisuse       = "brand_misuse"
	LogoCopy          = "logo_copy"
	ProhibitedContent = "prohibited_content"
	InvalidCommission = "invalid_commission"
)

// Severities of DESIGN §6, weakest first.
var Severities = []string{"low", "medium", "high", "critical"}

// Env is what a detector may use.
type Env struct {
	DB      *sql.DB
	RunID   string
	Night   Night
	Pack    *rules.Pack
	Signals *Signals
	// Part is the share of publishers judged; the zero value is all.
	Part Partition
	// Baselines is the directory of a baselines pass whose Parquet files
	// hold the program-wide tables (GlobalTable); empty: compute them here.
	Baselines string
	// OnDetector, when set, hears when each detector starts (took 0) and
	// ends, with its time and the findings it kept: the run logs them, so
	// an operator sees which detector a long night is in.
	OnDetector func(code string, done bool, took time.Duration, findings int)
	// Log, when set, hears how long each program-wide table took (debug
	// level): the state a night keeps is where a slow night's time goes.
	Log *slog.Logger
}

// Detector is one rule of the program, checked over whole tables.
type Detector interface {
	// Code is the detector code of DESIGN §6.
	Code() string
	// Run examines the store and returns its findings. It must not write
	// findings itself: the pipeline stores them in one transaction.
	Run(ctx context.Context, env Env) ([]Finding, error)
}

// Finding is one row of findings.ndjson (DESIGN §6, contract).
type Finding struct {
	FindingID     string          `json:"finding_id"`
	PublisherID   string          `json:"publisher_id"`
	Detector      string          `json:"detector"`
	RuleID        string          `json:"rule_id"`
	RuleStatus    string          `json:"rule_status"`
	Severity      string          `json:"severity"`
	Score         float64         `json:"score"`
	PolicyRef     string          `json:"policy_ref"`
	Summary       string          `json:"summary"`
	Evidence      json.RawMessage `json:"evidence"`
	WindowStart   time.Time       `json:"window_start"`
	WindowEnd     time.Time       `json:"window_end"`
	OrderIDs      []string        `json:"order_ids"`
	CommissionUSD float64         `json:"commission_usd"`
	// Discriminator tells apart findings of one detector, publisher and
	// window (a site, a seller, a logo): part of FindingID, not output.
	Discriminator string `json:"-"`
	// Sites are the hosts of the publisher's sites and pages the finding is
	// about (SiteHosts), set by the detectors that judge sites; empty for
	// the traffic detectors, whose findings are about the publisher. An
	// allow-list entry by domain matches these, or the publisher's
	// registered sites when there are none. Stored, not output.
	Sites []string `json:"-"`
}

// SiteHosts reduces URLs or host names to lower-case hosts, deduplicated
// and sorted: a Finding's Sites.
func SiteHosts(urls ...string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, u := range urls {
		if h := HostOf(u); h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// HostOf is the lower-case host of a URL or host name ("" when it has
// none).
func HostOf(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		s = u.Hostname()
	} else {
		// a bare address (deals@shop.example, mailto:…): its host
		if i := strings.LastIndex(s, "@"); i >= 0 {
			s = s[i+1:]
		}
		if i := strings.IndexAny(s, "/:?#"); i >= 0 {
			s = s[:i]
		}
	}
	return strings.TrimSuffix(strings.ToLower(s), ".")
}

// RuleNamer is a detector whose rule in the pack has another name than its
// code (the page-code rules judge cookie stuffing and pop-ups on crawled
// pages under rules of their own).
type RuleNamer interface {
	RuleName() string
}

// Complete fills the envelope of the findings detector d returned (DESIGN
// §6): the detector code, the rule's id, status and clause from the pack,
// the severity capped at the rule's, windows in UTC, and the stable
// FindingID of (detector, publisher, window, discriminator). Detectors
// compute what they judge; the envelope is the same for all.
func Complete(pack *rules.Pack, d Detector, fs []Finding) error {
	name := d.Code()
	if n, ok := d.(RuleNamer); ok {
		name = n.RuleName()
	}
	rule, err := pack.Rule(name)
	if err != nil {
		return err
	}
	for i := range fs {
		f := &fs[i]
		f.Detector = d.Code()
		f.RuleID, f.RuleStatus, f.PolicyRef = rule.ID, rule.Status, rule.Policy
		if SeverityRank(f.Severity) > SeverityRank(rule.Severity) {
			f.Severity = rule.Severity
		}
		f.WindowStart, f.WindowEnd = f.WindowStart.UTC(), f.WindowEnd.UTC()
		f.FindingID = FindingID(f.Detector, f.PublisherID, f.WindowStart, f.WindowEnd, f.Discriminator)
	}
	return nil
}

// FindingID derives a finding's id from what it is about, so that re-running
// the same input yields the same ids (DESIGN §6: stable across re-runs).
func FindingID(detector, publisherID string, windowStart, windowEnd time.Time, discriminator string) string {
	h := sha256.New()
	for _, part := range []string{detector, publisherID, windowStart.UTC().Format(time.RFC3339), windowEnd.UTC().Format(time.RFC3339), discriminator} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return detector[:2] + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// SeverityFromScore maps a 0–1 score to a severity; rules may cap it.
func SeverityFromScore(score float64) string {
	switch {
	case score >= 0.9:
		return "critical"
	case score >= 0.7:
		return "high"
	case score >= 0.4:
		return "medium"
	default:
		return "low"
	}
}

// SeverityRank orders severities, low = 0; unknown = -1.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return -1
}

// Signals collects the signals detectors could not use (DESIGN §3: a missing
// optional column means "signal unavailable", recorded in the manifest).
type Signals struct {
	items []Unavailable
}

// Unavailable is one signal a detector went without.
type Unavailable struct {
	Detector string `json:"detector"`
	Signal   string `json:"signal"`
	Reason   string `json:"reason"`
}

// Add records that detector went without signal, and why.
func (s *Signals) Add(detector, signal, reason string) {
	s.items = append(s.items, Unavailable{detector, signal, reason})
}

// List returns the recorded signals, sorted for deterministic output.
func (s *Signals) List() []Unavailable {
	out := append([]Unavailable(nil), s.items...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Detector != b.Detector {
			return a.Detector < b.Detector
		}
		return a.Signal < b.Signal
	})
	return out
}

// Columns reports which of a table's contract columns hold at least one
// value in the loaded data, so a detector can tell "absent" from "false".
func Columns(ctx context.Context, db *sql.DB, table string, cols ...string) (map[string]bool, error) {
	if !allowedTables[table] {
		return nil, fmt.Errorf("columns: unknown table %q", table)
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		if !isIdent(c) {
			return nil, fmt.Errorf("columns: bad column name %q", c)
		}
		// EXISTS stops at the first value; count(c) > 0 read every row
		// of the history each night.
		parts[i] = fmt.Sprintf("EXISTS (SELECT 1 FROM %s WHERE %s IS NOT NULL)", table, c)
	}
	row := db.QueryRowContext(ctx, "SELECT "+strings.Join(parts, ", "))
	vals := make([]bool, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := row.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	out := make(map[string]bool, len(cols))
	for i, c := range cols {
		out[c] = vals[i]
	}
	return out, nil
}

var allowedTables = map[string]bool{"clicks": true, "orders": true, "publishers": true, "sites": true, "sellers": true, "buyers": true, "ads": true}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
