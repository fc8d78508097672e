-- 005_render (issue 17; numbered 006 once 005_ledger_cases is merged): what
-- headless Chromium saw on publisher pages. One render_visits row per site
-- × profile (honest: affwatch's user agent, robots.txt respected; shopper:
-- a desktop browser arriving from a search engine) in a run; every other
-- render_* table hangs off its render_id. detectors/pagecode judges them
-- through render_page_code. Rendered text and URLs are attacker-controlled:
-- stored as data, never interpreted.

CREATE TABLE render_visits (
    render_id    VARCHAR PRIMARY KEY,   -- run_id/NNNNNN/profile
    run_id       VARCHAR NOT NULL,
    publisher_id VARCHAR NOT NULL,
    site_url     VARCHAR NOT NULL,      -- as in the sites dataset
    profile      VARCHAR NOT NULL,      -- honest, shopper
    user_agent   VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,      -- ok, robots_disallowed, error, crashed
    error        VARCHAR,
    pages        BIGINT NOT NULL,
    dialogs      BIGINT NOT NULL,       -- alert/confirm/prompt calls answered without showing
    browser      VARCHAR,               -- Chromium version
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL
);

CREATE TABLE render_pages (
    render_id    VARCHAR NOT NULL,
    page_no      BIGINT NOT NULL,      -- 0: the site URL; 1..: same-site pages linked from it
    url          VARCHAR NOT NULL,
    final_url    VARCHAR,              -- the document at the snapshot
    title        VARCHAR,
    visible_text VARCHAR,              -- document.body.innerText, capped
    dom_nodes    BIGINT,
    error        VARCHAR,
    elapsed_ms   BIGINT NOT NULL
);

-- Every request the browser made or tried; blocked ones (affiliate hosts,
-- the brand's own domains) were refused by affwatch's proxy, never sent.
CREATE TABLE render_requests (
    render_id        VARCHAR NOT NULL,
    page_no          BIGINT NOT NULL,
    url              VARCHAR NOT NULL,
    first_url        VARCHAR,          -- the URL the request started as (redirect chains)
    host             VARCHAR,
    resource_type    VARCHAR,          -- Document, Image, Script, XHR, Fetch, …
    main_frame       BOOLEAN NOT NULL,
    initiator_type   VARCHAR,          -- parser, script, other, …
    initiator_url    VARCHAR,          -- the script or document that asked
    user_gesture     BOOLEAN NOT NULL,
    redirect_from    VARCHAR,          -- a 3xx brought the browser here
    blocked          BOOLEAN NOT NULL,
    phase            VARCHAR NOT NULL, -- load, timer, click
    frame_visibility VARCHAR           -- of the frame or image that asked: visible, a hidden reason, not_in_document
);

-- Navigations the page asked for (Chromium's reason).
CREATE TABLE render_navigations (
    render_id  VARCHAR NOT NULL,
    page_no    BIGINT NOT NULL,
    main_frame BOOLEAN NOT NULL,
    url        VARCHAR NOT NULL,
    reason     VARCHAR NOT NULL,       -- scriptInitiated, metaTagRefresh, httpHeaderRefresh, anchorClick, …
    phase      VARCHAR NOT NULL
);

-- window.open attempts; none was allowed to open.
CREATE TABLE render_opens (
    render_id    VARCHAR NOT NULL,
    page_no      BIGINT NOT NULL,
    document_url VARCHAR,
    url          VARCHAR NOT NULL,
    user_gesture BOOLEAN NOT NULL,
    from_timer   BOOLEAN NOT NULL,
    phase        VARCHAR NOT NULL,     -- load, timer, click (after the synthetic click on an empty spot)
    source       VARCHAR NOT NULL      -- script (instrumentation) or browser
);

-- Frames, images, embeds and objects with their computed visibility.
CREATE TABLE render_elements (
    render_id    VARCHAR NOT NULL,
    page_no      BIGINT NOT NULL,
    document_url VARCHAR,
    tag          VARCHAR NOT NULL,
    src          VARCHAR NOT NULL,
    hidden       VARCHAR,              -- NULL: visible; display_none, visibility_hidden, opacity, offscreen, size_WxH, clipped_by_ancestor, clip_path
    hidden_by    VARCHAR,              -- self, or the ancestor that hides it
    width        DOUBLE,
    height       DOUBLE,
    x            DOUBLE,
    y            DOUBLE,
    opacity      DOUBLE,
    z_index      VARCHAR,
    classes      VARCHAR,
    snippet      VARCHAR
);

CREATE TABLE render_assets (
    render_id    VARCHAR NOT NULL,
    role         VARCHAR NOT NULL,     -- icon, logo
    url          VARCHAR NOT NULL,
    content_type VARCHAR,
    size_bytes   BIGINT,
    bytes        BLOB,
    error        VARCHAR
);

CREATE TABLE render_screenshots (
    render_id VARCHAR NOT NULL,
    png       BLOB NOT NULL             -- first viewport of page 0, scaled, capped
);

CREATE TABLE render_events (
    render_id VARCHAR NOT NULL,
    event_at  TIMESTAMP NOT NULL,
    stage     VARCHAR NOT NULL,         -- proxy, page, limit
    kind      VARCHAR NOT NULL,         -- blocked, refused, dns_error, download, limit, error
    url       VARCHAR,
    address   VARCHAR,
    detail    VARCHAR
);

-- The newest completed render of each site in each profile.
CREATE VIEW render_latest_ok AS
SELECT * FROM render_visits
WHERE status = 'ok'
QUALIFY row_number() OVER (PARTITION BY publisher_id, site_url, profile ORDER BY finished_at DESC, render_id DESC) = 1;

-- Rendered page-code candidates in the shape of crawl_page_code, for
-- detectors/pagecode:
--   hidden_frame / hidden_image: an element the browser computed as
--     hidden whose URL is on a blocked host, or a frame or image request
--     to a blocked host with no element left carrying it;
--   redirect_*: the main frame sent to a blocked host without a gesture
--     (an HTTP redirect counts on page 0 only: a linked /go/ redirector
--     is what a visitor clicks);
--   window_open: window.open without a gesture (load, timer) or on the
--     synthetic click on an empty spot (body_click).
CREATE VIEW render_page_code AS
SELECT v.render_id, v.publisher_id, v.site_url, v.profile, v.started_at, v.finished_at,
       e.page_no, coalesce(e.document_url, '') AS document_url,
       CASE WHEN e.tag IN ('iframe', 'frame', 'embed', 'object') THEN 'hidden_frame' ELSE 'hidden_image' END AS kind,
       'rendered' AS trigger,
       e.hidden || CASE WHEN e.hidden_by IS NOT NULL AND e.hidden_by <> 'self' THEN ' by ' || e.hidden_by ELSE '' END AS hidden,
       e.src AS target_url,
       coalesce(e.snippet, '') AS snippet
FROM render_latest_ok v
JOIN render_elements e ON e.render_id = v.render_id
WHERE e.hidden IS NOT NULL
UNION ALL
SELECT v.render_id, v.publisher_id, v.site_url, v.profile, v.started_at, v.finished_at,
       q.page_no, '', CASE WHEN q.resource_type = 'Image' THEN 'hidden_image' ELSE 'hidden_frame' END,
       'rendered', 'not_in_document', q.url,
       q.resource_type || ' request by ' || coalesce(q.initiator_type, '?') || ' ' || coalesce(q.initiator_url, '') || ' → ' || q.url
FROM render_latest_ok v
JOIN render_requests q ON q.render_id = v.render_id
WHERE q.blocked AND NOT q.main_frame AND NOT q.user_gesture
  AND q.resource_type IN ('Document', 'Image') AND q.frame_visibility = 'not_in_document'
UNION ALL
SELECT v.render_id, v.publisher_id, v.site_url, v.profile, v.started_at, v.finished_at,
       n.page_no, '', CASE WHEN n.reason IN ('metaTagRefresh', 'httpHeaderRefresh') THEN 'redirect_meta_refresh' ELSE 'redirect_script_redirect' END,
       'rendered_' || n.phase, '', n.url, n.reason || ' navigation of the page to ' || n.url
FROM render_latest_ok v
JOIN render_navigations n ON n.render_id = v.render_id
WHERE n.main_frame AND n.reason IN ('scriptInitiated', 'metaTagRefresh', 'httpHeaderRefresh') AND n.phase <> 'click'
UNION ALL
SELECT v.render_id, v.publisher_id, v.site_url, v.profile, v.started_at, v.finished_at,
       q.page_no, q.redirect_from, 'redirect_http', 'rendered', '', q.url, 'HTTP redirect ' || q.redirect_from || ' → ' || q.url
FROM render_latest_ok v
JOIN render_requests q ON q.render_id = v.render_id
WHERE q.main_frame AND q.redirect_from IS NOT NULL AND q.page_no = 0 AND NOT q.user_gesture AND q.phase <> 'click'
UNION ALL
SELECT v.render_id, v.publisher_id, v.site_url, v.profile, v.started_at, v.finished_at,
       o.page_no, coalesce(o.document_url, ''), 'window_open',
       CASE WHEN o.user_gesture AND o.phase = 'click' THEN 'body_click' WHEN o.from_timer THEN 'timer' ELSE 'load' END,
       '', o.url, 'window.open(' || o.url || ')' || CASE WHEN o.user_gesture THEN ' on the synthetic click on an empty spot' WHEN o.from_timer THEN ' from a timer' ELSE ' without a gesture' END
FROM render_latest_ok v
JOIN render_opens o ON o.render_id = v.render_id
WHERE o.source = 'script' AND (NOT o.user_gesture OR o.phase = 'click');
