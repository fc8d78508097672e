package pagecode

import (
	"strings"
	"time"

	"affwatch/rules"
)

// The lists a rule may carry (rules.Rule.Lists). A pack that omits one
// gets the default below, so an older tuned pack keeps working; entries
// match a host or any subdomain of it.
const (
	// page_cookie_stuffing
	ListAffiliateHosts        = "affiliate_hosts"         // hosts serving affiliate links only
	ListAffiliatePathPrefixes = "affiliate_path_prefixes" // host/path-prefix: affiliate links only under that path
	ListTrackingParams        = "tracking_params"         // parameters that make a link to a brand domain an affiliate link
	// page_popup
	ListPopupNetworks = "popup_networks" // ad networks selling pop-under / pop-up formats
)

// AffiliateHosts serve the program's affiliate links (AliExpress Portals
// and ePN short links): a request to them sets the affiliate cookie.
var AffiliateHosts = []string{"s.click.aliexpress.com", "alii.pub", "ali.ski"}

// AffiliatePathPrefixes serve affiliate links only under a path
// (click.aliexpress.com/e/… is a short affiliate link; other paths are not).
var AffiliatePathPrefixes = []string{"click.aliexpress.com/e/"}

// TrackingParams mark a link to the brand's own domains (rule pack brands)
// as an affiliate link: the program's tracking parameters.
var TrackingParams = []string{"aff_fcid", "aff_fsk", "aff_platform", "aff_trace_key", "aff_short_key", "sk", "terminal_id", "afSmartRedirect"}

// PopupNetworks are ad networks whose scripts open pop-unders or pop-ups
// (their own documentation sells "popunder" or "onclick" formats).
var PopupNetworks = []string{
	"popads.net", "popcash.net", "propellerads.com", "onclickads.net", "onclkds.com",
	"adcash.com", "exoclick.com", "exosrv.com", "clickadu.com", "hilltopads.net",
	"adsterra.com", "popmyads.com", "ad-maven.com", "admaven.com", "richads.com",
	"popunder.net", "clickaine.com", "trafficstars.com", "juicyads.com", "poptm.com",
}

func listOr(r rules.Rule, key string, def []string) []string {
	if v, ok := r.Lists[key]; ok {
		return v
	}
	return def
}

// linkLists decide whether a URL is one of the program's affiliate links.
type linkLists struct {
	hosts        []string
	pathPrefixes map[string][]string // host → path prefixes
	params       []string
	brands       []string
}

func affiliateLists(r rules.Rule, p *rules.Pack) linkLists {
	l := linkLists{
		hosts:        listOr(r, ListAffiliateHosts, AffiliateHosts),
		params:       listOr(r, ListTrackingParams, TrackingParams),
		brands:       brandDomains(p),
		pathPrefixes: map[string][]string{},
	}
	for _, e := range listOr(r, ListAffiliatePathPrefixes, AffiliatePathPrefixes) {
		host, path, _ := strings.Cut(strings.ToLower(e), "/")
		l.pathPrefixes[host] = append(l.pathPrefixes[host], "/"+path)
	}
	return l
}

// TrackingHosts are the hosts the crawler must never request: fetching an
// affiliate link would generate the very click we are judging. From the
// pack's page_cookie_stuffing rule, or the defaults.
func TrackingHosts(p *rules.Pack) []string {
	r, _ := p.Rule(StuffingRule)
	out := append([]string{}, listOr(r, ListAffiliateHosts, AffiliateHosts)...)
	for _, e := range listOr(r, ListAffiliatePathPrefixes, AffiliatePathPrefixes) {
		host, _, _ := strings.Cut(strings.ToLower(e), "/")
		out = append(out, host)
	}
	return out
}

// excepted reports whether a known-good exception of the rule covers the
// site (its publisher id, host or registrable domain) on the day the
// evidence was collected: e.g. a publisher with the program's written
// approval for pop-ups (Awin terms h.).
func excepted(r rules.Rule, publisher, siteURL string, day time.Time) bool {
	host := hostOf(siteURL)
	for _, e := range r.Exceptions {
		v := strings.ToLower(strings.TrimSpace(e.Value))
		if !e.Active(day) {
			continue
		}
		if v == strings.ToLower(publisher) || host != "" && (host == v || strings.HasSuffix(host, "."+v)) {
			return true
		}
	}
	return false
}

// InterceptHosts are the hosts a browser rendering publisher pages must
// never contact: the tracking hosts (a request there is a click) and the
// brands' own domains (a request there carries the visitor's cookies to
// the program). The render proxy refuses them and records the attempt.
func InterceptHosts(p *rules.Pack) []string {
	return append(TrackingHosts(p), brandDomains(p)...)
}
