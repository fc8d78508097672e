-- Added to world.sql for the partition test: links that run through the
-- orders and clicks of a publisher of another partition (of four: SHOP is
-- in partition 1, XP and CROWD in partition 2; the test checks).
--   XP     address addr-x is the one buyer Y shipped an order through SHOP
--          to; Y's device (a click on SHOP) is buyer Z's; Y and Z each buy
--          once through XP on the night of 2026-11-21
--   CROWD  registered from 10.5.5.5, which buyer QQ shows on its two
--          orders through CROWD that night, and 25 other buyers on their
--          orders through SHOP: a crowd-shared value that links nobody
--   SHOP   an ordinary publisher
INSERT INTO publishers (publisher_id, entity_id, email_hash, payout_hash, address_hash, ip, _file_id, _line) VALUES
  ('XP',    'ent-x', 'em-x', 'pay-x', 'addr-x', '10.0.3.1', 1, 1),
  ('CROWD', 'ent-c', 'em-c', 'pay-c', NULL,     '10.5.5.5', 1, 2),
  ('SHOP',  'ent-s', 'em-s', 'pay-s', NULL,     '10.0.3.3', 1, 3);

INSERT INTO clicks (click_id, ts, publisher_id, ip, device_id, buyer_id, _file_id, _line) VALUES
  ('k-y', TIMESTAMP '2026-11-19 09:00:00', 'SHOP', '10.4.0.1', 'dev-yz', 'Y', 1, 1),
  ('k-z', TIMESTAMP '2026-11-19 10:00:00', 'SHOP', '10.4.0.2', 'dev-yz', 'Z', 1, 2);

INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, buyer_ip, buyer_device_id, address_hash, payment_hash, status, commission_usd, _file_id, _line) VALUES
  ('o-y0', TIMESTAMP '2026-11-19 09:30:00', 'Y',  30, 'SHOP',  '10.4.0.1', 'dev-y', 'addr-x',  'pay-y', 'paid', 1.20, 1, 1),
  ('o-y1', TIMESTAMP '2026-11-21 09:30:00', 'Y',  20, 'XP',    '10.4.0.1', 'dev-y', 'addr-y2', 'pay-y', 'paid', 0.80, 1, 2),
  ('o-z1', TIMESTAMP '2026-11-21 10:30:00', 'Z',  20, 'XP',    '10.4.0.2', 'dev-z', 'addr-z',  'pay-z', 'paid', 0.80, 1, 3),
  ('o-q1', TIMESTAMP '2026-11-21 11:00:00', 'QQ', 10, 'CROWD', '10.5.5.5', 'dev-q', 'addr-q',  'pay-q', 'paid', 0.50, 1, 4),
  ('o-q2', TIMESTAMP '2026-11-21 11:30:00', 'QQ', 10, 'CROWD', '10.5.5.5', 'dev-q', 'addr-q',  'pay-q', 'paid', 0.50, 1, 5);
INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, buyer_ip, buyer_device_id, address_hash, payment_hash, status, commission_usd, _file_id, _line)
SELECT 'o-g' || i, TIMESTAMP '2026-11-20 12:00:00' + to_minutes(i::INTEGER), 'G' || i, 10, 'SHOP', '10.5.5.5', 'dev-g' || i,
       'addr-g' || i, 'pay-g' || i, 'paid', 0.50, 1, 10 + i
FROM range(0, 25) r(i);
