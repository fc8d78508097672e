-- brand_misuse (C.6.a–b, E.10.i; ePN rule 3): the publishers' search ads
-- and the text of their crawled pages, to be read in Go for the brands of
-- the rule pack and claims of affiliation.
-- Inputs: ads (publisher_id, ad_id, keyword, title, text, display_url);
-- crawl_latest (the newest visit of each site) and crawl_pages (title,
-- meta description and keywords, html for the headings).

-- name: Ads
-- Every search ad, each field cut to $1 bytes so a hostile export bounds
-- the work.
SELECT publisher_id, coalesce(ad_id, '') AS ad_id,
       coalesce(substr(keyword, 1, $1), '') AS keyword,
       coalesce(substr(title, 1, $1), '') AS title,
       coalesce(substr(text, 1, $1), '') AS text,
       coalesce(substr(display_url, 1, $1), '') AS display_url
FROM ads
WHERE publisher_id IS NOT NULL AND publisher_id <> ''
ORDER BY publisher_id, ad_id, _file_id, _line

-- name: Pages
-- Every page of the newest visit of each site that came back with a
-- title, meta tags or HTML; text fields cut to $1 bytes, HTML to $2 (as
-- served: the content type names its charset).
SELECT s.publisher_id, s.site_url, s.crawl_id, s.started_at, s.finished_at,
       p.page_no, coalesce(p.final_url, p.requested_url) AS url,
       coalesce(substr(p.title, 1, $1), '') AS title,
       coalesce(substr(p.meta_description, 1, $1), '') AS meta_description,
       coalesce(substr(p.meta_keywords, 1, $1), '') AS meta_keywords,
       CASE WHEN p.html IS NULL THEN NULL ELSE p.html[1:$2] END AS html,
       coalesce(p.content_type, '') AS content_type
FROM crawl_latest s
JOIN crawl_pages p ON p.crawl_id = s.crawl_id
WHERE p.title IS NOT NULL OR p.meta_description IS NOT NULL OR p.meta_keywords IS NOT NULL OR p.html IS NOT NULL
ORDER BY s.publisher_id, s.site_url, p.page_no

-- name: RenderedPages
-- Every page of the newest completed render of each site in each profile
-- (honest: affwatch's announced visit; shopper: a browser arriving from a
-- search engine): the title and the text the browser laid out, where a
-- claim a script writes, or one served only to shoppers, shows. Title cut
-- to $1 bytes, text to $2.
SELECT v.publisher_id, v.site_url, v.render_id, v.profile, v.started_at, v.finished_at,
       p.page_no, coalesce(p.final_url, p.url) AS url,
       coalesce(substr(p.title, 1, $1), '') AS title,
       coalesce(substr(p.visible_text, 1, $2), '') AS visible_text
FROM render_latest_ok v
JOIN render_pages p ON p.render_id = v.render_id
-- A document that is not the site's own (Chromium's error page after a
-- navigation the proxy refused, about:blank) shows the browser's text,
-- not the publisher's.
WHERE regexp_matches(coalesce(p.final_url, p.url), '^https?://', 'i')
ORDER BY v.publisher_id, v.site_url, v.profile, p.page_no

-- name: State
-- How much there is to read: ads, crawled sites, pages with HTML, sites
-- crawled in this run ($1), and site × profile renders.
SELECT (SELECT count(*) FROM ads) AS ads,
       (SELECT count(*) FROM crawl_sites) AS sites,
       (SELECT count(*) FROM crawl_pages WHERE html IS NOT NULL) AS pages_with_html,
       (SELECT count(*) FROM crawl_sites WHERE run_id = $1) AS sites_this_run,
       (SELECT count(*) FROM render_latest_ok) AS renders
