-- Checkpoints: how far each input source has been read, written in the same
-- transaction as the findings that reading produced.
CREATE TABLE checkpoints (
    source     TEXT    NOT NULL PRIMARY KEY,
    position   BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Small settings of the store itself, such as the page token signing key.
CREATE TABLE store_meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
