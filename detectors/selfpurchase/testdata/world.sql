-- A small program for the self_purchase tests. Publishers:
--   PAY    payout account pay-1 is buyer BP's payment instrument; BP buys 3× through PAY (2 more orders by strangers)
--   CHAIN  address addr-2 = buyer A's; A's phone = buyer B's; B's device = buyer C's; A 1×, B 1×, C 2× through CHAIN
--   IPPUB  registered from 10.0.0.7, the home IP of buyer BI (no one else); BI buys 4× through IPPUB
--   IPONE  registered from 10.0.0.8, buyer BJ's IP; BJ buys once through IPONE
--   CGNAT  registered from 100.64.0.1, which 25 buyers show; 10 of them buy once through CGNAT
--   REL    address addr-5 = buyer R's; R buys only through OTHER and organically
--   OWN    email em-6 and payout pay-6 = buyer O's; O buys only through OTHER
--   WEAK   registered from 10.0.0.9, which 4 buyers show (5 holders); one of them buys once through WEAK
--   OTHER  an ordinary publisher
INSERT INTO publishers (publisher_id, entity_id, email_hash, phone_hash, payout_hash, address_hash, ip, _file_id, _line) VALUES
  ('PAY',   'ent-1', 'em-1', 'ph-1', 'pay-1', 'addr-1', '10.0.0.1', 0, 1),
  ('CHAIN', 'ent-2', 'em-2', NULL,   'pay-2', 'addr-2', '10.0.0.2', 0, 2),
  ('IPPUB', 'ent-3', 'em-3', NULL,   'pay-3', NULL,     '10.0.0.7', 0, 3),
  ('IPONE', 'ent-4', 'em-4', NULL,   'pay-4', NULL,     '10.0.0.8', 0, 4),
  ('CGNAT', 'ent-5', 'em-5', NULL,   'pay-5', NULL,     '100.64.0.1', 0, 5),
  ('REL',   'ent-6', 'em-7', NULL,   'pay-7', 'addr-5', '10.0.0.5', 0, 6),
  ('OWN',   'ent-7', 'em-6', NULL,   'pay-6', NULL,     '10.0.0.6', 0, 7),
  ('WEAK',  'ent-8', 'em-8', NULL,   'pay-8', NULL,     '10.0.0.9', 0, 8),
  ('OTHER', 'ent-9', 'em-9', NULL,   'pay-9', NULL,     '10.0.1.1', 0, 9);

INSERT INTO buyers (buyer_id, email_hash, phone_hash, payment_hash, address_hash, device_id, ip, _file_id, _line) VALUES
  ('A',  'em-a', 'ph-ab', NULL, NULL, NULL, NULL, 0, 1),
  ('B',  'em-b', 'ph-ab', NULL, NULL, NULL, NULL, 0, 2),
  ('O',  'em-6', NULL, 'pay-6', NULL, NULL, NULL, 0, 3),
  ('R',  'em-r', NULL, NULL, 'addr-5', NULL, NULL, 0, 4);

-- C uses B's device; the clicks carry the logged-in buyer.
INSERT INTO clicks (click_id, ts, publisher_id, ip, device_id, buyer_id, _file_id, _line) VALUES
  ('k-b', TIMESTAMP '2026-11-20 09:00:00', 'CHAIN', '10.9.0.2', 'dev-b', 'B', 0, 1),
  ('k-c', TIMESTAMP '2026-11-20 10:00:00', 'CHAIN', '10.9.0.3', 'dev-b', 'C', 0, 2);
-- 25 buyers behind the carrier NAT address; 4 behind WEAK's address.
INSERT INTO clicks (click_id, ts, publisher_id, ip, device_id, buyer_id, _file_id, _line)
SELECT 'k-nat-' || i, TIMESTAMP '2026-11-20 12:00:00' + to_minutes(i::INTEGER), 'OTHER', '100.64.0.1', 'dev-nat-' || i, 'N' || i, 0, 10 + i
FROM range(0, 25) r(i);
INSERT INTO clicks (click_id, ts, publisher_id, ip, device_id, buyer_id, _file_id, _line)
SELECT 'k-w-' || i, TIMESTAMP '2026-11-20 13:00:00' + to_minutes(i::INTEGER), 'OTHER', '10.0.0.9', 'dev-w-' || i, 'W' || i, 0, 40 + i
FROM range(0, 4) r(i);

INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, buyer_ip, buyer_device_id, address_hash, payment_hash, status, commission_usd, _file_id, _line) VALUES
  ('o-p1', TIMESTAMP '2026-11-20 10:00:00', 'BP', 100, 'PAY', '10.8.0.1', 'dev-p', 'addr-p', 'pay-1', 'paid', 4.00, 0, 1),
  ('o-p2', TIMESTAMP '2026-11-20 11:00:00', 'BP', 50,  'PAY', '10.8.0.1', 'dev-p', 'addr-p', 'pay-1', 'paid', 2.00, 0, 2),
  ('o-p3', TIMESTAMP '2026-11-21 12:00:00', 'BP', 25,  'PAY', '10.8.0.1', 'dev-p', 'addr-p', 'pay-1', 'refunded', 1.00, 0, 3),
  ('o-s1', TIMESTAMP '2026-11-20 13:00:00', 'S1', 30,  'PAY', '10.8.1.1', 'dev-s1', 'addr-s1', 'pay-s1', 'paid', 1.20, 0, 4),
  ('o-s2', TIMESTAMP '2026-11-21 13:00:00', 'S2', 30,  'PAY', '10.8.1.2', 'dev-s2', 'addr-s2', 'pay-s2', 'paid', 1.20, 0, 5),
  ('o-a1', TIMESTAMP '2026-11-20 14:00:00', 'A',  40,  'CHAIN', '10.9.0.1', 'dev-a', 'addr-2', 'pay-a', 'paid', 1.60, 0, 6),
  ('o-b1', TIMESTAMP '2026-11-20 15:00:00', 'B',  20,  'CHAIN', '10.9.0.2', 'dev-b', 'addr-b', 'pay-b', 'paid', 0.80, 0, 7),
  ('o-c1', TIMESTAMP '2026-11-21 15:00:00', 'C',  10,  'CHAIN', '10.9.0.3', 'dev-b', 'addr-c', 'pay-c', 'paid', 0.40, 0, 8),
  ('o-c2', TIMESTAMP '2026-11-21 16:00:00', 'C',  10,  'CHAIN', '10.9.0.3', 'dev-b', 'addr-c', 'pay-c', 'paid', 0.40, 0, 9),
  ('o-i1', TIMESTAMP '2026-11-20 08:00:00', 'BI', 10,  'IPPUB', '10.0.0.7', 'dev-i', 'addr-i', 'pay-i', 'paid', 0.50, 0, 10),
  ('o-i2', TIMESTAMP '2026-11-20 09:00:00', 'BI', 10,  'IPPUB', '10.0.0.7', 'dev-i', 'addr-i', 'pay-i', 'paid', 0.50, 0, 11),
  ('o-i3', TIMESTAMP '2026-11-21 09:00:00', 'BI', 10,  'IPPUB', '10.0.0.7', 'dev-i', 'addr-i', 'pay-i', 'paid', 0.50, 0, 12),
  ('o-i4', TIMESTAMP '2026-11-21 10:00:00', 'BI', 10,  'IPPUB', '10.0.0.7', 'dev-i', 'addr-i', 'pay-i', 'paid', 0.50, 0, 13),
  ('o-j1', TIMESTAMP '2026-11-20 08:30:00', 'BJ', 10,  'IPONE', '10.0.0.8', 'dev-j', 'addr-j', 'pay-j', 'paid', 0.50, 0, 14),
  ('o-r1', TIMESTAMP '2026-11-20 08:40:00', 'R',  10,  'OTHER', '10.7.0.5', 'dev-r', 'addr-5', 'pay-r', 'paid', 0.50, 0, 15),
  ('o-r2', TIMESTAMP '2026-11-21 08:40:00', 'R',  10,  NULL,    '10.7.0.5', 'dev-r', 'addr-5', 'pay-r', 'paid', NULL, 0, 16),
  ('o-o1', TIMESTAMP '2026-11-20 08:50:00', 'O',  10,  'OTHER', '10.0.0.6', 'dev-o', 'addr-o', 'pay-6', 'paid', 0.50, 0, 17),
  ('o-w1', TIMESTAMP '2026-11-20 13:30:00', 'W0', 10,  'WEAK',  '10.0.0.9', 'dev-w-0', 'addr-w', 'pay-w', 'paid', 0.50, 0, 18);
INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, buyer_ip, buyer_device_id, address_hash, payment_hash, status, commission_usd, _file_id, _line)
SELECT 'o-n' || i, TIMESTAMP '2026-11-21 12:00:00' + to_minutes(i::INTEGER), 'N' || i, 10, 'CGNAT', '100.64.0.1', 'dev-nat-' || i,
       'addr-n' || i, 'pay-n' || i, 'paid', 0.50, 0, 100 + i
FROM range(0, 10) r(i);

-- LOCKER: the publisher's address is a parcel locker 8 buyers ship to, its
-- ordinary audience; each buys twice through LOCKER. A hard identifier, but
-- shared by 9 holders: 1/8 per link, too weak to tie anyone.
INSERT INTO publishers (publisher_id, entity_id, email_hash, payout_hash, address_hash, ip, _file_id, _line) VALUES
  ('LOCKER', 'ent-10', 'em-10', 'pay-10', 'addr-locker', '10.0.2.1', 0, 10);
INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, buyer_ip, address_hash, payment_hash, status, commission_usd, _file_id, _line)
SELECT 'o-l' || i || '-' || j, TIMESTAMP '2026-11-20 18:00:00' + to_minutes((10 * i + j)::INTEGER), 'L' || i, 10, 'LOCKER',
       '10.6.0.' || i, 'ADDR-LOCKER', 'pay-l' || i, 'paid', 0.50, 0, 200 + 10 * i + j
FROM range(0, 8) r(i), range(0, 2) s(j);
