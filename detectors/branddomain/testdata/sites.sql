-- Sites of the brand_domain tests: imitations of each kind, the brand's own
-- domains, near misses that are real words or other companies, and social
-- channels (their host is the platform's). Publisher ids say what to expect.
INSERT INTO clicks (click_id, ts, publisher_id, _file_id, _line) VALUES
 ('c1', TIMESTAMP '2026-11-20 10:00:00', 'P_COMBO', 1, 1),
 ('c2', TIMESTAMP '2026-11-21 12:00:00', 'P_COMBO', 1, 2);
INSERT INTO sites (publisher_id, url, kind, _file_id, _line) VALUES
 ('P_COMBO',   'https://aliexpress-deals.net/',             'website',   2, 1),
 ('P_COMBO',   'https://aliexpress-deals.net/',             'website',   2, 2),
 ('P_SUBDOM',  'http://aliexpress.com.example.net/login',   'website',   2, 3),
 ('P_IDN',     'https://xn--liexpress-zyh.shop/',           'website',   2, 4),
 ('P_TYPO',    's-aliexpres.com',                           'website',   2, 5),
 ('P_TLD',     'https://www.alibaba.store',                 'website',   2, 6),
 ('P_SHORT',   'https://tmall-deals.ru',                    'website',   2, 7),
 ('P_OWN',     'https://www.aliexpress.com/store/1234',     'website',   2, 8),
 ('P_OWN',     'https://s.click.aliexpress.com/e/_abc',     'website',   2, 9),
 ('P_GROUP',   'https://www.taobao.com/shop/1',             'website',   2, 10),
 ('P_SOCIAL',  'https://vk.com/aliexpress_club',            'social',    2, 11),
 ('P_NEAR',    'https://express.com',                       'website',   2, 12),
 ('P_NEAR',    'https://www.alibris.com',                   'website',   2, 13),
 ('P_NEAR',    'https://alienware.com',                     'website',   2, 14),
 ('P_NEAR',    'https://smartmall.com',                     'website',   2, 15),
 ('P_NEAR',    'https://mall.com',                          'website',   2, 16),
 ('P_NEAR',    'https://gmail.com',                         'website',   2, 17),
 ('P_NEAR',    'https://alabama.gov',                       'website',   2, 18),
 ('P_REDIR',   'https://mytravelblog.example',              'website',   2, 19),
 ('P_BAD',     'http://[::1',                               'website',   2, 20),
 ('P_BAD',     '',                                          'website',   2, 21);
INSERT INTO sites (publisher_id, url, kind, _file_id, _line) VALUES
 ('P_APP',     'com.aliexpress.coupons',                    'app',       2, 22),
 ('P_EMAIL',   'deals@aliexpress-mail.net',                 'email',     2, 23);
