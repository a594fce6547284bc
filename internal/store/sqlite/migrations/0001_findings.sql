-- Findings: one row per finding ID. body is the GuardDuty JSON; the other columns
-- are copies of the attributes that criteria filter on and lists sort by, except
-- archived, user_feedback and feedback_comments, which the user sets and which
-- win over the body's copies. Times are epoch milliseconds. STRICT: a value of the
-- wrong type is an error, not a silent conversion.
CREATE TABLE findings (
    id                TEXT    NOT NULL PRIMARY KEY,
    account_id        TEXT    NOT NULL,
    region            TEXT    NOT NULL,
    type              TEXT    NOT NULL,
    severity          REAL    NOT NULL,
    resource_type     TEXT    NOT NULL,
    resource_id       TEXT    NOT NULL,
    instance_id       TEXT    NOT NULL,
    access_key_id     TEXT    NOT NULL,
    action_type       TEXT    NOT NULL,
    resource_role     TEXT    NOT NULL,
    remote_ipv4       TEXT    NOT NULL,
    api_remote_ipv4   TEXT    NOT NULL,
    dns_domain        TEXT    NOT NULL,
    archived          INTEGER NOT NULL CHECK (archived IN (0, 1)),
    user_feedback     TEXT    NOT NULL,
    feedback_comments TEXT    NOT NULL DEFAULT '',
    count             INTEGER NOT NULL CHECK (count >= 1),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    event_first_seen  INTEGER NOT NULL,
    event_last_seen   INTEGER NOT NULL,
    rev               INTEGER NOT NULL,
    body              TEXT    NOT NULL
) STRICT;

-- ListFindings: a filter on the leading column, newest first, keyset pages on
-- (updated_at, id), with archived (and severity) carried along so that the
-- common "service.archived = false" (and severity) filters are answered from
-- the index alone. Only severity is sorted on without updated_at: a repeat moves
-- updated_at, and every index holding it is rewritten on every repeat. See the
-- store package documentation.
CREATE INDEX findings_updated   ON findings (updated_at, id, archived, severity);
CREATE INDEX findings_type      ON findings (type, updated_at, id, archived, severity);
CREATE INDEX findings_instance  ON findings (instance_id, updated_at, id, archived);
CREATE INDEX findings_remote_ip ON findings (remote_ipv4, updated_at, id, archived);
CREATE INDEX findings_severity  ON findings (severity, id);
