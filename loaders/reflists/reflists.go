// Package reflists loads the maintained reference lists the rule pack
// names (reference_lists: a known-bot user-agent list such as the npm
// package crawler-user-agents, an IAB/ABC spiders-and-bots file, the
// pack's own patterns, CIDR files of data-centre, Tor-exit and internal
// ranges) and labels every stored click and order with them: a click is
// general invalid traffic (GIVT, the MRC's list-based class) when its user
// agent is a declared bot or its address is in a data-centre range. The
// labels go to the click_traffic table, which click_burst (E.10.c) and
// cookie_stuffing (1.6) read, and to order_ip_class, which only the
// per-list match counts read so far (no detector judges an order by its
// buyer's address yet), and each list's name, version and SHA-256 to
// reference_lists (run.json).
//
// A list that is configured but not installed is not an error: the run
// says the signal is unavailable and goes on with what it has.
package reflists

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed reflists.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// Kinds of list.
const (
	KindBots   = "bot_user_agents"
	KindRanges = "ip_ranges"
)

// Info describes one list a run read (run.json reference_lists).
type Info struct {
	Kind    string  `json:"kind"`
	Name    string  `json:"name"`
	Class   string  `json:"class,omitempty"`
	Version string  `json:"version"`
	SHA256  string  `json:"sha256,omitempty"`
	Path    string  `json:"path"`
	Entries int     `json:"entries"`
	Rejects Rejects `json:"rejected"`
	Matched int64   `json:"matched"`
}

// Unavailable is a list the run went without, and why.
type Unavailable struct {
	Signal, Reason string
}

// Options override the pack.
type Options struct {
	// BotList replaces reference_lists.bot_user_agents.path.
	BotList string
	// Night is the night being run (zero: a backfill): its stored rows were
	// replaced by tonight's files, so its labels are computed again.
	Night time.Time
}

// Result is what Label read and did.
type Result struct {
	Lists       []Info
	Unavailable []Unavailable
	GIVTClicks  int64
	// Relabelled: the lists differ from those the stored labels were
	// computed with, so every stored click and order was labelled again.
	Relabelled bool
}

type patternList struct {
	info     Info
	patterns []Pattern
}

type rangeList struct {
	info   Info
	ranges []Range
}

// Label reads the pack's lists and rewrites click_traffic and
// order_ip_class for every stored click and order, recording the lists in
// reference_lists under runID.
func Label(ctx context.Context, db *sql.DB, pack *rules.Pack, runID string, opt Options) (*Result, error) {
	cfg := pack.ReferenceLists
	res := &Result{}
	var pls []patternList
	botPath := pack.ResolvePath(cfg.BotUserAgents.Path)
	botLine := cfg.Line("bot_user_agents.path")
	if opt.BotList != "" {
		botPath, botLine = opt.BotList, 0
	}
	switch pl, err := readBotList(botPath, ParseBotJSON); {
	case botPath == "":
		res.Unavailable = append(res.Unavailable, Unavailable{"reference_lists.bot_user_agents", "no known-bot user-agent list configured: declared bots are recognised by the pack's extra_patterns only"})
	case errors.Is(err, fs.ErrNotExist):
		res.Unavailable = append(res.Unavailable, Unavailable{"reference_lists.bot_user_agents", fmt.Sprintf("known-bot user-agent list not installed at %s (make reflists installs it): declared bots are recognised by the pack's extra_patterns only", botPath)})
	case err != nil:
		return nil, packErr(pack, botLine, "bot_user_agents.path", err)
	default:
		pls = append(pls, pl)
	}
	if p := pack.ResolvePath(cfg.BotUserAgents.IABPath); p != "" {
		switch pl, err := readBotList(p, ParseIAB); {
		case errors.Is(err, fs.ErrNotExist):
			res.Unavailable = append(res.Unavailable, Unavailable{"reference_lists.bot_user_agents.iab", fmt.Sprintf("IAB/ABC spiders-and-bots file not found at %s", p)})
		case err != nil:
			return nil, packErr(pack, cfg.Line("bot_user_agents.iab_path"), "bot_user_agents.iab_path", err)
		default:
			pl.info.Name = "iab-spiders-and-bots"
			pls = append(pls, pl)
		}
	}
	if len(cfg.BotUserAgents.ExtraPatterns) > 0 {
		pl := patternList{info: Info{Kind: KindBots, Name: "pack:reference_lists.bot_user_agents.extra_patterns", Version: pack.Version, SHA256: pack.SHA256, Path: pack.Source}}
		for _, e := range cfg.BotUserAgents.ExtraPatterns {
			p, err := compilePattern(e.Pattern, e.Pattern)
			if err != nil { // rules check already refused it
				return nil, fmt.Errorf("rule pack %s: reference_lists extra pattern %q: %w", pack.Source, e.Pattern, err)
			}
			pl.patterns = append(pl.patterns, p)
		}
		pl.info.Entries = len(pl.patterns)
		pls = append(pls, pl)
	}
	var rls []rangeList
	for i, f := range cfg.IPRanges {
		path := pack.ResolvePath(f.Path)
		rl, err := readRanges(path, f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			res.Unavailable = append(res.Unavailable, Unavailable{"reference_lists.ip_ranges." + f.Class, fmt.Sprintf("CIDR file %s (%s) not found: its addresses are not classed", path, f.Class)})
			continue
		case err != nil:
			return nil, packErr(pack, cfg.Line(fmt.Sprintf("ip_ranges[%d]", i)), fmt.Sprintf("ip_ranges[%d].path", i), err)
		}
		rls = append(rls, rl)
	}
	if len(rls) == 0 {
		res.Unavailable = append(res.Unavailable, Unavailable{"reference_lists.ip_ranges.datacenter", "no data-centre CIDR file configured or installed: clicks from hosting providers are not GIVT by address"})
	}
	if err := label(ctx, db, pls, rls, opt.Night, res); err != nil {
		return nil, err
	}
	for _, l := range res.Lists {
		rj, _ := json.Marshal(l.Rejects)
		if _, err := db.ExecContext(ctx, `INSERT INTO reference_lists VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			runID, l.Kind, l.Name, nullIf(l.Class), l.Version, nullIf(l.SHA256), l.Path, l.Entries, l.Rejects.Count, string(rj), l.Matched); err != nil {
			return nil, fmt.Errorf("record reference lists: %w", err)
		}
	}
	return res, nil
}

// packErr names the pack line that points at a list which cannot be read.
func packErr(pack *rules.Pack, line int, key string, err error) error {
	return &rules.ValidationError{File: pack.Source, Line: line, Key: "reference_lists." + key, Msg: err.Error()}
}

func readBotList(path string, parse func(r io.Reader, file string) ([]Pattern, Rejects, error)) (patternList, error) {
	if path == "" {
		return patternList{}, nil
	}
	data, sum, err := readList(path)
	if err != nil {
		return patternList{}, err
	}
	ps, rej, err := parse(bytes.NewReader(data), path)
	if err != nil {
		return patternList{}, err
	}
	name, version := packageOf(path)
	return patternList{info: Info{Kind: KindBots, Name: name, Version: version, SHA256: sum, Path: path, Entries: len(ps), Rejects: rej}, patterns: ps}, nil
}

func readRanges(path string, f rules.IPRangeFile) (rangeList, error) {
	data, sum, err := readList(path)
	if err != nil {
		return rangeList{}, err
	}
	rs, rej, err := ParseCIDR(bytes.NewReader(data), path)
	if err != nil {
		return rangeList{}, err
	}
	return rangeList{info: Info{Kind: KindRanges, Name: f.ListName(), Class: f.Class, Version: fileDate(path), SHA256: sum, Path: path,
		Entries: len(rs), Rejects: rej}, ranges: rs}, nil
}

// readList reads a list file whole (at most MaxListBytes) and hashes it.
func readList(path string) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := readCapped(f, path)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// packageOf names a list by the npm package it came in (package.json
// beside it: name and version), else by its file name and date.
func packageOf(path string) (name, version string) {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "package.json"))
	if err == nil && len(b) < 1<<20 {
		var pj struct{ Name, Version string }
		if json.Unmarshal(b, &pj) == nil && pj.Name != "" && pj.Version != "" {
			return pj.Name, pj.Version
		}
	}
	return filepath.Base(path), fileDate(path)
}

// fileDate is a list's date when it carries no version: its modification
// day (UTC).
func fileDate(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return st.ModTime().UTC().Format("2006-01-02")
}

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// label fills the temp tables on one connection (temp tables are per
// connection) and rewrites the label tables.
func label(ctx context.Context, db *sql.DB, pls []patternList, rls []rangeList, night0 time.Time, res *Result) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(name string, args ...any) error {
		if _, err := conn.ExecContext(ctx, queries[name], args...); err != nil {
			return fmt.Errorf("reference lists: %s: %w", name, err)
		}
		return nil
	}
	for _, q := range []string{"CreatePatterns", "CreateLists", "CreateRanges", "CreateCandidates"} {
		if err := exec(q); err != nil {
			return err
		}
	}
	// Patterns, in precedence order.
	var rows [][]any
	var noLiteral []int
	idx := 0
	for _, pl := range pls {
		for _, p := range pl.patterns {
			rows = append(rows, []any{idx, p.Regexp, p.Literal, p.Fold, pl.info.Name, pl.info.Version, p.Entry})
			if p.Literal == "" {
				noLiteral = append(noLiteral, idx)
			}
			idx++
		}
	}
	if err := insertRows(ctx, conn, "rl_patterns", 7, rows); err != nil {
		return err
	}
	rows = rows[:0]
	var rrows [][]any
	for lid, rl := range rls {
		rows = append(rows, []any{lid, rl.info.Name, rl.info.Version, rl.info.Class})
		rank := 0
		for i, c := range rules.IPClasses {
			if c == rl.info.Class {
				rank = i
			}
		}
		for _, r := range rl.ranges {
			row := []any{lid, rank, r.Entry}
			// database/sql takes no uint64 with the top bit set: quarters.
			for _, b := range [][16]byte{r.Lo, r.Hi} {
				for q := 0; q < 16; q += 4 {
					row = append(row, int64(binary.BigEndian.Uint32(b[q:q+4])))
				}
			}
			rrows = append(rrows, row)
		}
	}
	if err := insertRows(ctx, conn, "rl_lists", 4, rows); err != nil {
		return err
	}
	if err := insertRanges(ctx, conn, rrows); err != nil {
		return err
	}
	// The labels stored so far hold while the lists are the same ones.
	fp := fingerprint(rows, rrows, pls)
	var stored sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT max(fingerprint) FROM reflist_state`).Scan(&stored); err != nil {
		return fmt.Errorf("reference lists: read state: %w", err)
	}
	if stored.String != fp {
		if err := exec("Reset"); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO reflist_state VALUES (?)`, fp); err != nil {
			return fmt.Errorf("reference lists: record state: %w", err)
		}
		res.Relabelled = true
	}
	for _, q := range []string{"NewFiles", "NewUserAgents"} {
		if err := exec(q); err != nil {
			return err
		}
	}
	if len(pls) > 0 {
		if err := exec("LiteralCandidates"); err != nil {
			return err
		}
		for _, i := range noLiteral {
			if err := exec("PatternCandidates", rowsRegexp(pls, i), i); err != nil {
				return err
			}
		}
	}
	var night any
	if !night0.IsZero() {
		night = night0.Format(time.DateOnly)
	}
	addressSteps := []string{"NewAddresses", "IPMatches", "RememberAddresses"}
	if len(rls) == 0 {
		addressSteps = nil
	}
	for _, q := range append([]string{"RememberUserAgents"}, addressSteps...) {
		if err := exec(q); err != nil {
			return err
		}
	}
	for _, q := range []string{"TouchedClickDays", "TouchedOrderDays"} {
		if err := exec(q, night); err != nil {
			return err
		}
	}
	for _, q := range []string{"ClearTouchedClicks", "ClearTouchedOrders", "LabelClicks", "LabelOrders", "RememberFiles"} {
		if err := exec(q); err != nil {
			return err
		}
	}
	matched := map[string]int64{}
	for _, q := range []string{"MatchedByPatternList", "MatchedByRangeList"} {
		rs, err := conn.QueryContext(ctx, queries[q])
		if err != nil {
			return fmt.Errorf("reference lists: %s: %w", q, err)
		}
		for rs.Next() {
			var name string
			var n int64
			if err := rs.Scan(&name, &n); err != nil {
				rs.Close()
				return err
			}
			matched[name] = n
		}
		rs.Close()
	}
	for _, pl := range pls {
		pl.info.Matched = matched[pl.info.Name]
		res.Lists = append(res.Lists, pl.info)
	}
	for _, rl := range rls {
		rl.info.Matched = matched[rl.info.Name]
		res.Lists = append(res.Lists, rl.info)
	}
	return conn.QueryRowContext(ctx, `SELECT count(*) FROM click_traffic WHERE givt`).Scan(&res.GIVTClicks)
}

func rowsRegexp(pls []patternList, idx int) string {
	for _, pl := range pls {
		if idx < len(pl.patterns) {
			return pl.patterns[idx].Regexp
		}
		idx -= len(pl.patterns)
	}
	return ""
}

// insertRows inserts rows of n bound values each, in batches.
func insertRows(ctx context.Context, conn *sql.Conn, table string, n int, rows [][]any) error {
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	return inBatches(rows, func(batch [][]any) error {
		vals := make([]string, len(batch))
		args := make([]any, 0, n*len(batch))
		for i, r := range batch {
			vals[i] = ph
			args = append(args, r...)
		}
		_, err := conn.ExecContext(ctx, "INSERT INTO "+table+" VALUES "+strings.Join(vals, ", "), args...)
		if err != nil {
			return fmt.Errorf("reference lists: fill %s: %w", table, err)
		}
		return nil
	})
}

func insertRanges(ctx context.Context, conn *sql.Conn, rows [][]any) error {
	const n128 = "(?::UHUGEINT << 96) | (?::UHUGEINT << 64) | (?::UHUGEINT << 32) | ?::UHUGEINT"
	const ph = "(?, ?, ?, " + n128 + ", " + n128 + ")"
	return inBatches(rows, func(batch [][]any) error {
		vals := make([]string, len(batch))
		var args []any
		for i, r := range batch {
			vals[i] = ph
			args = append(args, r...)
		}
		_, err := conn.ExecContext(ctx, "INSERT INTO rl_ranges VALUES "+strings.Join(vals, ", "), args...)
		if err != nil {
			return fmt.Errorf("reference lists: fill ranges: %w", err)
		}
		return nil
	})
}

func inBatches(rows [][]any, fn func([][]any) error) error {
	const size = 500
	for len(rows) > 0 {
		k := min(size, len(rows))
		if err := fn(rows[:k]); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}

// fingerprint identifies the lists as the labels use them: every pattern
// (precedence, expression, list, version, entry) and every range.
func fingerprint(lists, ranges [][]any, pls []patternList) string {
	h := sha256.New()
	for _, pl := range pls {
		for _, p := range pl.patterns {
			fmt.Fprintf(h, "p\x00%s\x00%s\x00%t\x00%s\x00%s\x00%s\n", p.Regexp, p.Literal, p.Fold, pl.info.Name, pl.info.Version, p.Entry)
		}
	}
	for _, group := range [][][]any{lists, ranges} {
		for _, r := range group {
			fmt.Fprintf(h, "r\x00%v\n", r)
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))
}
