-- What users configure through the API (store.Admin): saved filters and
-- suppression rules, trusted and threat lists with their content, API tokens
-- (the SHA-256 of their secret, never the secret), and the audit log of every
-- change to them. JSON values (criteria, tags, audit before/after) are text.
-- Times are epoch milliseconds; 0 means "never".
CREATE TABLE filters (
    name        TEXT    NOT NULL PRIMARY KEY,
    description TEXT    NOT NULL,
    action      TEXT    NOT NULL CHECK (action IN ('NOOP', 'ARCHIVE')),
    filter_rank INTEGER NOT NULL,
    criteria    TEXT    NOT NULL,
    expression  TEXT    NOT NULL,
    tags        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL
) STRICT;

CREATE TABLE intel_lists (
    id         TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('TRUSTED', 'THREAT')),
    name       TEXT    NOT NULL UNIQUE,
    format     TEXT    NOT NULL,
    location   TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    tags       TEXT    NOT NULL,
    entries    INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT    NOT NULL,
    content    BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
) STRICT;

CREATE TABLE api_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'admin')),
    hash         BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL
) STRICT;

-- The audit log: append-only, newest read first.
CREATE TABLE audit_log (
    id            INTEGER NOT NULL PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    token_id      TEXT    NOT NULL,
    address       TEXT    NOT NULL,
    user_agent    TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    resource_id   TEXT    NOT NULL,
    before_json   TEXT    NOT NULL,
    after_json    TEXT    NOT NULL,
    blinding      INTEGER NOT NULL CHECK (blinding IN (0, 1))
) STRICT;
CREATE INDEX audit_resource ON audit_log (resource_type, resource_id, id);
