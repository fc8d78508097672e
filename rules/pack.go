package rules

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// brandFS holds the default pack's reference logos (brands[].logos):
// rules/brand/README.md.
//
//go:embed brand
var brandFS embed.FS

// DefaultName is the name a pack uses in `extends:` to build on the default.
const DefaultName = "default"

// Pack is a loaded, validated rule pack.
type Pack struct {
	Version    string          `yaml:"version"`
	Extends    string          `yaml:"extends"`
	Program    string          `yaml:"program"`
	Brands     []Brand         `yaml:"brands"`
	Calendar   Calendar        `yaml:"calendar"`
	Commission Commission      `yaml:"commission"`
	Rules      map[string]Rule `yaml:"rules"`
	Penalties  Penalties       `yaml:"penalties"`
	// AllowList holds known-good cases the penalty stage suppresses (and
	// the report lists).
	AllowList []AllowEntry `yaml:"allowlist"`
	// ReferenceLists are the maintained bot and IP lists (reflists.go).
	ReferenceLists ReferenceLists `yaml:"reference_lists"`

	// Source is the file the pack came from ("default" for the embedded one).
	Source string `yaml:"-"`
	// SHA256 is the hash of the pack's bytes, with the default's bytes first
	// when it extends the default.
	SHA256 string `yaml:"-"`
	// Dir resolves relative paths in the pack (logos); empty for the default.
	Dir string `yaml:"-"`
}

// Brand is one protected brand (DESIGN §5, contract).
type Brand struct {
	Name     string   `yaml:"name"`
	Domains  []string `yaml:"domains"`
	Keywords []string `yaml:"keywords"`
	Logos    []string `yaml:"logos"`
}

// Commission holds the program's commission terms (epn-commission-table.txt,
// epn-rates-and-rules.txt). Rates are percentages of the item price; every
// key added after the first three is optional, so older packs still load
// (a check that needs a missing key is skipped and says so in the run's
// signals).
type Commission struct {
	CookieDays     map[string]int `yaml:"cookie_days"` // region ("cis", "other") → days
	CISCountries   []string       `yaml:"cis_countries"`
	PerOrderCapUSD float64        `yaml:"per_order_cap_usd"`

	// InSession lists the regions ("cis", "other") whose orders count only
	// within the click's session (Portals FAQ 3: "session based tracking")
	// instead of their cookie days; a session is taken to last
	// SessionMinutes after the click.
	InSession      []string `yaml:"in_session"`
	SessionMinutes int      `yaml:"session_minutes"`
	// CategoryRates is Table 1: product category → rate in %. Categories
	// are matched case-insensitively with blanks around "&" and runs of
	// spaces ignored ("home audio& video equipment").
	CategoryRates map[string]float64 `yaml:"category_rates"`
	// DefaultRate is Table 1's "all other category"; nil: no table, the
	// expected commission is not recomputed.
	DefaultRate *float64 `yaml:"default_rate"`
	// ZeroRateCategories are paid 0 % (Table 1's special category: virtual
	// products, gift cards, coupons, books, travel; transport costs and
	// mobile payments).
	ZeroRateCategories []string `yaml:"zero_rate_categories"`
	// BrandStores are the stores paid BrandStoreRate (Table 1 **), matched
	// case-insensitively against the seller's name or id.
	BrandStores    []string `yaml:"brand_stores"`
	BrandStoreRate *float64 `yaml:"brand_store_rate"`
	// HotSaleMaxRate bounds the Hot Sale rate ("up to 70%"), which applies
	// only when the click led straight to the product.
	HotSaleMaxRate *float64 `yaml:"hot_sale_max_rate"`
	// CISMaxRate, when set, replaces the category table for orders shipped
	// to the CIS, whose rates the sellers set (up to this); nil: Table 1
	// applies everywhere.
	CISMaxRate *float64 `yaml:"cis_max_rate"`
	// CouponOrders is "allow" (default) or "disqualify": whether an order
	// paid with an AliExpress coupon earns no commission.
	CouponOrders string `yaml:"coupon_orders"`

	// where the section's keys sit, for error messages
	lines  map[string]int
	source string
}

// Coupon policies of Commission.CouponOrders.
const (
	CouponAllow      = "allow"
	CouponDisqualify = "disqualify"
)

// Regions of Commission.CookieDays.
const (
	RegionCIS   = "cis"
	RegionOther = "other"
)

// NormalizeCategory is the form categories are compared in: lower case,
// "&" set off by single spaces, runs of blanks collapsed.
func NormalizeCategory(s string) string {
	s = strings.ReplaceAll(strings.ToLower(s), "&", " & ")
	return strings.Join(strings.Fields(s), " ")
}

// RateBP converts a rate in % to basis points (1/100 %), the unit money is
// computed in; ok is false when the rate has more than two decimals.
func RateBP(pct float64) (bp int64, ok bool) {
	x := pct * 100
	r := math.Round(x)
	return int64(r), math.Abs(x-r) < 1e-6
}

// Calendar says which days count as working days.
type Calendar struct {
	Weekend  []string `yaml:"weekend"`
	Holidays []string `yaml:"holidays"`
}

// Rule is one detector's rule, in the spirit of a Sigma rule.
type Rule struct {
	ID             string             `yaml:"id"`
	Title          string             `yaml:"title"`
	Status         string             `yaml:"status"`
	Policy         string             `yaml:"policy"`
	Severity       string             `yaml:"severity"`
	Description    string             `yaml:"description"`
	FalsePositives []string           `yaml:"falsepositives"`
	Thresholds     map[string]float64 `yaml:"thresholds"`
	// Lists are a rule's word or host lists by name (optional): data an
	// analyst tunes without rebuilding, like the thresholds.
	Lists map[string][]string `yaml:"lists"`
	// Exceptions are known-good cases (Falco's exceptions): a value the
	// rule must not flag, with the reason and an optional expiry.
	Exceptions []Exception `yaml:"exceptions"`

	// where the rule sits, for error messages
	thresholdLines map[string]int
	line           int
	source         string
	name           string
}

// Exception is one known-good case of a rule: Value is matched as the rule
// documents (a domain, a publisher id…); after Expires (YYYY-MM-DD,
// inclusive; empty: never) it no longer applies.
type Exception struct {
	Value   string `yaml:"value"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"`
}

// Active reports whether the exception applies on day (UTC).
func (e Exception) Active(day time.Time) bool {
	if e.Expires == "" {
		return true
	}
	end, err := time.Parse(time.DateOnly, e.Expires)
	if err != nil {
		return false
	}
	return !day.UTC().After(end.Add(24*time.Hour - time.Nanosecond))
}

// List returns the rule's list of that name, or an error naming the pack,
// rule and key when the rule lacks it.
func (r Rule) List(key string) ([]string, error) {
	v, ok := r.Lists[key]
	if !ok {
		return nil, &ValidationError{File: r.source, Line: r.line, Key: "rules." + r.name + ".lists." + key, Msg: "required list is missing"}
	}
	return v, nil
}

// Statuses a rule may have (Sigma's): only stable rules may drive actions
// beyond a warning.
var Statuses = []string{"stable", "test", "experimental"}

// ValidationError names where in a pack a value is wrong.
type ValidationError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ValidationError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
}

// Default returns the embedded default pack.
func Default() (*Pack, error) {
	return parse(defaultYAML, DefaultName, "")
}

// Load reads a pack file. A pack that says `extends: default` starts from the
// default pack; each top-level key it sets replaces the default's.
func Load(path string) (*Pack, error) {
	if path == "" || path == DefaultName {
		return Default()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule pack: %w", err)
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ext := ""
	if n, ok := top["extends"]; ok {
		ext = n.Value
	}
	switch ext {
	case "":
		return parse(data, path, filepath.Dir(path))
	case DefaultName:
		var base map[string]yaml.Node
		if err := yaml.Unmarshal(defaultYAML, &base); err != nil {
			return nil, fmt.Errorf("default pack: %w", err)
		}
		for k, v := range top {
			base[k] = v
		}
		merged, err := yaml.Marshal(base)
		if err != nil {
			return nil, err
		}
		// Errors must point into the user's file: validate the user's keys
		// against its own lines first, then the merged result.
		if _, err := parseLoose(data, path); err != nil {
			return nil, err
		}
		p, err := decode(merged, path, filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		// Positions must point into the file that defines each rule: the
		// default pack, unless this file sets `rules` itself.
		var defRoot, userRoot yaml.Node
		yaml.Unmarshal(defaultYAML, &defRoot)
		yaml.Unmarshal(data, &userRoot)
		src := p.Source
		p.Source = DefaultName
		p.attachLines(&defRoot)
		p.Source = src
		_, userRules := top["rules"]
		_, userCommission := top["commission"]
		_, userPenalties := top["penalties"]
		_, userAllow := top["allowlist"]
		if userRules || userCommission || userPenalties || userAllow {
			p.attachLines(&userRoot)
		}
		if err := p.validate(); err != nil {
			return nil, err
		}
		h := sha256.New()
		h.Write(defaultYAML)
		h.Write(data)
		p.SHA256 = hex.EncodeToString(h.Sum(nil))
		return p, nil
	default:
		return nil, &ValidationError{File: path, Line: top["extends"].Line, Key: "extends", Msg: fmt.Sprintf("unknown pack %q (only %q can be extended)", ext, DefaultName)}
	}
}

// parseLoose decodes with unknown-field checks but no completeness checks.
func parseLoose(data []byte, source string) (*Pack, error) {
	var p Pack
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &p, nil
}

func parse(data []byte, source, dir string) (*Pack, error) {
	p, err := decode(data, source, dir)
	if err != nil {
		return nil, err
	}
	// A pack written before the penalty ladder existed keeps working with
	// the default ladder (the run manifest records the pack's hash).
	if p.Penalties.Ladder == nil && p.Penalties.line == 0 && source != DefaultName {
		def, err := Default()
		if err != nil {
			return nil, err
		}
		p.Penalties = def.Penalties
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// decode reads a pack and records where its rules sit, without validating.
func decode(data []byte, source, dir string) (*Pack, error) {
	p, err := parseLoose(data, source)
	if err != nil {
		return nil, err
	}
	p.Source, p.Dir = source, dir
	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	p.attachLines(&root)
	return p, nil
}

// attachLines records where each rule and threshold sits in the file.
func (p *Pack) attachLines(root *yaml.Node) {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return
	}
	if c := mapValue(root.Content[0], "commission"); c != nil {
		p.Commission.source = p.Source
		p.Commission.lines = map[string]int{"": c.Line}
		for i := 0; i+1 < len(root.Content[0].Content); i += 2 {
			if k := root.Content[0].Content[i]; k.Value == "commission" {
				p.Commission.lines[""] = k.Line
			}
		}
		for i := 0; i+1 < len(c.Content); i += 2 {
			k, v := c.Content[i], c.Content[i+1]
			p.Commission.lines[k.Value] = k.Line
			if v.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(v.Content); j += 2 {
					p.Commission.lines[k.Value+"."+v.Content[j].Value] = v.Content[j].Line
				}
			}
		}
	}
	for i := 0; i+1 < len(root.Content[0].Content); i += 2 {
		switch root.Content[0].Content[i].Value {
		case "penalties":
			p.Penalties.line, p.Penalties.source = root.Content[0].Content[i].Line, p.Source
		case "allowlist":
			for j, n := range root.Content[0].Content[i+1].Content {
				if j < len(p.AllowList) {
					p.AllowList[j].line = n.Line
				}
			}
		}
	}
	rulesNode := mapValue(root.Content[0], "rules")
	if rulesNode == nil {
		return
	}
	for i := 0; i+1 < len(rulesNode.Content); i += 2 {
		name := rulesNode.Content[i].Value
		r, ok := p.Rules[name]
		if !ok {
			continue
		}
		r.line = rulesNode.Content[i].Line
		r.source = p.Source
		r.name = name
		r.thresholdLines = map[string]int{}
		if th := mapValue(rulesNode.Content[i+1], "thresholds"); th != nil {
			for j := 0; j+1 < len(th.Content); j += 2 {
				r.thresholdLines[th.Content[j].Value] = th.Content[j].Line
			}
		}
		p.Rules[name] = r
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (p *Pack) validate() error {
	var errs []error
	bad := func(line int, key, msg string) {
		errs = append(errs, &ValidationError{File: p.Source, Line: line, Key: key, Msg: msg})
	}
	badRule := func(r Rule, key, msg string) {
		file := r.source
		if file == "" {
			file = p.Source
		}
		errs = append(errs, &ValidationError{File: file, Line: r.line, Key: key, Msg: msg})
	}
	if p.Version == "" {
		bad(0, "version", "required")
	}
	for i, b := range p.Brands {
		if b.Name == "" {
			bad(0, fmt.Sprintf("brands[%d].name", i), "required")
		}
		if len(b.Keywords) == 0 {
			bad(0, fmt.Sprintf("brands[%d].keywords", i), "at least one keyword is required")
		}
	}
	for _, d := range p.Calendar.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			bad(0, "calendar.holidays", fmt.Sprintf("%q is not a YYYY-MM-DD date", d))
		}
	}
	for _, w := range p.Calendar.Weekend {
		if _, ok := weekdays[strings.ToLower(w)]; !ok {
			bad(0, "calendar.weekend", fmt.Sprintf("%q is not a day of the week", w))
		}
	}
	errs = append(errs, p.Commission.validate(p.Source)...)
	errs = append(errs, p.validatePenalties()...)
	for _, n := range p.RuleNames() {
		r := p.Rules[n]
		key := "rules." + n
		if r.ID == "" {
			badRule(r, key+".id", "required")
		}
		if r.Policy == "" {
			badRule(r, key+".policy", "required: the clause this rule enforces")
		}
		if !contains(Statuses, r.Status) {
			badRule(r, key+".status", fmt.Sprintf("%q is not one of %s", r.Status, strings.Join(Statuses, ", ")))
		}
		if !contains([]string{"low", "medium", "high", "critical"}, r.Severity) {
			badRule(r, key+".severity", fmt.Sprintf("%q is not one of low, medium, high, critical", r.Severity))
		}
		for i, e := range r.Exceptions {
			k := fmt.Sprintf("%s.exceptions[%d]", key, i)
			if e.Value == "" {
				badRule(r, k+".value", "required")
			}
			if e.Reason == "" {
				badRule(r, k+".reason", "required: why this case is known-good")
			}
			if e.Expires != "" {
				if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
					badRule(r, k+".expires", fmt.Sprintf("%q is not a YYYY-MM-DD date", e.Expires))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// validate checks the commission terms; errors name the key and its line.
func (c *Commission) validate(packSource string) []error {
	var errs []error
	file := c.source
	if file == "" {
		file = packSource
	}
	bad := func(key, msg string) {
		line := c.lines[key]
		if line == 0 {
			line = c.lines[strings.SplitN(key, ".", 2)[0]]
		}
		if line == 0 {
			line = c.lines[""] // a missing key: the section
		}
		errs = append(errs, &ValidationError{File: file, Line: line, Key: "commission." + key, Msg: msg})
	}
	rate := func(key string, v float64) {
		if _, ok := RateBP(v); !ok || v < 0 || v > 100 {
			bad(key, fmt.Sprintf("%v is not a rate in %% between 0 and 100 with at most two decimals", v))
		}
	}
	for _, region := range sortedKeys(c.CookieDays) {
		if region != RegionCIS && region != RegionOther {
			bad("cookie_days."+region, fmt.Sprintf("unknown region %q (cis or other)", region))
		}
		if c.CookieDays[region] < 0 {
			bad("cookie_days."+region, "days must not be negative")
		}
	}
	for _, cc := range c.CISCountries {
		if len(cc) != 2 || strings.ToUpper(cc) != cc {
			bad("cis_countries", fmt.Sprintf("%q is not an upper-case ISO 3166 alpha-2 code", cc))
		}
	}
	if c.PerOrderCapUSD < 0 {
		bad("per_order_cap_usd", "must not be negative (0: no cap)")
	}
	for _, region := range c.InSession {
		if region != RegionCIS && region != RegionOther {
			bad("in_session", fmt.Sprintf("unknown region %q (cis or other)", region))
		}
	}
	if len(c.InSession) > 0 && c.SessionMinutes <= 0 {
		bad("session_minutes", "must be positive when in_session names a region")
	}
	seen := map[string]string{}
	for _, cat := range sortedKeys(c.CategoryRates) {
		key := "category_rates." + cat
		rate(key, c.CategoryRates[cat])
		n := NormalizeCategory(cat)
		if prev, dup := seen[n]; dup {
			bad(key, fmt.Sprintf("same category as %q", prev))
		}
		seen[n] = cat
	}
	if len(c.CategoryRates) > 0 && c.DefaultRate == nil {
		bad("default_rate", "required with category_rates: the rate of every other category")
	}
	for _, cat := range c.ZeroRateCategories {
		if prev, dup := seen[NormalizeCategory(cat)]; dup && c.CategoryRates[prev] != 0 {
			bad("zero_rate_categories", fmt.Sprintf("%q also has rate %v in category_rates", cat, c.CategoryRates[prev]))
		}
	}
	for key, v := range map[string]*float64{"default_rate": c.DefaultRate, "brand_store_rate": c.BrandStoreRate,
		"hot_sale_max_rate": c.HotSaleMaxRate, "cis_max_rate": c.CISMaxRate} {
		if v != nil {
			rate(key, *v)
		}
	}
	if len(c.BrandStores) > 0 && c.BrandStoreRate == nil {
		bad("brand_store_rate", "required with brand_stores")
	}
	switch c.CouponOrders {
	case "", CouponAllow, CouponDisqualify:
	default:
		bad("coupon_orders", fmt.Sprintf("%q is not one of %s, %s", c.CouponOrders, CouponAllow, CouponDisqualify))
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// RuleNames returns the pack's rule names (detector codes), sorted.
func (p *Pack) RuleNames() []string {
	names := make([]string, 0, len(p.Rules))
	for n := range p.Rules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Rule returns the rule for a detector code, or an error naming the pack.
func (p *Pack) Rule(code string) (Rule, error) {
	r, ok := p.Rules[code]
	if !ok {
		return Rule{}, fmt.Errorf("rule pack %s has no rule %q", p.Source, code)
	}
	return r, nil
}

// Threshold returns a threshold the detector needs, or an error naming the
// pack, rule and key, so a typo in a tuned pack fails loudly.
func (r Rule) Threshold(key string) (float64, error) {
	v, ok := r.Thresholds[key]
	if !ok {
		return 0, &ValidationError{File: r.source, Line: r.line, Key: "rules." + r.name + ".thresholds." + key, Msg: "required threshold is missing"}
	}
	return v, nil
}

// Fill sets each dst pointer to the rule's threshold of that key,
// reporting every missing key at once.
func (r Rule) Fill(dst map[string]*float64) error {
	var errs []error
	keys := make([]string, 0, len(dst))
	for k := range dst {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := r.Threshold(k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*dst[k] = v
	}
	return errors.Join(errs...)
}

// AddWorkingDays returns the date n working days after from, skipping the
// calendar's weekend days and holidays (G.12's Claim Period).
func (c Calendar) AddWorkingDays(from time.Time, n int) time.Time {
	weekend := map[time.Weekday]bool{}
	for _, w := range c.Weekend {
		weekend[weekdays[strings.ToLower(w)]] = true
	}
	holidays := map[string]bool{}
	for _, h := range c.Holidays {
		holidays[h] = true
	}
	d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if weekend[d.Weekday()] || holidays[d.Format(time.DateOnly)] {
			continue
		}
		n--
	}
	return d
}

// DefaultYAML returns the embedded default pack's text.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// MaxLogoBytes caps a reference logo read by ReadLogo.
const MaxLogoBytes = 8 << 20

// ReadLogo returns the bytes of a reference logo named in brands[].logos.
// Paths are relative to the pack's file; the embedded default pack's (and
// those a pack extending the default inherits and lacks beside its own
// file) resolve to the embedded rules/brand files.
func (p *Pack) ReadLogo(name string) ([]byte, error) {
	clean := filepath.ToSlash(filepath.Clean(name))
	if name == "" || filepath.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, fmt.Errorf("%s: logo %q: want a path relative to the pack", p.Source, name)
	}
	if p.Dir != "" {
		f, err := os.Open(filepath.Join(p.Dir, filepath.FromSlash(clean)))
		if err == nil {
			defer f.Close()
			return readCapped(f, name)
		}
		if !errors.Is(err, fs.ErrNotExist) || p.Extends != DefaultName {
			return nil, fmt.Errorf("%s: logo: %w", p.Source, err)
		}
	}
	f, err := brandFS.Open(clean)
	if err != nil {
		return nil, fmt.Errorf("%s: logo %q: not in the embedded default pack: %w", p.Source, name, err)
	}
	defer f.Close()
	return readCapped(f, name)
}

func readCapped(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxLogoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("logo %q: %w", name, err)
	}
	if len(b) > MaxLogoBytes {
		return nil, fmt.Errorf("logo %q: over %d bytes", name, MaxLogoBytes)
	}
	return b, nil
}

// WithThresholds returns a copy of the pack in which rule's thresholds are
// set from set (a NaN value removes the key), for trying a tuned value
// without touching the pack it came from. The rule must exist.
func (p *Pack) WithThresholds(rule string, set map[string]float64) (*Pack, error) {
	r, ok := p.Rules[rule]
	if !ok {
		return nil, fmt.Errorf("rule pack %s has no rule %q", p.Source, rule)
	}
	th := make(map[string]float64, len(r.Thresholds)+len(set))
	for k, v := range r.Thresholds {
		th[k] = v
	}
	for k, v := range set {
		if v != v { // NaN
			delete(th, k)
			continue
		}
		th[k] = v
	}
	r.Thresholds = th
	cp := *p
	cp.Rules = make(map[string]Rule, len(p.Rules))
	for k, v := range p.Rules {
		cp.Rules[k] = v
	}
	cp.Rules[rule] = r
	return &cp, nil
}
