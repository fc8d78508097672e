-- brand_domain (B.5.a–b, 8.3; ePN rule 1): the hosts of the publishers'
-- sites, to be screened in Go against the rule pack's brand keywords.
-- Inputs: sites (publisher_id, url, kind), and when the crawler ran:
-- crawl_latest (the newest visit of each site, whatever its status),
-- crawl_dns (does the host resolve, has it MX records), crawl_pages
-- (final URL of the landing page) and crawl_redirects (its redirect hops).

-- name: Sites
-- One row per distinct site of a publisher, with the facts of its newest
-- crawl when there is one (NULLs otherwise).
SELECT s.publisher_id, s.url, coalesce(min(s.kind), '') AS kind,
       any_value(l.crawl_id) AS crawl_id, any_value(l.status) AS status,
       any_value(l.started_at) AS started_at, any_value(l.finished_at) AS finished_at
FROM sites s
LEFT JOIN crawl_latest l ON l.publisher_id = s.publisher_id AND l.site_url = s.url
WHERE s.publisher_id IS NOT NULL AND s.url IS NOT NULL AND s.url <> ''
GROUP BY s.publisher_id, s.url
ORDER BY s.publisher_id, s.url

-- name: CrawlHosts
-- The URLs a visitor of the site's address ends up on: the landing page's
-- final URL and every redirect hop it followed.
SELECT l.crawl_id, u.source, u.url
FROM crawl_latest l
JOIN (
    SELECT crawl_id, 'final_url' AS source, final_url AS url FROM crawl_pages WHERE page_no = 0 AND final_url IS NOT NULL
    UNION ALL
    SELECT crawl_id, 'redirect', to_url FROM crawl_redirects WHERE page_no = 0
) u ON u.crawl_id = l.crawl_id
ORDER BY 1, 2, 3

-- name: DNSFacts
-- Per crawled site: did any A/AAAA question get an address, any MX
-- question an MX record, and the A question's response code.
SELECT l.crawl_id,
       coalesce(bool_or(d.question_type IN ('A', 'AAAA') AND d.answer_type IN ('A', 'AAAA')), false) AS resolves,
       coalesce(bool_or(d.question_type = 'MX' AND d.answer_type = 'MX'), false) AS has_mx,
       coalesce(string_agg(DISTINCT CASE WHEN d.question_type = 'A' THEN coalesce(d.rcode, d.error) END, ','), '') AS a_rcode,
       count(d.crawl_id) AS records
FROM crawl_latest l
LEFT JOIN crawl_dns d ON d.crawl_id = l.crawl_id
GROUP BY l.crawl_id
ORDER BY 1

-- name: CrawlCount
SELECT count(*) FROM crawl_sites
