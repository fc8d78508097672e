-- Ads and crawled pages of the brand_misuse tests. Publisher ids say what
-- to expect: P_SEM bids on the brand (one ad of three), P_NEG only excludes
-- it (negative keywords), P_CLEAN's ads are clean; P_CLAIM's site claims
-- affiliation in a heading, P_DISC names the brand behind a disclaimer,
-- P_OWN's site redirects to the brand's own domain, P_BOOK sells the tale.
INSERT INTO clicks (click_id, ts, publisher_id, _file_id, _line) VALUES
 ('c1', TIMESTAMP '2026-11-20 10:00:00', 'P_SEM', 1, 1),
 ('c2', TIMESTAMP '2026-11-21 12:00:00', 'P_SEM', 1, 2);
INSERT INTO ads (publisher_id, ad_id, keyword, title, text, display_url, _file_id, _line) VALUES
 ('P_SEM', 'a1', 'phone cases', 'Phone Cases from $2', 'Cases for every phone.', 'cases.example/phone-cases', 2, 1),
 ('P_SEM', 'a2', 'aliexpres coupons', 'Coupons Daily', 'Save on every order.', 'cases.example/coupons', 2, 2),
 ('P_SEM', 'a3', 'earbuds', 'Earbuds from $5', 'Top picks.', 'cases.example/earbuds', 2, 3),
 ('P_NEG', 'n1', 'wireless earbuds -aliexpress', 'Earbuds Sale', 'Reviewed by experts.', 'buds.example', 2, 4),
 ('P_CLEAN', 'k1', 'express delivery', 'Express Delivery Gadgets', 'Next-day delivery.', 'fast.example', 2, 5),
 ('P_CLEAN', 'k2', 'led lights', 'LED Lights from $4', 'Honest reviews.', 'aliexpress.com/item/1', 2, 6);
INSERT INTO crawl_sites VALUES
 ('r1/000001', 'r1', 'P_CLAIM', 'https://gadgets.example/', 'gadgets.example', 'gadgets.example', 'ok', NULL, false, 2, 0,
  TIMESTAMP '2026-11-22 01:00:00', TIMESTAMP '2026-11-22 01:00:05'),
 ('r1/000002', 'r1', 'P_DISC', 'https://coupons.example/', 'coupons.example', 'coupons.example', 'ok', NULL, false, 1, 0,
  TIMESTAMP '2026-11-22 01:01:00', TIMESTAMP '2026-11-22 01:01:03'),
 ('r1/000003', 'r1', 'P_OWN', 'https://go.example/', 'go.example', 'go.example', 'ok', NULL, false, 1, 0,
  TIMESTAMP '2026-11-22 01:02:00', TIMESTAMP '2026-11-22 01:02:03'),
 ('r1/000004', 'r1', 'P_BOOK', 'https://books.example/', 'books.example', 'books.example', 'ok', NULL, false, 1, 0,
  TIMESTAMP '2026-11-22 01:03:00', TIMESTAMP '2026-11-22 01:03:03');
INSERT INTO crawl_pages (crawl_id, page_no, requested_url, final_url, http_status, title, meta_description, meta_keywords, html, fetched_at, elapsed_ms) VALUES
 ('r1/000001', 0, 'https://gadgets.example/', 'https://gadgets.example/', 200, 'Gadget Deals', 'Cheap gadgets every day.', NULL,
  '<html><head><title>Gadget Deals</title></head><body><h1>Hot gadgets</h1><h2>Official AliExpress Partner Store</h2><p>AliExpress mentioned in body text only</p></body></html>'::BLOB,
  TIMESTAMP '2026-11-22 01:00:01', 10),
 ('r1/000001', 1, 'https://gadgets.example/about', 'https://gadgets.example/about', 200, 'About us', NULL, NULL, NULL, TIMESTAMP '2026-11-22 01:00:02', 10),
 ('r1/000002', 0, 'https://coupons.example/', 'https://coupons.example/', 200, 'Coupon Corner — AliExpress coupons',
  'Independent site, not affiliated with AliExpress.', 'coupons', NULL, TIMESTAMP '2026-11-22 01:01:01', 10),
 ('r1/000003', 0, 'https://go.example/', 'https://www.aliexpress.com/', 200, 'AliExpress - Official Store', 'Official AliExpress.', NULL, NULL,
  TIMESTAMP '2026-11-22 01:02:01', 10),
 ('r1/000004', 0, 'https://books.example/', 'https://books.example/', 200, 'Ali Baba and the Forty Thieves', 'Express delivery on all books.', NULL,
  '<h1>Ali-Baba and the forty thieves</h1>'::BLOB, TIMESTAMP '2026-11-22 01:03:01', 10);
