// Package logocopy finds the brand's logo or favicon copied on a
// publisher's site (policy 8.4: the program's logos are not to be used
// without written consent; ePN rule 2: logos and the favicon).
//
// Inputs: crawl_assets of the newest crawl of each site that got its pages
// (favicons, apple-touch icons, favicon.ico, header logos, og:images, with
// up to 256 KiB of their bytes) and the pack's reference logos
// (brands[].logos, rules.(*Pack).ReadLogo). Every picture of an asset is
// decoded within a pixel cap read from its header first (PNG, JPEG, GIF,
// BMP, WebP, every image of an ICO: decode.go), reduced to grey, trimmed
// of uniform borders, and hashed (hash.go): difference hashes at 8 and 16
// cells and DCT hashes of 32 and 64 pixels, for the whole picture and two
// centre crops; references are also hashed reduced to 16–128 pixels. A
// picture matches when every Hamming distance is within the rule's
// thresholds on the best-aligned pair, or when the file is byte-identical.
// Quality is measured by Evaluate (testdata/README.md).
package logocopy

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed logocopy.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// RuleName is the rule's key in the pack.
const RuleName = "logo_copy"

// Detector is the logo_copy detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.LogoCopy }

// Kind names an asset's role for a reviewer: favicon, logo or og:image.
func Kind(role string) string {
	switch role {
	case "icon", "apple_touch_icon", "favicon_ico":
		return "favicon"
	case "logo":
		return "logo"
	case "og_image":
		return "og:image"
	}
	return role
}

type assetRow struct {
	publisher, site, crawlID string
	started, finished        time.Time
	role, url, ctype, sha    string
	data                     []byte
	page                     string
	ahash                    string
	width, height            int
}

// assetSites are the hosts of the sites and pages showing the assets a
// finding cites.
func assetSites(evs []AssetEvidence) []string {
	var urls []string
	for _, e := range evs {
		urls = append(urls, e.SiteURL, e.PageURL)
	}
	return detectors.SiteHosts(urls...)
}

// AssetEvidence is one matching asset in a finding's evidence.
type AssetEvidence struct {
	SiteURL      string         `json:"site_url"`
	PageURL      string         `json:"page_url"`
	Kind         string         `json:"kind"`
	Role         string         `json:"role"`
	AssetURL     string         `json:"asset_url"`
	ContentType  string         `json:"content_type,omitempty"`
	SHA256       string         `json:"sha256"`
	Format       string         `json:"format"`
	Picture      int            `json:"picture"` // index of the picture inside the file (ICO entries)
	Width        int            `json:"width"`
	Height       int            `json:"height"`
	Exact        bool           `json:"exact_match"`
	ComparedBy   string         `json:"compared_by"` // bytes, or the crawler's ahash when the bytes were not kept
	Distances    map[string]int `json:"distances"`
	MeanDistance float64        `json:"mean_distance"`
	Score        float64        `json:"score"`
	CrawlID      string         `json:"crawl_id"` // or the render's id
	// SeenBy lists where the asset was read when renders were read too:
	// crawl, render:honest, render:shopper
	SeenBy  []string `json:"seen_by,omitempty"`
	crawled [2]time.Time
	seen    map[string]bool
}

// Run implements detectors.Detector.
func (Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	rule, err := env.Pack.Rule(RuleName)
	if err != nil {
		return nil, err
	}
	p, err := ParamsFrom(rule)
	if err != nil {
		return nil, err
	}
	db := env.DB
	var crawled, ok, kept, renderedKept int64
	if err := db.QueryRowContext(ctx, queries["Counts"]).Scan(&crawled, &ok, &kept, &renderedKept); err != nil {
		return nil, fmt.Errorf("logo_copy: counts: %w", err)
	}
	switch {
	case renderedKept > 0:
		// the browser's favicons and logos are read even without a crawl
	case crawled == 0:
		env.Signals.Add(detectors.LogoCopy, "crawl_assets.bytes", "no crawl in this run (--no-crawl or nothing crawled): logos and favicons not compared")
		return nil, nil
	case ok == 0 || kept == 0:
		env.Signals.Add(detectors.LogoCopy, "crawl_assets.bytes", fmt.Sprintf("%d site(s) crawled, %d with their pages, no favicon, logo or og:image bytes kept: nothing compared", crawled, ok))
		return nil, nil
	}
	refs, err := LoadReferences(env.Pack, p)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		env.Signals.Add(detectors.LogoCopy, "brands.logos", "the pack names no reference logo: nothing compared")
		return nil, nil
	}
	m := &Matcher{Refs: refs, P: p}
	type key struct{ publisher, ref string }
	hits := map[key][]AssetEvidence{}
	refByPath := map[string]Reference{}
	cache := map[[32]byte]Asset{} // the same bytes on many sites: decoded once
	rows, err := db.QueryContext(ctx, queries["Assets"])
	if err != nil {
		return nil, fmt.Errorf("logo_copy: assets: %w", err)
	}
	defer rows.Close()
	// rows are handled one at a time: only fingerprints are kept
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var a assetRow
		if err := rows.Scan(&a.publisher, &a.site, &a.crawlID, &a.started, &a.finished, &a.role, &a.url, &a.ctype, &a.sha, &a.data, &a.page, &a.ahash, &a.width, &a.height); err != nil {
			return nil, err
		}
		if exempt(rule.Exceptions, a.publisher, a.finished) {
			continue
		}
		base := AssetEvidence{
			SiteURL: clip(a.site, 300), PageURL: clip(a.page, 300), Kind: Kind(a.role), Role: a.role, AssetURL: clip(a.url, 300),
			ContentType: clip(a.ctype, 100), CrawlID: a.crawlID, crawled: [2]time.Time{a.started.UTC(), a.finished.UTC()},
			seen: map[string]bool{"crawl": true},
		}
		if len(a.data) == 0 {
			// over the crawler's storage cap: the whole file's sha256 and
			// the crawler's average hash are all there is
			for _, r := range refs {
				ev := base
				ev.SHA256, ev.Width, ev.Height, ev.Picture = a.sha, a.width, a.height, -1
				ev.ComparedBy = "ahash: bytes over the crawler's storage cap"
				am, ok := m.CompareAHash(a.ahash, r)
				switch {
				case a.sha != "" && a.sha == r.SHA256:
					ev.Exact, ev.Score = true, p.ScoreExact
				case ok && am.Matched:
					ev.Score = am.Score
				default:
					continue
				}
				if ok {
					ev.Distances = map[string]int{"ahash": am.Distance}
				}
				refByPath[r.Path] = r
				hits[key{a.publisher, r.Path}] = append(hits[key{a.publisher, r.Path}], ev)
			}
			continue
		}
		ck := sha256.Sum256(a.data)
		prep, seen := cache[ck]
		if !seen {
			prep = m.Prepare(a.data)
			cache[ck] = prep
		}
		for _, r := range refs {
			mt := m.Compare(prep, r)
			if !mt.Matched {
				continue
			}
			refByPath[r.Path] = r
			ev := base
			ev.SHA256, ev.Format, ev.Picture, ev.Width, ev.Height = prep.SHA256, mt.Format, mt.Picture, mt.Width, mt.Height
			ev.Exact, ev.MeanDistance, ev.Score, ev.ComparedBy = mt.Exact, mt.Mean, mt.Score, "bytes"
			if mt.Picture >= 0 {
				ev.Distances = map[string]int{}
				for k, v := range mt.Distances {
					ev.Distances[Kinds[k]] = v
				}
			}
			hits[key{a.publisher, r.Path}] = append(hits[key{a.publisher, r.Path}], ev)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	var renderedSites map[[2]string]map[string]bool
	if renderedKept > 0 {
		type key2 = key
		add := func(publisher, ref string, ev AssetEvidence) {
			hits[key2{publisher, ref}] = append(hits[key2{publisher, ref}], ev)
		}
		if renderedSites, err = readRendered(ctx, env, rule.Exceptions, m, cache, refByPath, func(publisher, ref string) []AssetEvidence {
			return hits[key2{publisher, ref}]
		}, add); err != nil {
			return nil, err
		}
	}
	var out []detectors.Finding
	for k, evs := range hits {
		sort.SliceStable(evs, func(i, j int) bool {
			if evs[i].Score != evs[j].Score {
				return evs[i].Score > evs[j].Score
			}
			if evs[i].SiteURL != evs[j].SiteURL {
				return evs[i].SiteURL < evs[j].SiteURL
			}
			return evs[i].AssetURL < evs[j].AssetURL
		})
		// The crawl's times are the finding's window when the crawl saw
		// the logo (its id stays what it was before renders were read);
		// the renders' when only a browser did.
		fromCrawl := false
		for _, e := range evs {
			fromCrawl = fromCrawl || e.seen["crawl"]
		}
		var ws, we time.Time
		sites := map[string]bool{}
		seenAll := map[string]bool{}
		rendered := false
		for _, e := range evs {
			sites[e.SiteURL] = true
			for s := range e.seen {
				seenAll[s] = true
			}
			rendered = rendered || renderedSites[[2]string{k.publisher, e.SiteURL}] != nil
			if fromCrawl && !e.seen["crawl"] {
				continue
			}
			if ws.IsZero() || e.crawled[0].Before(ws) {
				ws = e.crawled[0]
			}
			if e.crawled[1].After(we) {
				we = e.crawled[1]
			}
		}
		// Every site showing it showed it only to the shopper, and each
		// was rendered as affwatch too.
		shopperOnly := len(seenAll) == 1 && seenAll["render:shopper"]
		for site := range sites {
			shopperOnly = shopperOnly && renderedSites[[2]string{k.publisher, site}]["honest"]
		}
		renderedOnly := !fromCrawl
		n := len(evs)
		if len(evs) > p.MaxAssets {
			evs = evs[:p.MaxAssets]
		}
		best := evs[0]
		r := refByPath[k.ref]
		severity := detectors.SeverityFromScore(best.Score)
		body := map[string]any{
			"source":          "crawl_assets",
			"brand":           r.Brand,
			"reference":       map[string]any{"path": r.Path, "sha256": r.SHA256, "width": r.Width, "height": r.Height},
			"best":            best,
			"assets":          evs,
			"matching_assets": n,
			"sites":           len(sites),
			"thresholds": map[string]any{
				"dhash8_max": p.DHash8Max, "dhash16_max": p.DHash16Max, "phash8_max": p.PHash8Max, "phash16_max": p.PHash16Max,
				"mean_distance_max": p.MeanDistanceMax, "min_side": p.MinSide, "ahash_max": p.AHashMax,
			},
			"hash_bits": map[string]int{DHash8: Bits[0], DHash16: Bits[1], PHash8: Bits[2], PHash16: Bits[3]},
		}
		note := ""
		if rendered {
			for i := range evs {
				evs[i].SeenBy = detectors.SortedKeys(evs[i].seen)
			}
			best.SeenBy = evs[0].SeenBy
			body["best"], body["assets"] = best, evs
			body["rendered"] = true
			body["seen_by"] = detectors.SortedKeys(seenAll)
			body["rendered_only"] = renderedOnly
			body["shopper_only"] = shopperOnly
			switch {
			case shopperOnly:
				note = " Seen only by the shopper profile (a browser arriving from a search engine), not by affwatch's announced visit or the crawler — cloaking."
			case renderedOnly:
				note = " Seen only as the browser loaded the page (a logo a script inserts or a browser is served), not by the crawler."
			}
		}
		ev, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		out = append(out, detectors.Finding{
			Discriminator: "ref\x00" + k.ref,
			PublisherID:   k.publisher,
			Severity:      severity,
			Score:         best.Score,
			Summary:       summary(r, best, n) + note,
			Evidence:      ev,
			WindowStart:   ws,
			WindowEnd:     we,
			OrderIDs:      []string{},
			CommissionUSD: 0,
			Sites:         assetSites(evs),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PublisherID != out[j].PublisherID {
			return out[i].PublisherID < out[j].PublisherID
		}
		return out[i].FindingID < out[j].FindingID
	})
	return out, nil
}

// readRendered compares the favicons and logos the browser loaded with
// the references. An asset whose bytes the crawl already matched on the
// same site is that asset seen another way (its SeenBy grows); any other
// match is new evidence from the render. It returns the sites rendered
// in each profile (publisher, site URL → profiles).
func readRendered(ctx context.Context, env detectors.Env, ex []rules.Exception, m *Matcher, cache map[[32]byte]Asset, refByPath map[string]Reference,
	found func(publisher, ref string) []AssetEvidence, add func(publisher, ref string, ev AssetEvidence)) (map[[2]string]map[string]bool, error) {
	profiles := map[[2]string]map[string]bool{}
	prows, err := env.DB.QueryContext(ctx, queries["RenderedProfiles"])
	if err != nil {
		return nil, fmt.Errorf("logo_copy: rendered profiles: %w", err)
	}
	for prows.Next() {
		var pub, site, profile string
		if err := prows.Scan(&pub, &site, &profile); err != nil {
			prows.Close()
			return nil, err
		}
		k := [2]string{pub, site}
		if profiles[k] == nil {
			profiles[k] = map[string]bool{}
		}
		profiles[k][profile] = true
	}
	if err := prows.Err(); err != nil {
		prows.Close()
		return nil, err
	}
	prows.Close()
	rows, err := env.DB.QueryContext(ctx, queries["RenderedAssets"])
	if err != nil {
		return nil, fmt.Errorf("logo_copy: rendered assets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var pub, site, renderID, profile, role, u, ctype, page string
		var started, finished time.Time
		var data []byte
		if err := rows.Scan(&pub, &site, &renderID, &profile, &started, &finished, &role, &u, &ctype, &data, &page); err != nil {
			return nil, err
		}
		if exempt(ex, pub, finished) {
			continue
		}
		ck := sha256.Sum256(data)
		prep, seen := cache[ck]
		if !seen {
			prep = m.Prepare(data)
			cache[ck] = prep
		}
		from := "render:" + profile
		for _, r := range m.Refs {
			mt := m.Compare(prep, r)
			if !mt.Matched {
				continue
			}
			refByPath[r.Path] = r
			merged := false
			evs := found(pub, r.Path)
			for i := range evs {
				if evs[i].SiteURL == clip(site, 300) && evs[i].SHA256 == prep.SHA256 {
					evs[i].seen[from] = true
					merged = true
					break
				}
			}
			if merged {
				continue
			}
			ev := AssetEvidence{
				SiteURL: clip(site, 300), PageURL: clip(page, 300), Kind: Kind(role), Role: role, AssetURL: clip(u, 300),
				ContentType: clip(ctype, 100), CrawlID: renderID, crawled: [2]time.Time{started.UTC(), finished.UTC()},
				seen: map[string]bool{from: true},
			}
			ev.SHA256, ev.Format, ev.Picture, ev.Width, ev.Height = prep.SHA256, mt.Format, mt.Picture, mt.Width, mt.Height
			ev.Exact, ev.MeanDistance, ev.Score, ev.ComparedBy = mt.Exact, mt.Mean, mt.Score, "bytes"
			if mt.Picture >= 0 {
				ev.Distances = map[string]int{}
				for k, v := range mt.Distances {
					ev.Distances[Kinds[k]] = v
				}
			}
			add(pub, r.Path, ev)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return profiles, nil
}

// exempt reports whether an exception of the rule (a publisher id) is in
// force on the day of the crawl.
func exempt(ex []rules.Exception, publisher string, at time.Time) bool {
	for _, e := range ex {
		if e.Value == publisher && e.Active(at) {
			return true
		}
	}
	return false
}

func summary(r Reference, a AssetEvidence, n int) string {
	how := "a byte-identical copy of the file"
	switch {
	case a.Exact:
	case a.ComparedBy != "bytes":
		how = fmt.Sprintf("a close 64-bit average hash (distance %d; the file was over the crawler's storage cap, so only this weak hash was compared)", a.Distances["ahash"])
	default:
		how = fmt.Sprintf("the same picture at %d×%d (perceptual distances %d/%d/%d/%d, mean %.2f)", a.Width, a.Height,
			a.Distances[DHash8], a.Distances[DHash16], a.Distances[PHash8], a.Distances[PHash16], a.MeanDistance)
	}
	more := ""
	if n > 1 {
		more = fmt.Sprintf(" (%d matching assets in all)", n)
	}
	return fmt.Sprintf("The publisher's site %s shows %s's reference logo %s as its %s %s: %s%s.",
		clip(a.SiteURL, 120), r.Brand, r.Path, a.Kind, clip(a.AssetURL, 120), how, more)
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "�")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
