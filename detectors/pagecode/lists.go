package pagecode

// The lists below are data, kept beside the detector until the rule pack
// can hold lists (rules.Rule has numeric thresholds only and the pack is
// decoded with KnownFields): every entry is matched as a host or a
// subdomain of it.

// AffiliateHosts serve the program's affiliate links (AliExpress Portals
// and ePN short links): a request to them sets the affiliate cookie.
var AffiliateHosts = []string{
	"s.click.aliexpress.com",
	"alii.pub",
	"ali.ski",
}

// AffiliatePathHosts serve affiliate links only under a path prefix
// (click.aliexpress.com/e/… is a short affiliate link; other paths are not).
var AffiliatePathHosts = map[string]string{
	"click.aliexpress.com": "/e/",
}

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
