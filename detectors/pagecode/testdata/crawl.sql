-- Newest visits of seven sites and one older visit, as the crawler stores them.
INSERT INTO crawl_sites VALUES
 ('r/1', 'r', 'STUFF1', 'https://deals-stuff.example/', 'deals-stuff.example', 'deals-stuff.example', 'ok', NULL, false, 1, 0, TIMESTAMP '2026-11-22 03:00:00', TIMESTAMP '2026-11-22 03:00:04'),
 ('r/2', 'r', 'STUFF2', 'https://jump.example/', 'jump.example', 'jump.example', 'ok', NULL, false, 1, 0, TIMESTAMP '2026-11-22 03:00:00', TIMESTAMP '2026-11-22 03:00:02'),
 ('r/3', 'r', 'LINKS', 'https://honest.example/', 'honest.example', 'honest.example', 'ok', NULL, false, 2, 0, TIMESTAMP '2026-11-22 03:00:00', TIMESTAMP '2026-11-22 03:00:03'),
 ('r/4', 'r', 'POP1', 'https://pops.example/', 'pops.example', 'pops.example', 'ok', NULL, false, 1, 0, TIMESTAMP '2026-11-22 03:00:00', TIMESTAMP '2026-11-22 03:00:01'),
 ('r/5', 'r', 'SHARE', 'https://share.example/', 'share.example', 'share.example', 'ok', NULL, false, 1, 0, TIMESTAMP '2026-11-22 03:00:00', TIMESTAMP '2026-11-22 03:00:01'),
 ('r/6', 'r', 'WALL', 'https://wall.example/', 'wall.example', 'wall.example', 'ok', NULL, false, 1, 0, TIMESTAMP '2026-11-22 03:00:00', TIMESTAMP '2026-11-22 03:00:01'),
 ('old/1', 'old', 'OLD', 'https://reformed.example/', 'reformed.example', 'reformed.example', 'ok', NULL, false, 1, 0, TIMESTAMP '2026-11-10 03:00:00', TIMESTAMP '2026-11-10 03:00:01'),
 ('r/7', 'r', 'OLD', 'https://reformed.example/', 'reformed.example', 'reformed.example', 'ok', NULL, false, 1, 0, TIMESTAMP '2026-11-22 03:00:00', TIMESTAMP '2026-11-22 03:00:01'),
 -- DOWN: stuffing seen last week; tonight the site answered nothing. The evidence stands.
 ('old/2', 'old', 'DOWN', 'https://down.example/', 'down.example', 'down.example', 'ok', NULL, false, 1, 0, TIMESTAMP '2026-11-15 03:00:00', TIMESTAMP '2026-11-15 03:00:01'),
 ('r/8', 'r', 'DOWN', 'https://down.example/', 'down.example', 'down.example', 'fetch_error', 'timeout', false, 0, 0, TIMESTAMP '2026-11-22 03:00:00', TIMESTAMP '2026-11-22 03:01:00');

INSERT INTO crawl_page_code VALUES
 ('r/1', 0, 'https://deals-stuff.example/', 'hidden_frame', NULL, 'display_none', 'https://s.click.aliexpress.com/e/_dStuff', 's.click.aliexpress.com',
  '<iframe src="https://s.click.aliexpress.com/e/_dStuff" style="display:none"></iframe>'),
 ('r/1', 0, 'https://deals-stuff.example/', 'hidden_image', NULL, 'size_1x1', 'https://www.aliexpress.com/item/1.html?aff_fcid=abc', 'www.aliexpress.com',
  '<img src="https://www.aliexpress.com/item/1.html?aff_fcid=abc" width="1" height="1">'),
 ('r/1', 0, 'https://deals-stuff.example/', 'script_src', NULL, NULL, 'https://deals-stuff.example/app.js', 'deals-stuff.example', '<script src="/app.js"></script>'),
 ('r/2', 0, 'https://jump.example/', 'script_url', 'injects_image', NULL, 'https://s.click.aliexpress.com/e/_px', 's.click.aliexpress.com', 'var i = new Image(); i.src = "https://s.click.aliexpress.com/e/_px"'),
 ('r/3', 0, 'https://honest.example/', 'script_url', NULL, NULL, 'https://s.click.aliexpress.com/e/_menu', 's.click.aliexpress.com', 'var deals = ["https://s.click.aliexpress.com/e/_menu"]'),
 ('r/4', 0, 'https://pops.example/', 'script_url', 'injects_script', NULL, 'https://c2.popcash.net/p.js', 'c2.popcash.net', 's.src = "//c2.popcash.net/p.js"'),
 ('r/2', 0, 'https://jump.example/', 'script_redirect', NULL, NULL, 'https://click.aliexpress.com/e/_jump', 'click.aliexpress.com', 'window.location.href = "https://click.aliexpress.com/e/_jump"'),
 ('r/3', 0, 'https://honest.example/', 'hidden_image', NULL, 'size_1x1', 'https://www.aliexpress.com/favicon.ico', 'www.aliexpress.com', '<img src="https://www.aliexpress.com/favicon.ico" width="1" height="1">'),
 ('r/3', 0, 'https://honest.example/', 'hidden_image', NULL, 'size_0x0', 'https://stats.honest.example/pixel.gif', 'stats.honest.example', '<img src="https://stats.honest.example/pixel.gif" width="0" height="0">'),
 ('r/4', 0, 'https://pops.example/', 'window_open', 'load', NULL, 'https://pops.example/promo', 'pops.example', '<body onload="window.open(''/promo'')">'),
 ('r/4', 0, 'https://pops.example/', 'script_src', NULL, NULL, 'https://c1.popads.net/pop.js', 'c1.popads.net', '<script src="https://c1.popads.net/pop.js"></script>'),
 ('r/5', 0, 'https://share.example/', 'window_open', 'click', NULL, 'https://twitter.com/share', 'twitter.com', '<a onclick="window.open(''https://twitter.com/share'')">share</a>'),
 ('r/6', 0, 'https://wall.example/', 'registration_wall', 'overlay', NULL, 'https://wall.example/signup', 'wall.example', '<div style="position:fixed;inset:0"><a href="/signup">Sign up</a></div>'),
 ('old/2', 0, 'https://down.example/', 'hidden_image', NULL, 'display_none', 'https://s.click.aliexpress.com/e/_down', 's.click.aliexpress.com', '<img src="https://s.click.aliexpress.com/e/_down" style="display:none">'),
 ('old/1', 0, 'https://reformed.example/', 'hidden_frame', NULL, 'display_none', 'https://s.click.aliexpress.com/e/_old', 's.click.aliexpress.com', '<iframe src="https://s.click.aliexpress.com/e/_old" style="display:none"></iframe>');

-- LINKS: a linked /go/ page redirects to an affiliate link (the visitor clicked it): not a candidate.
INSERT INTO crawl_redirects VALUES
 ('r/2', 0, 1, 'script_redirect', 'https://jump.example/', 'https://click.aliexpress.com/e/_jump', NULL, false, 'do-not-fetch host (the program''s tracking links)'),
 ('r/3', 1, 1, 'http', 'https://honest.example/go/phone', 'https://s.click.aliexpress.com/e/_go', 302, false, 'do-not-fetch host (the program''s tracking links)');
