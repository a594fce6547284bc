-- Findings: one row per finding ID. body is the GuardDuty JSON (text, not jsonb:
-- the bytes vigil wrote, and jsonb rejects \u0000, which a hostile log can put in
-- a finding); the other columns are copies of the attributes that criteria filter
-- on and lists sort by, except archived, user_feedback and feedback_comments, which
-- the user sets and which win over the body's copies. Times are epoch
-- milliseconds. Text columns use the C collation: byte order, the same as SQLite
-- and Go, so sorts and page tokens agree across stores, and comparisons are cheap.
CREATE TABLE findings (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    account_id        text COLLATE "C" NOT NULL,
    region            text COLLATE "C" NOT NULL,
    type              text COLLATE "C" NOT NULL,
    severity          double precision NOT NULL,
    resource_type     text COLLATE "C" NOT NULL,
    resource_id       text COLLATE "C" NOT NULL,
    instance_id       text COLLATE "C" NOT NULL,
    access_key_id     text COLLATE "C" NOT NULL,
    action_type       text COLLATE "C" NOT NULL,
    resource_role     text COLLATE "C" NOT NULL,
    remote_ipv4       text COLLATE "C" NOT NULL,
    api_remote_ipv4   text COLLATE "C" NOT NULL,
    dns_domain        text COLLATE "C" NOT NULL,
    archived          boolean NOT NULL,
    user_feedback     text COLLATE "C" NOT NULL,
    feedback_comments text NOT NULL DEFAULT '',
    count             bigint NOT NULL CHECK (count >= 1),
    created_at        bigint NOT NULL,
    updated_at        bigint NOT NULL,
    event_first_seen  bigint NOT NULL,
    event_last_seen   bigint NOT NULL,
    rev               bigint NOT NULL,
    body              text NOT NULL
);

-- ListFindings: a filter on the leading column, newest first, keyset pages on
-- (updated_at, id), with archived (and severity) included so that the common
-- "service.archived = false" (and severity) filters are answered by index-only
-- scans. See the store package documentation.
CREATE INDEX findings_updated   ON findings (updated_at, id) INCLUDE (archived, severity);
CREATE INDEX findings_type      ON findings (type, updated_at, id) INCLUDE (archived, severity);
CREATE INDEX findings_instance  ON findings (instance_id, updated_at, id) INCLUDE (archived);
CREATE INDEX findings_remote_ip ON findings (remote_ipv4, updated_at, id) INCLUDE (archived);
CREATE INDEX findings_severity  ON findings (severity, id);
