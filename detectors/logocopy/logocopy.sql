-- logo_copy (8.4; ePN rule 2): the favicons, header logos and og:images
-- of the newest crawl of each site that got its pages (crawl_latest_ok: a
-- site down for the night does not erase its last evidence), with the
-- bytes the crawler kept; compared in Go with the pack's reference logos.

-- name: Assets
-- The landing page's final URL stands for the page the asset was on (the
-- crawler records assets per visit, not per page).
SELECT s.publisher_id, s.site_url, s.crawl_id, s.started_at, s.finished_at,
       a.role, a.url, coalesce(a.content_type, '') AS content_type,
       coalesce(a.sha256, '') AS sha256, a.bytes,
       coalesce(p.page_url, s.site_url) AS page_url,
       coalesce(a.ahash, '') AS ahash, coalesce(a.width, 0) AS width, coalesce(a.height, 0) AS height
FROM crawl_latest_ok s
JOIN crawl_assets a ON a.crawl_id = s.crawl_id
LEFT JOIN (
    SELECT crawl_id, min(coalesce(final_url, requested_url)) AS page_url
    FROM crawl_pages WHERE page_no = 0 GROUP BY crawl_id
) p ON p.crawl_id = s.crawl_id
WHERE (a.bytes IS NOT NULL AND octet_length(a.bytes) > 0)
   -- over the crawler's storage cap: the sha256 of the whole file and the
   -- crawler's 64-bit average hash remain
   OR (a.bytes IS NULL AND a.http_status = 200 AND (a.sha256 IS NOT NULL OR a.ahash IS NOT NULL))
ORDER BY s.publisher_id, s.site_url, a.role, a.url

-- name: RenderedAssets
-- The favicons and logos headless Chromium loaded on the landing page of
-- the newest completed render of each site in each profile (honest:
-- affwatch's announced visit; shopper: a browser arriving from a search
-- engine): a logo a script inserts, or one served only to shoppers, is
-- only there. Ordered as Assets, honest before shopper.
SELECT v.publisher_id, v.site_url, v.render_id, v.profile, v.started_at, v.finished_at,
       a.role, a.url, coalesce(a.content_type, '') AS content_type, a.bytes,
       coalesce(p.page_url, v.site_url) AS page_url
FROM render_latest_ok v
JOIN render_assets a ON a.render_id = v.render_id
LEFT JOIN (
    SELECT render_id, min(coalesce(final_url, url)) AS page_url
    FROM render_pages WHERE page_no = 0 GROUP BY render_id
) p ON p.render_id = v.render_id
WHERE a.bytes IS NOT NULL AND octet_length(a.bytes) > 0
ORDER BY v.publisher_id, v.site_url, v.profile, a.role, a.url

-- name: RenderedProfiles
-- The profiles each site's newest completed renders used.
SELECT publisher_id, site_url, profile FROM render_latest_ok

-- name: Counts
-- Sites crawled at all, crawled with their pages, assets kept (bytes, or
-- the average hash of a file over the storage cap), and rendered assets
-- kept.
SELECT (SELECT count(*) FROM crawl_sites),
       (SELECT count(*) FROM crawl_latest_ok),
       (SELECT count(*) FROM crawl_assets a JOIN crawl_latest_ok s ON s.crawl_id = a.crawl_id WHERE a.bytes IS NOT NULL OR a.ahash IS NOT NULL),
       (SELECT count(*) FROM render_assets a JOIN render_latest_ok v ON v.render_id = a.render_id WHERE a.bytes IS NOT NULL)
