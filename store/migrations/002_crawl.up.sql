-- 002_crawl: web evidence from the crawler (issue 5). One crawl_sites row per
-- visit of a site of the sites dataset (publisher_id, url) in a run; every
-- other crawl_* table hangs off its crawl_id. Nothing here is judged: the
-- detectors (detectors/pagecode and later ones) read these tables.
-- Crawled text is attacker-controlled: stored as data, never interpreted.

CREATE TABLE crawl_sites (
    crawl_id           VARCHAR PRIMARY KEY,   -- run_id/NNNNNN
    run_id             VARCHAR NOT NULL,
    publisher_id       VARCHAR NOT NULL,
    site_url           VARCHAR NOT NULL,      -- as in the sites dataset
    host               VARCHAR,
    registrable_domain VARCHAR,
    status             VARCHAR NOT NULL,      -- ok, invalid_url, dns_error, refused, robots_disallowed, fetch_error
    error              VARCHAR,
    forced             BOOLEAN NOT NULL,      -- fetched within the recrawl TTL because --force-crawl said so
    pages              BIGINT NOT NULL,
    assets             BIGINT NOT NULL,
    started_at         TIMESTAMP NOT NULL,
    finished_at        TIMESTAMP NOT NULL
);

-- One row per answer record; a question without records (NXDOMAIN,
-- SERVFAIL, timeout, empty NOERROR) is one row with answer_* NULL.
CREATE TABLE crawl_dns (
    crawl_id      VARCHAR NOT NULL,
    question_name VARCHAR NOT NULL,
    question_type VARCHAR NOT NULL,   -- A, AAAA, NS, MX, TXT
    rcode         VARCHAR,            -- NULL when no reply came (see error)
    error         VARCHAR,
    server        VARCHAR,
    answer_name   VARCHAR,
    answer_type   VARCHAR,            -- may be CNAME for an A question
    ttl           BIGINT,
    value         VARCHAR
);

CREATE TABLE crawl_pages (
    crawl_id         VARCHAR NOT NULL,
    page_no          BIGINT NOT NULL,  -- 0: the site URL; 1..: same-site pages linked from it
    requested_url    VARCHAR NOT NULL,
    final_url        VARCHAR,
    http_status      BIGINT,           -- NULL: no response (see error)
    content_type     VARCHAR,
    remote_addr      VARCHAR,          -- the checked address the page came from
    body_bytes       BIGINT,
    truncated        VARCHAR,          -- why the body was cut: size cap, decompression bomb, timeout
    content_sha256   VARCHAR,
    title            VARCHAR,
    meta_description VARCHAR,
    meta_keywords    VARCHAR,
    visible_text     VARCHAR,
    links            JSON,             -- array of absolute URLs
    headers          JSON,             -- the response headers that matter
    html             BLOB,             -- the HTML, up to the crawler's storage cap (bytes as served)
    error            VARCHAR,
    fetched_at       TIMESTAMP NOT NULL,
    elapsed_ms       BIGINT NOT NULL
);

-- The whole redirect chain of a page: HTTP 3xx, meta refresh and script redirects.
CREATE TABLE crawl_redirects (
    crawl_id    VARCHAR NOT NULL,
    page_no     BIGINT NOT NULL,
    hop         BIGINT NOT NULL,
    kind        VARCHAR NOT NULL,     -- http, meta_refresh, script_redirect
    from_url    VARCHAR NOT NULL,
    to_url      VARCHAR NOT NULL,
    http_status BIGINT,
    followed    BOOLEAN NOT NULL,
    note        VARCHAR               -- why the chain stopped here
);

-- Favicons, header logos and og:image. Dimensions come from the header
-- before any decode; bytes are kept under a size cap for logo comparison.
CREATE TABLE crawl_assets (
    crawl_id     VARCHAR NOT NULL,
    role         VARCHAR NOT NULL,    -- icon, apple_touch_icon, favicon_ico, logo, og_image
    url          VARCHAR NOT NULL,
    http_status  BIGINT,
    content_type VARCHAR,
    size_bytes   BIGINT,
    sha256       VARCHAR,
    format       VARCHAR,
    width        BIGINT,
    height       BIGINT,
    ahash        VARCHAR,             -- 64-bit average hash, hex
    problem      VARCHAR,             -- not decoded: over the pixel cap, corrupt, unknown format
    bytes        BLOB,
    error        VARCHAR
);

-- Generic page-code candidates; detectors/pagecode decides which are
-- affiliate links or ad networks (the lists live in the rule pack).
CREATE TABLE crawl_page_code (
    crawl_id     VARCHAR NOT NULL,
    page_no      BIGINT NOT NULL,
    document_url VARCHAR NOT NULL,    -- the document it was found in (redirect chains included)
    kind         VARCHAR NOT NULL,    -- hidden_frame, hidden_image, meta_refresh, script_redirect, window_open, script_src, forced_download, registration_wall
    trigger      VARCHAR,             -- window_open: load, body_click, click, timer, inline
    hidden       VARCHAR,             -- display_none, visibility_hidden, size_WxH, offscreen, …
    target_url   VARCHAR,
    target_host  VARCHAR,
    snippet      VARCHAR NOT NULL     -- the offending HTML, truncated
);

-- Refusals, errors and limits hit: evidence that the crawl went on without.
CREATE TABLE crawl_events (
    crawl_id VARCHAR NOT NULL,
    event_at TIMESTAMP NOT NULL,
    stage    VARCHAR NOT NULL,        -- dns, dial, tls, http, body, parse, robots, asset, limit
    kind     VARCHAR NOT NULL,        -- refused, error, limit
    url      VARCHAR,
    address  VARCHAR,
    detail   VARCHAR NOT NULL
);

-- The newest visit of each site (whatever came of it).
CREATE VIEW crawl_latest AS
SELECT * FROM crawl_sites
QUALIFY row_number() OVER (PARTITION BY publisher_id, site_url ORDER BY finished_at DESC, crawl_id DESC) = 1;

-- The newest visit of each site that got its pages: what page-code
-- detectors judge. A site taken down for the night (or answering our
-- crawler with an error) does not erase what its last good visit showed.
CREATE VIEW crawl_latest_ok AS
SELECT * FROM crawl_sites
WHERE status = 'ok'
QUALIFY row_number() OVER (PARTITION BY publisher_id, site_url ORDER BY finished_at DESC, crawl_id DESC) = 1;
