package rules

import (
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
	"reflect"
	"regexp"
	"sort"
	"strconv"
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

	// root is the merged node tree, src the file of each node, index the
	// file and line of each key path: for errors and `rules diff`.
	root    *yaml.Node
	src     origins
	index   map[string]position
	removed map[string]position
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
	ID             string   `yaml:"id"`
	Title          string   `yaml:"title"`
	Status         string   `yaml:"status"`
	Policy         string   `yaml:"policy"`
	Severity       string   `yaml:"severity"`
	Description    string   `yaml:"description"`
	FalsePositives []string `yaml:"falsepositives"`
	// Thresholds are decoded into the struct the rule's detector declares
	// (Declare): strictly, with ranges, at load time.
	Thresholds yaml.Node `yaml:"thresholds"`
	// Lists are a rule's word or host lists by name (optional): data an
	// analyst tunes without rebuilding, like the thresholds.
	Lists map[string][]string `yaml:"lists"`
	// Exceptions are known-good cases (Falco's exceptions): a value the
	// rule must not flag, with the reason and an optional expiry.
	Exceptions []Exception `yaml:"exceptions"`

	// typed is Thresholds decoded into the declared struct.
	typed any
	// where the rule sits, for error messages
	line   int
	source string
	name   string
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
	at := e.File
	if e.Line > 0 {
		at = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("rule pack %s: %s", at, e.Msg)
	}
	return fmt.Sprintf("rule pack %s: %s: %s", at, e.Key, e.Msg)
}

// Default returns the embedded default pack.
func Default() (*Pack, error) {
	return load(defaultYAML, DefaultName, "")
}

// Load reads a pack file and validates it whole: unknown keys, values of
// the wrong type or out of range, thresholds a detector does not declare,
// and rule names that resolve to nothing are errors at their file:line.
// A pack that says `extends: default` overlays the default key by key
// (see overlay).
func Load(path string) (*Pack, error) {
	if path == "" || path == DefaultName {
		return Default()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule pack: %w", err)
	}
	return load(data, path, filepath.Dir(path))
}

// maxPackBytes bounds a pack file: a real pack is tens of kilobytes.
const maxPackBytes = 16 << 20

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML reads one file's node tree; a syntax error names its line.
func parseYAML(data []byte, file string) (*yaml.Node, error) {
	if len(data) > maxPackBytes {
		return nil, &ValidationError{File: file, Msg: fmt.Sprintf("the file is %d bytes; a rule pack is at most %d", len(data), maxPackBytes)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &ValidationError{File: file, Line: line, Msg: "not valid YAML: " + m[2]}
		}
		return nil, &ValidationError{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	if root.Kind == 0 {
		root = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Line: 1}}}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &ValidationError{File: file, Line: 1, Msg: "a rule pack is a mapping of keys (version, rules, ...)"}
	}
	if a := firstAlias(&root); a != nil {
		// Aliases would let a small file expand to an exponential tree
		// (billion laughs) in every walk over it; a pack needs none.
		return nil, &ValidationError{File: file, Line: a.Line, Msg: "anchors and aliases (*" + a.Value + ") are not allowed in a rule pack: write the value out"}
	}
	return &root, nil
}

func firstAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := firstAlias(c); a != nil {
			return a
		}
	}
	return nil
}

func load(data []byte, file, dir string) (*Pack, error) {
	root, err := parseYAML(data, file)
	if err != nil {
		return nil, err
	}
	src := origins{}
	src.mark(root, file)
	ext := ""
	extNode := mappingValue(root.Content[0], "extends")
	if extNode != nil {
		ext = extNode.Value
	}
	h := sha256.New()
	removed := map[string]position{}
	switch ext {
	case "":
	case DefaultName:
		if file == DefaultName {
			return nil, &ValidationError{File: file, Line: extNode.Line, Key: "extends", Msg: "the default pack cannot extend itself"}
		}
		base, err := parseYAML(defaultYAML, DefaultName)
		if err != nil {
			return nil, err
		}
		src.mark(base, DefaultName)
		if err := (&merger{src: src, file: file, removed: removed}).overlay(base, root); err != nil {
			return nil, err
		}
		root = base
		h.Write(defaultYAML)
	default:
		return nil, &ValidationError{File: file, Line: extNode.Line, Key: "extends", Msg: fmt.Sprintf("unknown pack %q (only %q can be extended)", ext, DefaultName)}
	}
	h.Write(data)
	p, err := build(root, src, removed, file, dir)
	if err != nil {
		return nil, err
	}
	p.SHA256 = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// build decodes a (merged) node tree into a Pack and validates it.
func build(root *yaml.Node, src origins, removed map[string]position, file, dir string) (*Pack, error) {
	c := &checker{src: src}
	c.check(root.Content[0], reflect.TypeOf(Pack{}), "", false)
	if len(c.errs) > 0 {
		return nil, joinSorted(c.errs)
	}
	var p Pack
	if err := root.Content[0].Decode(&p); err != nil {
		return nil, decodeErrors(err, file)
	}
	p.Source, p.Dir, p.root, p.src, p.removed = file, dir, root, src, removed
	p.index = map[string]position{}
	indexPositions(root, src, "", p.index)
	for name, r := range p.Rules {
		r.name = name
		pos := p.index["rules."+name]
		r.source, r.line = pos.file, pos.line
		p.Rules[name] = r
	}
	// A pack written before the penalty ladder existed keeps working with
	// the default ladder (the run manifest records the pack's hash).
	if _, ok := p.index["penalties"]; !ok && file != DefaultName {
		def, err := parseYAML(defaultYAML, DefaultName)
		if err != nil {
			return nil, err
		}
		if err := mappingValue(def.Content[0], "penalties").Decode(&p.Penalties); err != nil {
			return nil, fmt.Errorf("default pack: penalties: %w", err)
		}
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// joinSorted joins errors in file and line order, so a reader fixes them
// top to bottom.
func joinSorted(errs []error) error {
	sort.SliceStable(errs, func(i, j int) bool {
		a, aok := errs[i].(*ValidationError)
		b, bok := errs[j].(*ValidationError)
		if aok && bok {
			if a.File != b.File {
				return a.File > b.File // the user's file before the default's ("default" sorts late)
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
		}
		return errs[i].Error() < errs[j].Error()
	})
	return errors.Join(errs...)
}

// at is the file and line of the key at path, or of its nearest ancestor
// that was written down (a missing key: the mapping that lacks it).
func (p *Pack) at(path string) (string, int) {
	for path != "" {
		if pos, ok := p.index[path]; ok {
			return pos.file, pos.line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return p.Source, 0
}

// errAt is a validation error about the key at path.
func (p *Pack) errAt(path, msg string) error {
	file, line := p.at(path)
	return &ValidationError{File: file, Line: line, Key: path, Msg: msg}
}

func (p *Pack) validate() error {
	var errs []error
	bad := func(path, msg string) { errs = append(errs, p.errAt(path, msg)) }
	if p.Version == "" {
		bad("version", "required")
	}
	for i, b := range p.Brands {
		k := fmt.Sprintf("brands[%d]", i)
		if b.Name == "" {
			bad(k+".name", "required")
		}
		if len(b.Keywords) == 0 {
			bad(k+".keywords", "at least one keyword is required")
		}
	}
	for i, d := range p.Calendar.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			bad(fmt.Sprintf("calendar.holidays[%d]", i), fmt.Sprintf("%q is not a YYYY-MM-DD date", d))
		}
	}
	for i, w := range p.Calendar.Weekend {
		if _, ok := weekdays[strings.ToLower(w)]; !ok {
			bad(fmt.Sprintf("calendar.weekend[%d]", i), fmt.Sprintf("%q is not a day of the week", w))
		}
	}
	p.Commission.validate(func(key, msg string) { bad("commission."+key, msg) })
	errs = append(errs, p.validatePenalties()...)
	declared := declaredRules()
	for _, n := range p.RuleNames() {
		r := p.Rules[n]
		key := "rules." + n
		if len(declared) > 0 {
			if _, ok := declarationOf(n); !ok {
				msg := "no detector reads a rule of this name"
				if s := suggest(n, declared); s != "" {
					msg += "; did you mean " + s + "?"
				}
				bad(key, msg)
				continue
			}
		}
		if r.ID == "" {
			bad(key+".id", "required")
		}
		if r.Policy == "" {
			bad(key+".policy", "required: the clause this rule enforces")
		}
		if !contains(Statuses, r.Status) {
			bad(key+".status", fmt.Sprintf("%q is not one of %s", r.Status, strings.Join(Statuses, ", ")))
		}
		if !contains([]string{"low", "medium", "high", "critical"}, r.Severity) {
			bad(key+".severity", fmt.Sprintf("%q is not one of low, medium, high, critical", r.Severity))
		}
		for i, e := range r.Exceptions {
			k := fmt.Sprintf("%s.exceptions[%d]", key, i)
			if e.Value == "" {
				bad(k+".value", "required")
			}
			if e.Reason == "" {
				bad(k+".reason", "required: why this case is known-good")
			}
			if e.Expires != "" {
				if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
					bad(k+".expires", fmt.Sprintf("%q is not a YYYY-MM-DD date", e.Expires))
				}
			}
		}
		if d, ok := declarationOf(n); ok {
			node := mappingValue(mappingValue(mappingValue(p.root.Content[0], "rules"), n), "thresholds")
			v, err := decodeThresholds(r, node, d.typ, p.src)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r.typed = v
			p.Rules[n] = r
		}
	}
	for _, n := range declared {
		if _, ok := p.Rules[n]; !ok {
			bad("rules."+n, "required: the detector "+n+" reads this rule (start the pack with `extends: default` to inherit it)")
		}
	}
	errs = flatten(errs)
	for _, e := range errs {
		// An error about a key the user's file removed points at the removal.
		if ve, ok := e.(*ValidationError); ok {
			if pos, ok := p.removed[ve.Key]; ok {
				ve.File, ve.Line = pos.file, pos.line
			}
		}
	}
	return joinSorted(errs)
}

// flatten unwraps joined errors, so each sorts by its own line.
func flatten(errs []error) []error {
	var out []error
	for _, e := range errs {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			out = append(out, flatten(j.Unwrap())...)
			continue
		}
		out = append(out, e)
	}
	return out
}

// validate checks the commission terms; errors name the key and its line.
func (c *Commission) validate(bad func(key, msg string)) {
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
// set from set (a NaN value removes the key), decoded and validated again,
// for trying a tuned value without touching the pack it came from. The
// rule must exist.
func (p *Pack) WithThresholds(rule string, set map[string]float64) (*Pack, error) {
	r, ok := p.Rules[rule]
	if !ok {
		return nil, fmt.Errorf("rule pack %s has no rule %q", p.Source, rule)
	}
	th := copyNode(&r.Thresholds)
	if th.Kind == 0 {
		th = &yaml.Node{Kind: yaml.MappingNode}
	}
	keys := sortedKeys(set)
	for _, k := range keys {
		v := set[k]
		i := mappingIndex(th, k)
		if v != v { // NaN
			if i >= 0 {
				th.Content = append(th.Content[:i], th.Content[i+2:]...)
			}
			continue
		}
		val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(v, 'g', -1, 64)}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			val.Tag, val.Value = "!!int", strconv.FormatInt(int64(v), 10)
		}
		if i >= 0 {
			th.Content[i+1] = val
		} else {
			th.Content = append(th.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, val)
		}
	}
	r.Thresholds = *th
	r.typed = nil
	if d, ok := declarationOf(rule); ok {
		v, err := decodeThresholds(r, nil, d.typ, nil)
		if err != nil {
			return nil, err
		}
		r.typed = v
	}
	cp := *p
	cp.Rules = make(map[string]Rule, len(p.Rules))
	for k, v := range p.Rules {
		cp.Rules[k] = v
	}
	cp.Rules[rule] = r
	return &cp, nil
}

func copyNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = copyNode(x)
	}
	return &c
}

var decodeLine = regexp.MustCompile(`^line (\d+): ([^:]+): (.*)$`)

// decodeErrors turns the errors a section's own UnmarshalYAML reports
// ("line N: key: message") into ValidationErrors at the pack's file:line,
// so they read like every other pack error.
func decodeErrors(err error, file string) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &ValidationError{File: file, Msg: err.Error()}
	}
	var errs []error
	for _, e := range te.Errors {
		if m := decodeLine.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			errs = append(errs, &ValidationError{File: file, Line: line, Key: m[2], Msg: m[3]})
			continue
		}
		errs = append(errs, &ValidationError{File: file, Msg: e})
	}
	return joinSorted(errs)
}
