-- Responder decisions (package respond): which network each blocking target
-- blocks, until when and why. One row per (target, prefix). lo and hi are the
-- first and last address of the prefix as 32 hex digits (IPv4 as ::ffff:a.b.c.d),
-- so that "which decisions cover this address" and address order are plain
-- text comparisons on an index (COLLATE "C": byte order, whatever the locale).
CREATE TABLE decisions (
    target       text COLLATE "C" NOT NULL,
    prefix       text COLLATE "C" NOT NULL,
    lo           text COLLATE "C" NOT NULL,
    hi           text COLLATE "C" NOT NULL,
    bits         integer          NOT NULL,
    origin       text             NOT NULL,
    reason       text             NOT NULL,
    finding_id   text             NOT NULL,
    finding_type text             NOT NULL,
    severity     double precision NOT NULL,
    created_at   bigint           NOT NULL,
    updated_at   bigint           NOT NULL,
    expires_at   bigint           NOT NULL,
    hits         bigint           NOT NULL,
    PRIMARY KEY (target, prefix)
);

-- The expiry loop's query and the "oldest first" eviction.
CREATE INDEX decisions_expires ON decisions (expires_at);
-- Listings in address order, per target.
CREATE INDEX decisions_order ON decisions (target, lo, bits);

-- The audit trail: every decision added, extended, removed, expired, evicted,
-- and what dry runs would have done. Append-only; trimmed by age.
CREATE TABLE decision_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           bigint           NOT NULL,
    action       text             NOT NULL,
    target       text COLLATE "C" NOT NULL,
    prefix       text COLLATE "C" NOT NULL,
    lo           text COLLATE "C" NOT NULL,
    hi           text COLLATE "C" NOT NULL,
    origin       text             NOT NULL,
    reason       text             NOT NULL,
    finding_id   text             NOT NULL,
    finding_type text             NOT NULL,
    severity     double precision NOT NULL,
    expires_at   bigint           NOT NULL
);

CREATE INDEX decision_audit_at ON decision_audit (at);
