-- reflists — labels clicks and orders from the maintained reference lists
-- (general invalid traffic, MRC IVT guidelines: GIVT is list-based).
-- Inputs: clicks (click_id, publisher_id, ts, user_agent, ip, _file_id),
-- orders (order_id, publisher_id, ts, buyer_ip, _file_id), load_ledger, and
-- the temp tables rl_patterns, rl_lists and rl_ranges the Go side fills
-- from the list files.
-- Set-based and incremental (issue 16): user agents and addresses are
-- matched once per distinct value ever seen (reflist_ua, reflist_ip, kept
-- while the lists' fingerprint holds), and only the days the newly loaded
-- files touch are relabelled; a night does not re-read the history.

-- name: CreatePatterns
-- One row per user-agent pattern, in precedence order (idx): the
-- maintained list, the IAB file, the pack's own.
CREATE OR REPLACE TEMP TABLE rl_patterns (idx INTEGER, re VARCHAR, literal VARCHAR, fold BOOLEAN,
                                          list VARCHAR, version VARCHAR, entry VARCHAR);

-- name: CreateLists
CREATE OR REPLACE TEMP TABLE rl_lists (lid INTEGER, name VARCHAR, version VARCHAR, class VARCHAR);

-- name: CreateRanges
-- lo, hi: the range in IPv6 space, from the Go side's halves.
CREATE OR REPLACE TEMP TABLE rl_ranges (lid INTEGER, rank INTEGER, entry VARCHAR, lo UHUGEINT, hi UHUGEINT);

-- name: CreateCandidates
CREATE OR REPLACE TEMP TABLE rl_ua_cand (ua VARCHAR, idx INTEGER);

-- name: Reset
-- Other lists than the stored labels were computed with: start over.
DELETE FROM reflist_ua; DELETE FROM reflist_ip; DELETE FROM reflist_files;
DELETE FROM click_traffic; DELETE FROM order_ip_class; DELETE FROM reflist_state;
DELETE FROM reflist_patterns; DELETE FROM reflist_lists;
INSERT INTO reflist_patterns SELECT idx, list, version, entry FROM rl_patterns;
INSERT INTO reflist_lists SELECT lid, name, version, class FROM rl_lists;

-- name: NewFiles
-- Click and order files not labelled yet (all of them after a Reset).
-- (Read off the rows, not the load ledger: one compressed column to scan.)
CREATE OR REPLACE TEMP TABLE rl_new_files AS
SELECT file_id, dataset FROM (
    SELECT DISTINCT _file_id AS file_id, 'clicks' AS dataset FROM clicks
    UNION ALL
    SELECT DISTINCT _file_id, 'orders' FROM orders)
WHERE file_id NOT IN (SELECT file_id FROM reflist_files);

-- name: NewUserAgents
-- User agents of the new files never matched before.
CREATE OR REPLACE TEMP TABLE rl_new_ua AS
SELECT DISTINCT user_agent AS ua FROM clicks
WHERE _file_id IN (SELECT file_id FROM rl_new_files WHERE dataset = 'clicks') AND user_agent IS NOT NULL
  AND user_agent NOT IN (SELECT ua FROM reflist_ua);

-- name: NewAddresses
-- Addresses of the new files never classed before. Only when a range list
-- is configured: without one no address has a class, and remembering every
-- address the program ever saw made each night probe a table that grows
-- with the history (6.8 M addresses after 28 nights of 1.5 M clicks).
CREATE OR REPLACE TEMP TABLE rl_new_ip AS
SELECT DISTINCT ip FROM (
    SELECT ip FROM clicks WHERE _file_id IN (SELECT file_id FROM rl_new_files WHERE dataset = 'clicks') AND ip IS NOT NULL
    UNION ALL
    SELECT buyer_ip FROM orders WHERE _file_id IN (SELECT file_id FROM rl_new_files WHERE dataset = 'orders') AND buyer_ip IS NOT NULL)
WHERE ip NOT IN (SELECT ip FROM reflist_ip);

-- name: LiteralCandidates
-- Patterns with a required literal: a plain substring test picks the
-- candidates, the regular expression (compiled per candidate pair, so only
-- for the few user agents that contain the literal) confirms.
INSERT INTO rl_ua_cand
WITH ul AS (SELECT ua, lower(ua) AS lua FROM rl_new_ua),
cand AS (
    SELECT ul.ua, p.idx, p.re
    FROM ul JOIN rl_patterns p
      ON p.literal <> '' AND (CASE WHEN p.fold THEN contains(ul.lua, p.literal) ELSE contains(ul.ua, p.literal) END)
)
SELECT ua, idx FROM cand WHERE regexp_matches(ua, re);

-- name: PatternCandidates
-- One pattern without a usable literal, as a constant (compiled once).
-- $1 the pattern, $2 its index
INSERT INTO rl_ua_cand
SELECT ua, $2 FROM rl_new_ua WHERE regexp_matches(ua, $1);

-- name: RememberUserAgents
INSERT INTO reflist_ua
SELECT u.ua, min(c.idx) FROM rl_new_ua u LEFT JOIN rl_ua_cand c ON c.ua = u.ua GROUP BY u.ua;

-- name: IPMatches
-- Every distinct click and checkout address as a 128-bit number (IPv4 as
-- ::ffff:a.b.c.d, like the ranges), then the most specific range holding
-- it (ties: the class listed first in rules.IPClasses). An address that is
-- not a well-formed IPv4 or IPv6 literal has no number and no class.
CREATE OR REPLACE TEMP TABLE rl_ip_match AS
WITH ips AS (SELECT ip FROM rl_new_ip WHERE length(ip) <= 45),
v4s AS (
    SELECT ip, CASE WHEN starts_with(lower(ip), '::ffff:') THEN substr(ip, 8) ELSE ip END AS s
    FROM ips WHERE contains(ip, '.')
),
v4 AS (
    SELECT ip, TRY_CAST(string_split(s, '.') AS UINTEGER[]) AS o
    FROM v4s WHERE regexp_full_match(s, '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}')
),
v4n AS (
    SELECT ip, 281470681743360::UHUGEINT + (o[1]::UHUGEINT << 24) + (o[2]::UHUGEINT << 16) + (o[3]::UHUGEINT << 8) + o[4]::UHUGEINT AS v
    FROM v4 WHERE o[1] <= 255 AND o[2] <= 255 AND o[3] <= 255 AND o[4] <= 255
),
v6p AS (
    SELECT ip, string_split(lower(ip), '::') AS parts
    FROM ips WHERE contains(ip, ':') AND NOT contains(ip, '.') AND NOT contains(ip, '%')
),
v6h AS (
    SELECT ip, len(parts) AS np,
           CASE WHEN parts[1] = '' THEN []::VARCHAR[] ELSE string_split(parts[1], ':') END AS head,
           CASE WHEN len(parts) < 2 OR parts[2] = '' THEN []::VARCHAR[] ELSE string_split(parts[2], ':') END AS tail
    FROM v6p WHERE len(parts) <= 2
),
v6g AS (
    SELECT ip,
           CASE WHEN np = 1 THEN head
                ELSE head || list_transform(range(8 - len(head) - len(tail)), x -> '0') || tail END AS g,
           np, len(head) + len(tail) AS written
    FROM v6h
),
v6n AS (
    SELECT ip, list_reduce(
               list_transform(g, x -> list_reduce(list_transform(string_split(x, ''), ch -> (instr('0123456789abcdef', ch) - 1)::UHUGEINT), (a, b) -> a * 16 + b)),
               (a, b) -> (a << 16) | b) AS v
    FROM v6g
    WHERE len(g) = 8 AND (np = 1 OR written <= 7)
      AND list_bool_and(list_transform(g, x -> regexp_full_match(x, '[0-9a-f]{1,4}')))
),
n AS (SELECT ip, v FROM v4n UNION ALL SELECT ip, v FROM v6n)
SELECT n.ip, arg_min(r.lid, (r.hi - r.lo, r.rank, r.lid)) AS lid,
       arg_min(r.entry, (r.hi - r.lo, r.rank, r.lid)) AS entry
FROM n JOIN rl_ranges r ON n.v >= r.lo AND n.v <= r.hi
GROUP BY n.ip;

-- name: RememberAddresses
INSERT INTO reflist_ip
SELECT n.ip, m.lid, m.entry FROM rl_new_ip n LEFT JOIN rl_ip_match m ON m.ip = n.ip;

-- name: TouchedClickDays
-- The days whose stored rows the new files may have changed: the days of
-- their rows, and the night being loaded (its rows of other files were
-- replaced). Rows without a timestamp are relabelled every time.
-- $1 the night (NULL for a backfill)
CREATE OR REPLACE TEMP TABLE rl_click_days AS
SELECT DISTINCT CAST(ts AS DATE) AS d FROM clicks
WHERE _file_id IN (SELECT file_id FROM rl_new_files WHERE dataset = 'clicks') AND ts IS NOT NULL
UNION SELECT CAST($1 AS DATE) WHERE $1 IS NOT NULL;

-- name: TouchedOrderDays
CREATE OR REPLACE TEMP TABLE rl_order_days AS
SELECT DISTINCT CAST(ts AS DATE) AS d FROM orders
WHERE _file_id IN (SELECT file_id FROM rl_new_files WHERE dataset = 'orders') AND ts IS NOT NULL
UNION SELECT CAST($1 AS DATE) WHERE $1 IS NOT NULL;

-- name: ClearTouchedClicks
DELETE FROM click_traffic WHERE ts IS NULL OR CAST(ts AS DATE) IN (SELECT d FROM rl_click_days);

-- name: ClearTouchedOrders
DELETE FROM order_ip_class WHERE ts IS NULL OR CAST(ts AS DATE) IN (SELECT d FROM rl_order_days);

-- name: LabelClicks
-- A click a list matched: the first pattern (by precedence) its user agent
-- matches, the range its address falls in.
INSERT INTO click_traffic
SELECT c.click_id, c.publisher_id, c.ts,
       p.list IS NOT NULL OR coalesce(rl.class = 'datacenter', false) AS givt,
       p.list, p.version, p.entry,
       rl.class, rl.name, rl.version, m.entry
FROM clicks c
LEFT JOIN reflist_ua ua ON ua.ua = c.user_agent AND ua.idx IS NOT NULL
LEFT JOIN reflist_patterns p ON p.idx = ua.idx
LEFT JOIN reflist_ip m ON m.ip = c.ip AND m.lid IS NOT NULL
LEFT JOIN reflist_lists rl ON rl.lid = m.lid
WHERE (ua.ua IS NOT NULL OR m.ip IS NOT NULL)
  AND (c.ts IS NULL OR CAST(c.ts AS DATE) IN (SELECT d FROM rl_click_days));

-- name: LabelOrders
INSERT INTO order_ip_class
SELECT o.order_id, o.publisher_id, rl.class, rl.name, rl.version, m.entry, o.ts
FROM orders o
JOIN reflist_ip m ON m.ip = o.buyer_ip AND m.lid IS NOT NULL
JOIN reflist_lists rl ON rl.lid = m.lid
WHERE o.ts IS NULL OR CAST(o.ts AS DATE) IN (SELECT d FROM rl_order_days);

-- name: RememberFiles
INSERT INTO reflist_files SELECT file_id FROM rl_new_files;

-- name: MatchedByPatternList
-- Clicks each user-agent list matched (its name as the Go side wrote it).
SELECT ua_list, count(*) FROM click_traffic WHERE ua_list IS NOT NULL GROUP BY 1;

-- name: MatchedByRangeList
SELECT name, sum(n)::BIGINT FROM (
    SELECT ip_list AS name, count(*) AS n FROM click_traffic WHERE ip_list IS NOT NULL GROUP BY 1
    UNION ALL
    SELECT ip_list, count(*) FROM order_ip_class GROUP BY 1)
GROUP BY 1;
