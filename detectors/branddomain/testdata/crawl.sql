-- A crawl of two of the sites: the combosquat resolves (A, no MX), and a
-- clean-looking blog whose landing page redirects to a typo domain.
INSERT INTO crawl_sites VALUES
 ('r1/000001', 'r1', 'P_COMBO', 'https://aliexpress-deals.net/', 'aliexpress-deals.net', 'aliexpress-deals.net', 'ok', NULL, false, 3, 1,
  TIMESTAMP '2026-11-22 01:00:00', TIMESTAMP '2026-11-22 01:00:05'),
 ('r1/000002', 'r1', 'P_REDIR', 'https://mytravelblog.example', 'mytravelblog.example', 'mytravelblog.example', 'ok', NULL, false, 1, 0,
  TIMESTAMP '2026-11-22 01:01:00', TIMESTAMP '2026-11-22 01:01:03');
INSERT INTO crawl_dns (crawl_id, question_name, question_type, rcode, answer_name, answer_type, ttl, value) VALUES
 ('r1/000001', 'aliexpress-deals.net.', 'A', 'NOERROR', 'aliexpress-deals.net.', 'A', 300, '127.0.0.5'),
 ('r1/000001', 'aliexpress-deals.net.', 'MX', 'NOERROR', NULL, NULL, NULL, NULL),
 ('r1/000002', 'mytravelblog.example.', 'A', 'NOERROR', 'mytravelblog.example.', 'A', 300, '127.0.0.6');
INSERT INTO crawl_pages (crawl_id, page_no, requested_url, final_url, http_status, fetched_at, elapsed_ms) VALUES
 ('r1/000001', 0, 'https://aliexpress-deals.net/', 'https://aliexpress-deals.net/', 200, TIMESTAMP '2026-11-22 01:00:01', 10),
 ('r1/000002', 0, 'https://mytravelblog.example', 'https://alixepress.site/welcome', 200, TIMESTAMP '2026-11-22 01:01:01', 10);
INSERT INTO crawl_redirects VALUES
 ('r1/000002', 0, 1, 'http', 'https://mytravelblog.example', 'https://alixepress.site/welcome', 302, true, NULL);
