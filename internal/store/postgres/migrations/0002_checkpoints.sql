-- Checkpoints: how far each input source has been read, written in the same
-- transaction as the findings that reading produced. The row lock of a source's
-- checkpoint serialises the writers of that source.
CREATE TABLE checkpoints (
    source     text COLLATE "C" NOT NULL PRIMARY KEY,
    position   bytea NOT NULL,
    updated_at bigint NOT NULL
);

-- Small settings of the store itself, such as the page token signing key.
CREATE TABLE store_meta (
    key   text COLLATE "C" NOT NULL PRIMARY KEY,
    value bytea NOT NULL
);
