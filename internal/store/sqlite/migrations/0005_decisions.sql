-- Responder decisions (package respond): which network each blocking target
-- blocks, until when and why. One row per (target, prefix). lo and hi are the
-- first and last address of the prefix as 32 hex digits (IPv4 as ::ffff:a.b.c.d),
-- so that "which decisions cover this address" and address order are plain
-- text comparisons on an index.
CREATE TABLE decisions (
    target       TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    lo           TEXT    NOT NULL,
    hi           TEXT    NOT NULL,
    bits         INTEGER NOT NULL,
    origin       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    finding_id   TEXT    NOT NULL,
    finding_type TEXT    NOT NULL,
    severity     REAL    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (target, prefix)
) STRICT;

-- The expiry loop's query and the "oldest first" eviction.
CREATE INDEX decisions_expires ON decisions (expires_at);
-- Listings in address order, per target.
CREATE INDEX decisions_order ON decisions (target, lo, bits);

-- The audit trail: every decision added, extended, removed, expired, evicted,
-- and what dry runs would have done. Append-only; trimmed by age.
CREATE TABLE decision_audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    action       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    lo           TEXT    NOT NULL,
    hi           TEXT    NOT NULL,
    origin       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    finding_id   TEXT    NOT NULL,
    finding_type TEXT    NOT NULL,
    severity     REAL    NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX decision_audit_at ON decision_audit (at);
