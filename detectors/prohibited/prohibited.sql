-- prohibited_content (C.6.c–q, D.7; ePN "pay attention" notes on piracy,
-- refund content and motivated traffic): the text of the publishers' own
-- pages, classified in Go against the rule pack's lexicons.
-- Inputs: crawl_latest (the newest visit of each site), crawl_pages.

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

-- name: CrawlState
-- Whether anything was crawled at all (a --no-crawl run on a fresh store
-- leaves the crawl tables empty), how many pages carry text
-- tables and how many pages carry text; whether this run ($1) crawled
-- (with --no-crawl the newest stored visits are judged, as by pagecode).
SELECT (SELECT count(*) FROM crawl_sites) AS sites,
       (SELECT count(*) FROM crawl_pages WHERE visible_text IS NOT NULL) AS pages_with_text,
       (SELECT count(*) FROM crawl_sites WHERE run_id = $1) AS sites_this_run
