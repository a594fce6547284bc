-- The notification outbox (internal/notify): what is still to be delivered, per
-- destination. An entry is written when a finding change calls for an alert and
-- deleted once the destination has it, so an alert survives a restart. At most
-- one entry waits per destination and finding: a later change of the same finding
-- folds into it (payload replaced, rev incremented), so a queue holds at most one
-- entry per finding however often the finding repeats. id gives the delivery
-- order; AUTOINCREMENT keeps ids increasing even after the newest row is deleted.
-- Times are epoch milliseconds.
CREATE TABLE outbox (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    destination TEXT    NOT NULL,
    finding_id  TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('new', 'update')),
    payload     BLOB    NOT NULL,
    rev         INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    last_error  TEXT    NOT NULL
) STRICT;

-- One waiting entry per destination and finding: the fold target.
CREATE UNIQUE INDEX outbox_finding ON outbox (destination, finding_id);
-- A destination's due entries, and its earliest due time.
CREATE INDEX outbox_due ON outbox (destination, due_at, id);

-- Entries given up on: after too many attempts, past their maximum age, or
-- refused by the destination for good. Kept with the last error for the user.
CREATE TABLE outbox_dead (
    id          INTEGER NOT NULL PRIMARY KEY,
    destination TEXT    NOT NULL,
    finding_id  TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    dead_at     INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    last_error  TEXT    NOT NULL
) STRICT;

CREATE INDEX outbox_dead_destination ON outbox_dead (destination, dead_at);
CREATE INDEX outbox_dead_time ON outbox_dead (dead_at);

-- Who delivers for a destination: one dispatcher at a time (several vigil
-- processes or nodes share a database), so that alerts of a destination go out
-- in order and once.
CREATE TABLE outbox_leases (
    destination TEXT    NOT NULL PRIMARY KEY,
    owner       TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
