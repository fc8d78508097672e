-- page code — evidence from the publisher's own pages (crawl tables of
-- migration 002), judged against the rule pack's lists in Go:
--   cookie_stuffing (1.6; ePN: cookie-stuffing prohibited in any form):
--     hidden or tiny frames and images loading an affiliate link, and the
--     landing page sending the visitor to an affiliate link by itself;
--   popup_traffic (E.10.h): window.open on load or on any click of the
--     page, scripts of pop-under networks, forced downloads and sign-up walls.
-- Inputs: crawl_latest_ok (the newest visit of each site that got its
-- pages: a site down for the night does not erase its last evidence),
-- crawl_page_code, crawl_redirects, and render_page_code (what headless
-- Chromium saw, per profile: honest and shopper; issue 17).

-- name: Candidates
-- Every page-code candidate of the newest visit of each site, and every
-- redirect hop of the landing page (page 0): nobody clicked a link to get
-- there, so a hop to an affiliate link is the page's doing. Redirects of
-- linked pages (/go/… redirectors a visitor clicks) are not candidates.
SELECT s.publisher_id, s.site_url, s.crawl_id, s.started_at, s.finished_at,
       c.page_no, c.document_url, c.kind, coalesce(c.trigger, '') AS trigger, coalesce(c.hidden, '') AS hidden,
       coalesce(c.target_url, '') AS target_url, c.snippet, 'page' AS source, '' AS profile
FROM crawl_latest_ok s
JOIN crawl_page_code c ON c.crawl_id = s.crawl_id
UNION ALL
SELECT s.publisher_id, s.site_url, s.crawl_id, s.started_at, s.finished_at,
       r.page_no, r.from_url, 'redirect_' || r.kind, '', '', r.to_url,
       r.kind || ' ' || coalesce(r.http_status::VARCHAR || ' ', '') || r.from_url || ' → ' || r.to_url, 'page', ''
FROM crawl_latest_ok s
JOIN crawl_redirects r ON r.crawl_id = s.crawl_id
WHERE r.page_no = 0
UNION ALL
-- Rendered evidence: each row already says why it is a candidate (see
-- render_page_code); the lists decide which targets are affiliate links.
SELECT publisher_id, site_url, render_id, started_at, finished_at, page_no, document_url, kind,
       trigger, hidden, coalesce(target_url, ''), snippet, 'render', profile
FROM render_page_code
ORDER BY 1, 2, 13, 14, 6, 8, 11, 12

-- name: RenderedProfiles
-- Which sites were rendered in which profile (newest completed render):
-- a signal seen only by the shopper is cloaking only when the honest
-- profile rendered the same site.
SELECT publisher_id, site_url, profile
FROM render_latest_ok
ORDER BY 1, 2, 3

-- name: RenderedThisRun
-- Whether the render stage ran in this run (else the run manifest lists
-- rendered signals as unavailable).
SELECT count(*) FROM render_visits WHERE run_id = ?
