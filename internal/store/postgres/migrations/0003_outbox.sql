-- The notification outbox (internal/notify): what is still to be delivered, per
-- destination. An entry is written when a finding change calls for an alert and
-- deleted once the destination has it, so an alert survives a restart. At most
-- one entry waits per destination and finding: a later change of the same finding
-- folds into it (payload replaced, rev incremented), so a queue holds at most one
-- entry per finding however often the finding repeats. id gives the delivery
-- order. Times are epoch milliseconds.
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination text COLLATE "C" NOT NULL,
    finding_id  text COLLATE "C" NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('new', 'update')),
    payload     bytea NOT NULL,
    rev         bigint NOT NULL,
    created_at  bigint NOT NULL,
    due_at      bigint NOT NULL,
    attempts    integer NOT NULL,
    last_error  text NOT NULL
);

-- One waiting entry per destination and finding: the fold target.
CREATE UNIQUE INDEX outbox_finding ON outbox (destination, finding_id);
-- A destination's due entries, and its earliest due time.
CREATE INDEX outbox_due ON outbox (destination, due_at, id);

-- Entries given up on: after too many attempts, past their maximum age, or
-- refused by the destination for good. Kept with the last error for the user.
CREATE TABLE outbox_dead (
    id          bigint NOT NULL PRIMARY KEY,
    destination text COLLATE "C" NOT NULL,
    finding_id  text COLLATE "C" NOT NULL,
    kind        text NOT NULL,
    payload     bytea NOT NULL,
    created_at  bigint NOT NULL,
    dead_at     bigint NOT NULL,
    attempts    integer NOT NULL,
    last_error  text NOT NULL
);

CREATE INDEX outbox_dead_destination ON outbox_dead (destination, dead_at);
CREATE INDEX outbox_dead_time ON outbox_dead (dead_at);

-- Who delivers for a destination: one dispatcher at a time (several vigil
-- nodes share the database), so that alerts of a destination go out in order
-- and once.
CREATE TABLE outbox_leases (
    destination text COLLATE "C" NOT NULL PRIMARY KEY,
    owner       text NOT NULL,
    expires_at  bigint NOT NULL
);
