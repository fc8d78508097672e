// Package crawler visits publisher sites and records what it saw as web
// evidence: DNS answers (A, AAAA, CNAME chain, NS, MX, TXT for the host and
// its registrable domain), the pages (status, final URL, the whole redirect
// chain, headers, title, meta, visible text, links, content hash), the
// site's images (favicons, header logos, og:image) and generic page-code
// candidates (hidden or tiny frames and images, auto-redirects,
// window.open, external scripts, forced downloads) that the detectors in
// detectors/pagecode judge against the rule pack.
//
// Pages are hostile. Every address the crawler connects to is checked by
// Guard inside the dialer's Control hook, after our own DNS resolution and
// for every redirect, and the connection goes to exactly the address that
// was checked, so a DNS answer cannot change between check and connect.
// Every read is bounded: time per request and per site, body and
// decompressed size, header size, redirects, pages per site and decoded
// image pixels. What went wrong (NXDOMAIN, a refused address, a timeout, a
// gzip bomb) is evidence, stored like everything else; it never stops the
// crawl of the other sites.
package crawler
