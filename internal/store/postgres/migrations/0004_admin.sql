-- What users configure through the API (store.Admin): saved filters and
-- suppression rules, trusted and threat lists with their content, API tokens
-- (the SHA-256 of their secret, never the secret), and the audit log of every
-- change to them. JSON values (criteria, tags, audit before/after) are text,
-- the bytes vigil wrote. Times are epoch milliseconds; 0 means "never". Text
-- columns use the C collation, as the findings do: byte order, as in SQLite.
CREATE TABLE filters (
    name        text COLLATE "C" NOT NULL PRIMARY KEY,
    description text    NOT NULL,
    action      text    NOT NULL CHECK (action IN ('NOOP', 'ARCHIVE')),
    filter_rank integer NOT NULL,
    criteria    text    NOT NULL,
    expression  text    NOT NULL,
    tags        text    NOT NULL,
    created_at  bigint  NOT NULL,
    updated_at  bigint  NOT NULL,
    version     bigint  NOT NULL
);

CREATE TABLE intel_lists (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    kind       text    NOT NULL CHECK (kind IN ('TRUSTED', 'THREAT')),
    name       text COLLATE "C" NOT NULL UNIQUE,
    format     text    NOT NULL,
    location   text    NOT NULL,
    status     text    NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    tags       text    NOT NULL,
    entries    integer NOT NULL,
    size       bigint  NOT NULL,
    sha256     text    NOT NULL,
    content    bytea   NOT NULL,
    created_at bigint  NOT NULL,
    updated_at bigint  NOT NULL,
    version    bigint  NOT NULL
);

CREATE TABLE api_tokens (
    id           text COLLATE "C" NOT NULL PRIMARY KEY,
    name         text COLLATE "C" NOT NULL UNIQUE,
    scope        text   NOT NULL CHECK (scope IN ('read', 'admin')),
    hash         bytea  NOT NULL UNIQUE,
    created_at   bigint NOT NULL,
    expires_at   bigint NOT NULL,
    last_used_at bigint NOT NULL,
    revoked_at   bigint NOT NULL
);

-- The audit log: append-only, newest read first.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            bigint  NOT NULL,
    actor         text    NOT NULL,
    token_id      text    NOT NULL,
    address       text    NOT NULL,
    user_agent    text    NOT NULL,
    action        text    NOT NULL,
    resource_type text COLLATE "C" NOT NULL,
    resource_id   text COLLATE "C" NOT NULL,
    before_json   text    NOT NULL,
    after_json    text    NOT NULL,
    blinding      boolean NOT NULL
);
CREATE INDEX audit_resource ON audit_log (resource_type, resource_id, id);
