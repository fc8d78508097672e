-- Sites the nightly run visits: websites of the sites dataset (social
-- channels, apps, extensions and mail live on platforms the publisher does
-- not control) that were not visited with a lasting outcome within the
-- recrawl TTL. DNS and fetch errors are retried the next night: they may be
-- transient, and a site that is down tonight may stuff cookies tomorrow.
-- $1 fresh_since (TIMESTAMP), $2 force (BOOLEAN)
WITH wanted AS (
    SELECT DISTINCT publisher_id, trim(url) AS url
    FROM sites
    WHERE publisher_id IS NOT NULL AND url IS NOT NULL AND trim(url) <> ''
      AND (kind IS NULL OR kind = '' OR kind = 'website')
)
SELECT w.publisher_id, w.url,
       EXISTS (SELECT 1 FROM crawl_sites c
               WHERE c.publisher_id = w.publisher_id AND c.site_url = w.url
                 AND c.finished_at >= $1
                 AND c.status IN ('ok', 'refused', 'robots_disallowed', 'invalid_url')) AS fresh
FROM wanted w
ORDER BY w.publisher_id, w.url
