package reports

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"sort"
	"strings"
)

// Bounds of the rendered evidence in the report (issue 17). The screenshot
// is the browser's PNG, but the browser rendered a hostile page: it is
// decoded within a pixel cap, scaled and re-encoded by us before it is
// embedded; the intercepted requests are text, escaped like all evidence.
const (
	// MaxRenderShots caps the pages whose screenshot one report embeds.
	MaxRenderShots = 100
	// ShotPixels is the longest side of an embedded screenshot.
	ShotPixels = 480
	// MaxInterceptRows caps the intercepted requests listed per finding.
	MaxInterceptRows = 12
	maxShotPixels    = 4096 * 4096
	maxShotBytes     = 1 << 20
)

// renderView is what headless Chromium saw of the finding's site.
type renderView struct {
	ShotSrc     template.URL
	ShotW       int
	ShotH       int
	ShotNote    string
	ShotLabel   string
	Requests    []interceptRow
	RequestsOff int
	ShopperOnly int
}

type interceptRow struct {
	URL, Type, Initiator, Visibility, Profiles string
	ShopperOnly                                bool
}

type renderRequest struct {
	pub, site string
	view      *renderView
}

// renderRequestFor names the site of a finding whose evidence has one
// (page-code and content findings).
func renderRequestFor(ev *jsonValue, pub string) *renderRequest {
	site := evStr(ev, "site_url")
	if site == "" {
		return nil
	}
	return &renderRequest{pub: pub, site: site}
}

// attachRenders reads the screenshots and intercepted requests of the
// requested sites (three queries for the whole report) and fills their
// views; a site never rendered gets none.
func attachRenders(ctx context.Context, db *sql.DB, reqs []*renderRequest) error {
	if len(reqs) == 0 {
		return nil
	}
	var pubs, sites []string
	byKey := map[[2]string][]*renderRequest{}
	for _, r := range reqs {
		k := [2]string{r.pub, r.site}
		if byKey[k] == nil {
			pubs, sites = append(pubs, r.pub), append(sites, r.site)
		}
		byKey[k] = append(byKey[k], r)
	}
	profiles := map[[2]string]map[string]bool{}
	if err := eachHTMLRow(ctx, db, "RenderProfiles", []any{pubs, sites}, func(rows *sql.Rows) error {
		var pub, site, profile string
		if err := rows.Scan(&pub, &site, &profile); err != nil {
			return err
		}
		k := [2]string{pub, site}
		if profiles[k] == nil {
			profiles[k] = map[string]bool{}
		}
		profiles[k][profile] = true
		return nil
	}); err != nil {
		return err
	}
	views := map[[2]string]*renderView{}
	for k := range profiles {
		views[k] = &renderView{ShotNote: "No screenshot was kept for this site."}
	}
	if err := eachHTMLRow(ctx, db, "RenderShots", []any{pubs, sites, maxShotBytes}, func(rows *sql.Rows) error {
		var pub, site, profile string
		var b []byte
		if err := rows.Scan(&pub, &site, &profile, &b); err != nil {
			return err
		}
		v := views[[2]string{pub, site}]
		if v == nil || v.ShotSrc != "" {
			return nil
		}
		v.ShotSrc, v.ShotW, v.ShotH, v.ShotNote = screenshotURL(b)
		v.ShotLabel = "First viewport of " + truncateRunes(site, 120) + " as rendered for the " + profile + " profile (scaled)."
		return nil
	}); err != nil {
		return err
	}
	type agg struct {
		row      interceptRow
		profiles map[string]bool
	}
	rowsBy := map[[2]string]map[string]*agg{}
	order := map[[2]string][]string{}
	if err := eachHTMLRow(ctx, db, "RenderIntercepts", []any{pubs, sites}, func(rows *sql.Rows) error {
		var pub, site, profile, u, typ, initType, initURL, vis string
		if err := rows.Scan(&pub, &site, &profile, &u, &typ, &initType, &initURL, &vis); err != nil {
			return err
		}
		k := [2]string{pub, site}
		if rowsBy[k] == nil {
			rowsBy[k] = map[string]*agg{}
		}
		a := rowsBy[k][u]
		if a == nil {
			init := initType
			if initURL != "" {
				init += " " + initURL
			}
			a = &agg{row: interceptRow{URL: truncateRunes(u, 200), Type: typ, Initiator: truncateRunes(strings.TrimSpace(init), 160), Visibility: truncateRunes(vis, 120)},
				profiles: map[string]bool{}}
			rowsBy[k][u] = a
			order[k] = append(order[k], u)
		}
		a.profiles[profile] = true
		return nil
	}); err != nil {
		return err
	}
	for k, v := range views {
		both := profiles[k]["honest"] && profiles[k]["shopper"]
		for i, u := range order[k] {
			a := rowsBy[k][u]
			var ps []string
			for p := range a.profiles {
				ps = append(ps, p)
			}
			sort.Strings(ps)
			a.row.Profiles = strings.Join(ps, ", ")
			a.row.ShopperOnly = both && len(ps) == 1 && ps[0] == "shopper"
			if a.row.ShopperOnly {
				v.ShopperOnly++
			}
			if i < MaxInterceptRows {
				v.Requests = append(v.Requests, a.row)
			} else {
				v.RequestsOff++
			}
		}
		for _, r := range byKey[k] {
			r.view = v
		}
	}
	return nil
}

// screenshotURL decodes a PNG within the pixel cap, scales it to
// ShotPixels and re-encodes it as a data URL; or says why not.
func screenshotURL(b []byte) (template.URL, int, int, string) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", 0, 0, "The screenshot could not be read: not shown."
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxShotPixels {
		return "", 0, 0, fmt.Sprintf("The screenshot is %d×%d pixels, over the report's cap: not shown.", cfg.Width, cfg.Height)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return "", 0, 0, "The screenshot could not be decoded: not shown."
	}
	small := thumbnail(img, ShotPixels)
	var buf bytes.Buffer
	if err := png.Encode(&buf, small); err != nil {
		return "", 0, 0, "The screenshot could not be re-encoded: not shown."
	}
	// Our own encoding only, so html/template may take the data: URL.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), small.Bounds().Dx(), small.Bounds().Dy(), ""
}
