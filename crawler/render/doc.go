// Package render opens publisher pages in headless Chromium (Debian's
// chromium, driven over the Chrome DevTools Protocol with chromedp) and
// records what only a browser resolves: frames and images hidden by a
// stylesheet class, an ancestor, opacity or an off-screen position; frames
// and images a script builds; redirects and window.open calls with and
// without a user gesture, after the page's timers ran and after one
// synthetic click anywhere on the page; the rendered visible text; and a
// screenshot of the first viewport. Each site is rendered twice, as
// affwatch (honest user agent, robots.txt respected) and as a shopper
// arriving from a search engine, so that stuffing served only to shoppers
// shows as cloaking. detectors/pagecode judges the rows (cookie_stuffing
// 1.6, popup_traffic E.10.h). The shopper renders in the full browser, which
// passes a page's tests for a real Chrome; the honest profile, which
// announces affwatch and so pretends nothing, renders in Chromium's old
// headless shell when it is installed (chromium-headless-shell: a fraction
// of the CPU and memory of a visit), in the full browser otherwise.
//
// The browser never touches the network itself. Every request it makes —
// documents, subresources, fetch/XHR, WebSocket, service workers, redirects
// — goes to affwatch's own forward proxy (Proxy), which resolves names with
// the crawler's Resolver and dials only what the crawler's Guard allows,
// checked in the dialer's Control hook on the literal address. Chromium's
// own DNS is mapped to NOTFOUND, QUIC, prefetch and non-proxied WebRTC UDP
// are off, and the implicit loopback bypass is removed. Requests to
// affiliate hosts and the brand's own domains are refused by the proxy,
// never sent (a request there would be a click); the attempt, its initiator
// and the requesting frame's visibility are the evidence.
//
// Pages are hostile: a per-page deadline, a bounded number of tabs, caps on
// DOM size, response bodies and screenshot bytes; downloads are denied,
// dialogs dismissed, pop-ups refused, and a browser that hangs or dies is
// restarted with the site recorded as an error.
package render
