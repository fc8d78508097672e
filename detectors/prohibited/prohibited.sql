-- prohibited_content (C.6.c–q, D.7; ePN "pay attention" notes on piracy,
-- refund content and motivated traffic): the text of the publishers' own
-- pages, classified in Go against the rule pack's lexicons.
-- Inputs: crawl_latest (the newest visit of each site), crawl_pages;
-- render_latest_ok (the newest completed render of each site in each
-- profile) and render_pages, the text as headless Chromium showed it.

-- name: Pages
-- Every page of the newest visit of each site that came back with text,
-- cut to the rule's max_text_chars ($1) so a hostile page bounds the work.
SELECT s.publisher_id, s.site_url, s.crawl_id, s.started_at, s.finished_at,
       p.page_no, coalesce(p.final_url, p.requested_url) AS url,
       coalesce(substr(p.title, 1, 2000), '') AS title,
       coalesce(substr(p.meta_description, 1, 4000), '') AS meta_description,
       coalesce(substr(p.meta_keywords, 1, 4000), '') AS meta_keywords,
       coalesce(substr(p.visible_text, 1, $1), '') AS visible_text
FROM crawl_latest s
JOIN crawl_pages p ON p.crawl_id = s.crawl_id
WHERE p.visible_text IS NOT NULL OR p.title IS NOT NULL OR p.meta_description IS NOT NULL
ORDER BY s.publisher_id, s.site_url, p.page_no

-- name: RenderedPages
-- Every page of the newest completed render of each site in each profile
-- (honest: affwatch's announced visit; shopper: a browser arriving from a
-- search engine), with the text the browser laid out — text a script
-- writes, and text served only to a shopper, which the crawler's HTML
-- does not show. Cut to $1 as above.
SELECT v.publisher_id, v.site_url, v.render_id, v.profile, v.started_at, v.finished_at,
       p.page_no, coalesce(p.final_url, p.url) AS url,
       coalesce(substr(p.title, 1, 2000), '') AS title,
       coalesce(substr(p.visible_text, 1, $1), '') AS visible_text
FROM render_latest_ok v
JOIN render_pages p ON p.render_id = v.render_id
-- A document that is not the site's own (Chromium's error page after a
-- navigation the proxy refused, about:blank) shows the browser's text,
-- not the publisher's.
WHERE regexp_matches(coalesce(p.final_url, p.url), '^https?://', 'i')
ORDER BY v.publisher_id, v.site_url, v.profile, p.page_no

-- name: CrawlState
-- Whether anything was crawled at all (a --no-crawl run on a fresh store
-- leaves the crawl tables empty), how many pages carry text; whether this
-- run ($1) crawled (with --no-crawl the newest stored visits are judged,
-- as by pagecode); how many site × profile renders there are to read.
SELECT (SELECT count(*) FROM crawl_sites) AS sites,
       (SELECT count(*) FROM crawl_pages WHERE visible_text IS NOT NULL) AS pages_with_text,
       (SELECT count(*) FROM crawl_sites WHERE run_id = $1) AS sites_this_run,
       (SELECT count(*) FROM render_latest_ok) AS renders
