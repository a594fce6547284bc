// Package sqlite is the embedded findings store: store.Store on a SQLite file, with
// the pure-Go modernc.org/sqlite driver so that vigil still builds with
// CGO_ENABLED=0 into one static binary.
//
// The database runs in WAL mode, so readers never block the writer nor the writer
// readers. A Store has one writer connection, which serialises the writes of the
// process (SQLite admits one writer at a time anyway, and a single connection
// turns lock waits into a cheap queue in Go), and a pool of reader connections
// opened query-only. Write transactions begin IMMEDIATE: they take the database's
// write lock before reading the findings they merge into, so a second process on
// the same file waits (up to BusyTimeout) instead of merging into a stale copy.
// synchronous=NORMAL in WAL mode loses no committed transaction when the process
// dies; a power cut can lose the last ones, never corrupt the file. Set
// Synchronous to FULL when that matters more than write speed.
//
// An upsert writes a batch in one transaction. A finding the store wrote
// recently is merged into its cached copy (sqlstore.Cache) without reading its
// row: the UPDATE names the row by rowid and the revision the copy was written
// at, and a row that changed since (another process, the user's archive or
// feedback — which give the row a new revision too —, retention) is read and
// merged again within the transaction. A repeat that changes only the
// occurrence columns writes only those (sqlstore.RepeatColumns). The batch is
// merged and JSON-encoded on the other cores while the writer writes the rows
// already encoded (sqlstore.Pipeline). See docs/benchmarks.md, "Findings
// store", for what each costs.
//
// Schema changes are numbered SQL files in migrations/, applied at Open in one
// transaction; see package store for the tables and indexes.
package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Config configures the SQLite store.
type Config struct {
	// Path is the database file; it is created when missing.
	Path string `yaml:"path"`
	// Readers is the number of reader connections; 0 means max(4, GOMAXPROCS).
	Readers int `yaml:"readers"`
	// BusyTimeout is how long a write waits for another process holding the
	// write lock before it fails with "database is locked".
	BusyTimeout time.Duration `yaml:"busy_timeout"`
	// Synchronous is SQLite's synchronous setting: NORMAL (the default; safe
	// against process crashes) or FULL (also against power loss, slower).
	Synchronous string `yaml:"synchronous"`
	// CacheBytes bounds the cache of recently written findings that spares a
	// repeat the decoding of the stored finding; 0 means 64 MiB, negative none.
	CacheBytes int64 `yaml:"cache_bytes"`
}

// DefaultConfig returns the defaults: vigil.db in the working directory, a
// 10-second busy timeout, synchronous NORMAL, a 64 MiB finding cache.
func DefaultConfig() Config {
	return Config{Path: "vigil.db", BusyTimeout: 10 * time.Second, Synchronous: "NORMAL", CacheBytes: 64 << 20}
}

// Store is the SQLite store. It implements store.Store.
type Store struct {
	w      *sql.DB // the writer: exactly one connection
	r      *sql.DB // readers, query_only
	tokens *sqlstore.Tokens
	cache  *sqlstore.Cache

	// Prepared on the writer: the insert of a new finding, the update of a
	// stored one by rowid and revision, and the update of a repeat likewise
	// (only sqlstore.RepeatColumns, so SQLite leaves the other indexes alone).
	insert, update, repeat *sql.Stmt

	// ckpt copies the WAL back into the database file in the background, so
	// that writers do not pay for it (see checkpoints).
	ckpt     *sql.DB
	stopCkpt chan struct{}
	ckptDone chan struct{}
}

// checkpointEvery is how often the background checkpointer runs.
const checkpointEvery = 200 * time.Millisecond

var _ store.Store = (*Store)(nil)

// idChunk bounds the IDs of one IN list (SQLite allows 32766 parameters).
const idChunk = 500

// Migrations returns the schema migrations, oldest first.
func Migrations() ([]sqlstore.Migration, error) {
	return sqlstore.LoadMigrations(migrationFiles, "migrations")
}

// Open opens (creating if needed) the database at cfg.Path and migrates it to the
// latest schema.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return open(ctx, cfg, -1)
}

// open opens the store with the schema at version target (-1: latest). Tests open
// older versions to test migrations.
func open(ctx context.Context, cfg Config, target int) (_ *Store, err error) {
	def := DefaultConfig()
	if cfg.Path == "" {
		return nil, fmt.Errorf("open sqlite store: %w: no path", store.ErrInvalid)
	}
	if cfg.BusyTimeout <= 0 {
		cfg.BusyTimeout = def.BusyTimeout
	}
	switch strings.ToUpper(cfg.Synchronous) {
	case "":
		cfg.Synchronous = def.Synchronous
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("open sqlite store %s: %w: synchronous %q (want NORMAL or FULL)", cfg.Path, store.ErrInvalid, cfg.Synchronous)
	}
	if cfg.Readers <= 0 {
		cfg.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = def.CacheBytes
	}
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if target < 0 {
		target = len(ms)
	}

	busy := strconv.FormatInt(cfg.BusyTimeout.Milliseconds(), 10)
	s := &Store{cache: sqlstore.NewCache(cfg.CacheBytes)}
	defer func() {
		if err != nil {
			s.closeAll()
			err = fmt.Errorf("open sqlite store %s: %w", cfg.Path, err)
		}
	}()
	// The writer sets WAL (persistent in the file) before any reader opens.
	s.w, err = sql.Open("sqlite", dsn(cfg.Path,
		"_pragma=busy_timeout("+busy+")",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous("+strings.ToUpper(cfg.Synchronous)+")",
		// KiB: 64 MiB for the pages upserts touch. A repeat reads and rewrites
		// its row and four index entries; pages missing here are read back
		// from the WAL or the file, which was about 7% of an upsert's time
		// with 32 MiB in BenchmarkUpsert.
		"_pragma=cache_size(-65536)",
		"_pragma=temp_store(MEMORY)",
		"_pragma=analysis_limit(1000)", // bounds PRAGMA optimize's ANALYZE on big tables
		// The background checkpointer keeps the WAL short; the writer checkpoints
		// itself only if it falls far behind (40 MB of WAL).
		"_pragma=wal_autocheckpoint(10000)",
		"_txlock=immediate"))
	if err != nil {
		return nil, err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.w, ms, target); err != nil {
		return nil, err
	}
	if target == len(ms) {
		if err := s.prepare(ctx); err != nil {
			return nil, err
		}
		// Table statistics for the query planner: cheap, and only where they
		// are missing or stale (SQLite's advice for long-lived connections).
		if _, err := s.w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
			return nil, fmt.Errorf("optimize: %w", err)
		}
	}
	s.r, err = sql.Open("sqlite", dsn(cfg.Path,
		"_pragma=busy_timeout("+busy+")",
		"_pragma=cache_size(-16384)",
		"_pragma=temp_store(MEMORY)",
		"_query_only=1"))
	if err != nil {
		return nil, err
	}
	s.r.SetMaxOpenConns(cfg.Readers)
	s.r.SetMaxIdleConns(cfg.Readers)
	if err := s.r.PingContext(ctx); err != nil {
		return nil, err
	}
	if target == len(ms) {
		s.ckpt, err = sql.Open("sqlite", dsn(cfg.Path, "_pragma=busy_timeout("+busy+")"))
		if err != nil {
			return nil, err
		}
		s.ckpt.SetMaxOpenConns(1)
		s.stopCkpt, s.ckptDone = make(chan struct{}), make(chan struct{})
		go s.checkpoints()
	}
	return s, nil
}

// checkpoints runs PASSIVE checkpoints until Close: they copy committed WAL
// frames into the database file without blocking readers or the writer, on a
// connection of their own, so a commit does not stop to do it. A failed
// checkpoint is harmless (the WAL just grows until the next one, or the
// writer's own automatic checkpoint).
func (s *Store) checkpoints() {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopCkpt:
			return
		case <-t.C:
			_, _ = s.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// dsn returns the driver's name for the file at path with parameters. The path
// is a file: URI so that any character in it ('?', '#', '%') is escaped.
func dsn(path string, params ...string) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath()}
	return u.String() + "?" + strings.Join(params, "&")
}

func (s *Store) prepare(ctx context.Context) error {
	// Anonymous "?" parameters: the driver binds them without looking up a
	// name for each, which is a good part of a write's cost at 23 parameters.
	var err error
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(sqlstore.Columns)), ", ")
	set := make([]string, 0, len(sqlstore.Columns))
	for _, c := range sqlstore.Columns[1:] {
		set = append(set, c+" = ?")
	}
	repeatSet := make([]string, 0, len(sqlstore.RepeatColumns))
	for _, c := range sqlstore.RepeatColumns {
		repeatSet = append(repeatSet, c+" = ?")
	}
	if sqlstore.Columns[0] != "id" {
		return errors.New("findings columns must start with id")
	}
	s.insert, err = s.w.PrepareContext(ctx, "INSERT INTO findings ("+strings.Join(sqlstore.Columns, ", ")+") VALUES ("+ph+")")
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	// By rowid, cached or read under the same write lock, and revision: one
	// b-tree search fewer than through the id index, and no write over a row
	// that changed since it was cached (see upsert).
	s.update, err = s.w.PrepareContext(ctx, "UPDATE findings SET "+strings.Join(set, ", ")+" WHERE rowid = ? AND rev = ?")
	if err != nil {
		return fmt.Errorf("prepare update: %w", err)
	}
	s.repeat, err = s.w.PrepareContext(ctx, "UPDATE findings SET "+strings.Join(repeatSet, ", ")+" WHERE rowid = ? AND rev = ?")
	if err != nil {
		return fmt.Errorf("prepare repeat update: %w", err)
	}
	return s.loadTokenKey(ctx)
}

func (s *Store) loadTokenKey(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, "INSERT INTO store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
		sqlstore.TokenKeyName, sqlstore.NewTokenKey()); err != nil {
		return fmt.Errorf("page token key: %w", err)
	}
	var key []byte
	if err := s.w.QueryRowContext(ctx, "SELECT value FROM store_meta WHERE key = $1", sqlstore.TokenKeyName).Scan(&key); err != nil {
		return fmt.Errorf("page token key: %w", err)
	}
	s.tokens = sqlstore.NewTokens(key)
	return nil
}

// migrate brings the schema from its version to target in one IMMEDIATE
// transaction: a second process starting at the same time waits, then finds the
// work done.
func migrate(ctx context.Context, db *sql.DB, ms []sqlstore.Migration, target int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cur > len(ms) {
		return fmt.Errorf("migrate: %w: version %d, this vigil knows up to %d", store.ErrSchemaTooNew, cur, len(ms))
	}
	for _, m := range ms[cur:max(cur, target)] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate to %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.Version, m.Name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migrate to %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Upsert implements store.Store.
func (s *Store) Upsert(ctx context.Context, findings []finding.Finding, now finding.Time) (store.UpsertResult, error) {
	res, err := s.upsert(ctx, findings, now, nil)
	if err != nil {
		return res, fmt.Errorf("upsert findings: %w", err)
	}
	return res, nil
}

// UpsertWithCheckpoint implements store.Store.
func (s *Store) UpsertWithCheckpoint(ctx context.Context, findings []finding.Finding, now finding.Time, cp store.Checkpoint) (store.UpsertResult, error) {
	res, err := s.upsert(ctx, findings, now, &cp)
	if err != nil {
		return res, fmt.Errorf("upsert findings with checkpoint %q: %w", cp.Source, err)
	}
	return res, nil
}

func (s *Store) upsert(ctx context.Context, findings []finding.Finding, now finding.Time, cp *store.Checkpoint) (store.UpsertResult, error) {
	b, err := sqlstore.NewBatch(findings)
	if err != nil {
		return store.UpsertResult{}, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.UpsertResult{}, err
	}
	defer tx.Rollback()
	if cp != nil {
		if err := putCheckpoint(ctx, tx, *cp); err != nil {
			return store.UpsertResult{}, err
		}
	}
	// A finding in the cache is merged into the cached copy without reading
	// its row: the write checks that the row is still at the cached revision
	// (every write of a row, the user's archive and feedback included, gives
	// it a new one). The others are read, under the write lock.
	stored := make(map[string]*finding.Finding, b.Len())
	at := make(map[string]rowAt, b.Len())
	var unknown []string
	for _, id := range b.IDs {
		if f, rev, rowid, ok := s.cache.Latest(id); ok && rowid != 0 {
			stored[id], at[id] = &f, rowAt{rowid, rev}
		} else {
			unknown = append(unknown, id)
		}
	}
	for _, ids := range sqlstore.Chunks(unknown, idChunk) {
		if err := s.readForMerge(ctx, tx, ids, stored, at); err != nil {
			return store.UpsertResult{}, err
		}
	}
	// The findings are merged and encoded on the other cores while this one
	// writes the rows already planned.
	p := b.Pipeline(stored, now, b.IDs)
	defer p.Stop()
	// The row statements run without ctx's cancel: the driver watches a
	// cancellable context with a goroutine per statement, a good part of a
	// row's cost. The loop checks ctx itself between rows instead, and the
	// transaction (begun with ctx) still rolls back when ctx ends.
	rowCtx := context.WithoutCancel(ctx)
	w := rowWriter{ctx: ctx, rowCtx: rowCtx, insert: tx.StmtContext(rowCtx, s.insert), update: tx.StmtContext(rowCtx, s.update),
		repeat: tx.StmtContext(rowCtx, s.repeat)}
	var stale []string // cached findings whose row changed since
	for {
		wr, ok, err := p.Next()
		if err != nil {
			return store.UpsertResult{}, err
		}
		if !ok {
			break
		}
		written, err := w.write(wr, at[wr.Row.ID])
		if err != nil {
			return store.UpsertResult{}, err
		}
		if !written {
			stale = append(stale, wr.Row.ID)
		}
	}
	ws := p.Writes()
	if len(stale) > 0 {
		// Written meanwhile by another process, archived by the user, or
		// deleted: read these rows and merge again.
		for _, id := range stale {
			delete(stored, id)
			delete(at, id)
		}
		for _, ids := range sqlstore.Chunks(stale, idChunk) {
			if err := s.readForMerge(ctx, tx, ids, stored, at); err != nil {
				return store.UpsertResult{}, err
			}
		}
		again, err := b.Plan(stored, now, stale)
		if err != nil {
			return store.UpsertResult{}, err
		}
		pos := make(map[string]int, len(ws))
		for i := range ws {
			pos[ws[i].Row.ID] = i
		}
		for i := range again {
			written, err := w.write(&again[i], at[again[i].Row.ID])
			if err != nil {
				return store.UpsertResult{}, err
			}
			if !written {
				return store.UpsertResult{}, fmt.Errorf("finding %s: row changed under the write lock", again[i].Row.ID)
			}
			ws[pos[again[i].Row.ID]] = again[i]
		}
	}
	if err := tx.Commit(); err != nil {
		return store.UpsertResult{}, err
	}
	return b.Committed(ws, s.cache), nil
}

// rowAt is where a stored finding is: its row and the revision it was read
// (or cached) at.
type rowAt struct{ rowid, rev int64 }

// rowWriter writes the rows of an upsert.
type rowWriter struct {
	ctx, rowCtx            context.Context
	insert, update, repeat *sql.Stmt
}

// write writes w (setting its RowID) and reports whether it did: an update
// writes only a row still at the revision it was read at.
func (rw *rowWriter) write(w *sqlstore.Write, at rowAt) (bool, error) {
	if err := rw.ctx.Err(); err != nil {
		return false, err
	}
	var res sql.Result
	var err error
	switch {
	case w.Insert:
		res, err = rw.insert.ExecContext(rw.rowCtx, w.Row.Values()...)
	case w.Repeat:
		res, err = rw.repeat.ExecContext(rw.rowCtx, append(w.Row.RepeatValues(), at.rowid, at.rev)...)
	default:
		res, err = rw.update.ExecContext(rw.rowCtx, append(w.Row.Values()[1:], at.rowid, at.rev)...)
	}
	if err == nil && w.Insert {
		w.RowID, err = res.LastInsertId()
	} else if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			return false, nil
		}
		w.RowID = at.rowid
	}
	if err != nil {
		if rw.ctx.Err() != nil { // the transaction ended with ctx
			return false, fmt.Errorf("finding %s: %w", w.Row.ID, rw.ctx.Err())
		}
		return false, fmt.Errorf("finding %s: %w", w.Row.ID, err)
	}
	return true, nil
}

// readForMerge reads the stored findings with the given IDs (at most idChunk)
// into stored, and where their rows are into at: the row's rowid, revision and
// user columns first, and the JSON only of the findings the cache does not
// hold at that revision.
func (s *Store) readForMerge(ctx context.Context, tx *sql.Tx, ids []string, stored map[string]*finding.Finding, at map[string]rowAt) error {
	var args sqlstore.Args
	rows, err := tx.QueryContext(ctx, "SELECT id, rowid, rev, archived, user_feedback FROM findings WHERE id IN ("+sqlstore.InList(&args, ids)+")", args.List...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var misses []string
	for rows.Next() {
		var id, fb string
		var rowid, rev int64
		var archived bool
		if err := rows.Scan(&id, &rowid, &rev, &archived, &fb); err != nil {
			return err
		}
		at[id] = rowAt{rowid, rev}
		if f, ok := s.cache.Get(id, rev); ok {
			f.Service.Archived, f.Service.UserFeedback = archived, fb
			stored[id] = &f
		} else {
			misses = append(misses, id)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(misses) == 0 {
		return nil
	}
	return readFindings(ctx, tx, misses, func(id string, f *finding.Finding) { stored[id] = f })
}

// queryer is what reads need of a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readFindings reads the findings with the given IDs (at most idChunk) and calls
// fn for each found.
func readFindings(ctx context.Context, q queryer, ids []string, fn func(id string, f *finding.Finding)) error {
	var args sqlstore.Args
	rows, err := q.QueryContext(ctx, "SELECT id, archived, user_feedback, body FROM findings WHERE id IN ("+sqlstore.InList(&args, ids)+")", args.List...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, fb string
		var archived bool
		var body []byte
		if err := rows.Scan(&id, &archived, &fb, &body); err != nil {
			return err
		}
		f, err := sqlstore.Decode(body, archived, fb)
		if err != nil {
			return fmt.Errorf("finding %s: %w", id, err)
		}
		fn(id, &f)
	}
	return rows.Err()
}

// putCheckpoint writes cp inside tx, which holds the write lock, so the guard's
// read and the write are one step.
func putCheckpoint(ctx context.Context, tx *sql.Tx, cp store.Checkpoint) error {
	src := store.Text(cp.Source)
	if cp.Guarded {
		var cur []byte
		err := tx.QueryRowContext(ctx, "SELECT position FROM checkpoints WHERE source = $1", src).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if cp.Expect != nil {
				return fmt.Errorf("%w: %q has no checkpoint, expected %q", store.ErrCheckpointConflict, cp.Source, cp.Expect)
			}
		case err != nil:
			return fmt.Errorf("checkpoint: %w", err)
		case cp.Expect == nil || !bytes.Equal(cur, cp.Expect):
			return fmt.Errorf("%w: %q is at %q, expected %q", store.ErrCheckpointConflict, cp.Source, cur, cp.Expect)
		}
	}
	pos := cp.Position
	if pos == nil {
		pos = []byte{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (source, position, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
		src, pos, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, ids []string) ([]finding.Finding, error) {
	found := make(map[string]*finding.Finding, len(ids))
	for _, chunk := range sqlstore.Chunks(ids, idChunk) {
		if err := readFindings(ctx, s.r, chunk, func(id string, f *finding.Finding) { found[id] = f }); err != nil {
			return nil, fmt.Errorf("get findings: %w", err)
		}
	}
	out := make([]finding.Finding, 0, len(found))
	for _, id := range ids {
		id = store.Text(id)
		if f := found[id]; f != nil {
			out = append(out, *f)
			delete(found, id) // a repeated ID is returned once
		}
	}
	return out, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, c store.Criteria, srt store.Sort, token store.PageToken, limit int) (store.Page, error) {
	q, err := sqlstore.NewListQuery(sqlstore.SQLite, s.tokens, c, srt, token, limit)
	if err != nil {
		return store.Page{}, fmt.Errorf("list findings: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("list findings: %w", err)
	}
	defer rows.Close()
	ids := make([]string, 0, q.Limit+1)
	vals := make([]any, 0, q.Limit+1)
	for rows.Next() {
		var id string
		var v any
		if err := rows.Scan(&id, &v); err != nil {
			return store.Page{}, fmt.Errorf("list findings: %w", err)
		}
		ids, vals = append(ids, id), append(vals, v)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("list findings: %w", err)
	}
	p, err := q.Page(s.tokens, ids, vals)
	if err != nil {
		return store.Page{}, fmt.Errorf("list findings: %w", err)
	}
	return p, nil
}

// Archive implements store.Store.
func (s *Store) Archive(ctx context.Context, ids []string) (int, error) {
	n, err := s.updateIDs(ctx, ids, "archived = $1, rev = $2", true, sqlstore.NewRev())
	if err != nil {
		return n, fmt.Errorf("archive findings: %w", err)
	}
	return n, nil
}

// Unarchive implements store.Store.
func (s *Store) Unarchive(ctx context.Context, ids []string) (int, error) {
	n, err := s.updateIDs(ctx, ids, "archived = $1, rev = $2", false, sqlstore.NewRev())
	if err != nil {
		return n, fmt.Errorf("unarchive findings: %w", err)
	}
	return n, nil
}

// Feedback implements store.Store.
func (s *Store) Feedback(ctx context.Context, ids []string, fb store.Feedback, comments string) (int, error) {
	if !fb.Valid() {
		return 0, fmt.Errorf("update findings feedback: %w: feedback %q (want USEFUL or NOT_USEFUL)", store.ErrInvalid, fb)
	}
	n, err := s.updateIDs(ctx, ids, "user_feedback = $1, feedback_comments = $2, rev = $3", string(fb), store.Text(comments), sqlstore.NewRev())
	if err != nil {
		return n, fmt.Errorf("update findings feedback: %w", err)
	}
	return n, nil
}

// updateIDs runs "UPDATE findings SET set WHERE id IN ids" in one transaction;
// set uses the parameters vals ($1, $2, …). Every caller gives the rows a new
// revision too: an upsert merges into its cached copy of a finding only while
// the row keeps the revision that copy was written with.
func (s *Store) updateIDs(ctx context.Context, ids []string, set string, vals ...any) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var n int64
	for _, chunk := range sqlstore.Chunks(ids, idChunk) {
		args := sqlstore.Args{List: append([]any(nil), vals...)}
		r, err := tx.ExecContext(ctx, "UPDATE findings SET "+set+" WHERE id IN ("+sqlstore.InList(&args, chunk)+")", args.List...)
		if err != nil {
			return 0, err
		}
		k, err := r.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += k
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Statistics implements store.Store.
func (s *Store) Statistics(ctx context.Context, q store.StatisticsQuery) ([]store.Group, error) {
	sq, err := sqlstore.NewStatsQuery(sqlstore.SQLite, q)
	if err != nil {
		return nil, fmt.Errorf("finding statistics: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, sq.SQL, sq.Args...)
	if err != nil {
		return nil, fmt.Errorf("finding statistics: %w", err)
	}
	defer rows.Close()
	var out []store.Group
	for rows.Next() {
		g, err := sq.Scan(rows)
		if err != nil {
			return nil, fmt.Errorf("finding statistics: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding statistics: %w", err)
	}
	return out, nil
}

// DeleteOlderThan implements store.Store. After deleting it refreshes the query
// planner's statistics where they went stale.
func (s *Store) DeleteOlderThan(ctx context.Context, t finding.Time) (int64, error) {
	var total int64
	for {
		r, err := s.w.ExecContext(ctx, sqlstore.DeleteOlderSQL, int64(t))
		if err != nil {
			return total, fmt.Errorf("delete findings older than %s: %w", t, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("delete findings older than %s: %w", t, err)
		}
		total += n
		if n < sqlstore.DeleteChunk {
			break
		}
	}
	if total > 0 {
		if _, err := s.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
			return total, fmt.Errorf("delete findings older than %s: optimize: %w", t, err)
		}
	}
	return total, nil
}

// GetCheckpoint implements store.Store.
func (s *Store) GetCheckpoint(ctx context.Context, source string) ([]byte, bool, error) {
	var pos []byte
	err := s.r.QueryRowContext(ctx, "SELECT position FROM checkpoints WHERE source = $1", store.Text(source)).Scan(&pos)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("get checkpoint %q: %w", source, err)
	}
	return pos, true, nil
}

// PutCheckpoint implements store.Store.
func (s *Store) PutCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	err := func() error {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := putCheckpoint(ctx, tx, cp); err != nil {
			return err
		}
		return tx.Commit()
	}()
	if err != nil {
		return fmt.Errorf("put checkpoint %q: %w", cp.Source, err)
	}
	return nil
}

// Close implements store.Store. It leaves the planner statistics fresh for the
// next start.
func (s *Store) Close() error {
	if s.w != nil && s.insert != nil {
		_, _ = s.w.Exec("PRAGMA optimize")
	}
	return s.closeAll()
}

func (s *Store) closeAll() error {
	if s.stopCkpt != nil {
		close(s.stopCkpt)
		<-s.ckptDone
		s.stopCkpt = nil
	}
	var errs []error
	for _, st := range []*sql.Stmt{s.insert, s.update, s.repeat} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite store: %w", err)
	}
	return nil
}
