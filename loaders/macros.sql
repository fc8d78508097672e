-- Coercion macros of the input contract (DESIGN §3), created as TEMP macros
-- on the loading connection. Each returns NULL for a value it cannot coerce;
-- the loader quarantines a row whose raw value is present but coerces to NULL.

-- name: epoch_ms
-- Epoch milliseconds, accepted between 2000-01-01 and 2100-01-01: anything
-- outside is a unit mistake (seconds, microseconds), not a real hit.
CREATE OR REPLACE TEMP MACRO aw_epoch_ms(n) AS
    CASE WHEN n BETWEEN 946684800000 AND 4102444800000 THEN make_timestamp(n::BIGINT * 1000) END;

-- name: ts
-- RFC 3339 with a zone (Z or ±hh:mm), or epoch milliseconds, to UTC.
-- A time without a zone is refused: guessing the zone shifts hits across
-- midnight and into the wrong night. The 'Z' fast path skips the regex for
-- the common case; the connection's TimeZone is UTC.
-- The BIGINT cast also reads 1.5, 1e12, 1_000 and 0x1A2B: only digits are
-- epoch milliseconds. The cast refuses RFC 3339's lower-case t and z, and
-- would read a +24:00 or +99:99 zone, which no clock has (FuzzCoerce).
CREATE OR REPLACE TEMP MACRO aw_ts(v) AS
    CASE
        WHEN v IS NULL OR v = '' THEN NULL
        WHEN TRY_CAST(v AS BIGINT) IS NOT NULL
            THEN CASE WHEN regexp_full_match(v, '\s*[+-]?\d+\s*') THEN aw_epoch_ms(TRY_CAST(v AS BIGINT)) END
        WHEN right(v, 1) IN ('Z', 'z') AND substr(v, 11, 1) IN ('T', 't', ' ')
            THEN TRY_CAST(CASE WHEN contains(v, 't') OR contains(v, 'z') THEN upper(v) ELSE v END AS TIMESTAMPTZ)::TIMESTAMP
        WHEN regexp_full_match(v, '\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?\s*[+-]([01]\d|2[0-3])(:?[0-5]\d)?')
            THEN TRY_CAST(CASE WHEN contains(v, 't') THEN upper(v) ELSE v END AS TIMESTAMPTZ)::TIMESTAMP
    END;

-- name: bool
CREATE OR REPLACE TEMP MACRO aw_bool(v) AS
    CASE lower(trim(v))
        WHEN 'true' THEN true WHEN '1' THEN true
        WHEN 'false' THEN false WHEN '0' THEN false
    END;

-- name: list
CREATE OR REPLACE TEMP MACRO aw_list(v) AS
    CASE WHEN v IS NOT NULL THEN list_filter(list_transform(string_split(v, ';'), x -> trim(x)), x -> x <> '') END;
