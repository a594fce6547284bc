// Package postgres is the cluster findings store: store.Store on PostgreSQL
// through pgx/v5 and its connection pool, so that several vigil nodes share
// findings, the user's decisions and the ingest checkpoints.
//
// An upsert is one READ COMMITTED transaction that locks the rows it merges into
// (SELECT … FOR UPDATE, in ID order) and inserts the new ones with INSERT … ON
// CONFLICT DO NOTHING; an ID another node inserted meanwhile is locked and merged
// in a second round. Rows are written with one statement per batch over unnest
// arrays. PostgreSQL can still pick a transaction as a deadlock victim (two
// batches that each insert an ID the other merges); such a transaction, and a
// serialisation failure, is retried from the start, which is safe because nothing
// of it was committed. A guarded checkpoint is locked first, so batches of the
// same source serialise on it.
//
// Schema changes are numbered SQL files in migrations/, applied at Open in one
// transaction under an advisory lock, so nodes starting together migrate once;
// see package store for the tables and indexes.
package postgres

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Config configures the PostgreSQL store.
type Config struct {
	// DSN is the connection string, as a URL (postgres://user@host:5432/db) or
	// key=value pairs; libpq's PG* environment variables fill what it leaves out.
	DSN string `yaml:"dsn"`
	// MaxConns sizes the connection pool; 0 means pgxpool's default,
	// max(4, number of CPUs). Size it for the partitions that commit at once
	// plus the API's load.
	MaxConns int32 `yaml:"max_conns"`
	// CacheBytes bounds the cache of recently written findings that spares a
	// repeat the transfer and decoding of the stored finding; 0 means 64 MiB,
	// negative none.
	CacheBytes int64 `yaml:"cache_bytes"`
}

// DefaultConfig returns the defaults: an empty DSN (all from PG* variables),
// pgxpool's pool size, a 64 MiB finding cache.
func DefaultConfig() Config { return Config{CacheBytes: 64 << 20} }

// Store is the PostgreSQL store. It implements store.Store.
type Store struct {
	pool   *pgxpool.Pool
	tokens *sqlstore.Tokens
	cache  *sqlstore.Cache
}

var _ store.Store = (*Store)(nil)

// migrationLock is the advisory lock key that serialises migrations
// (hashtext('vigil.store.migrate') would do, but a constant needs no query).
const migrationLock int64 = 0x76696769_6c6d6967 // "vigilmig"

// maxAttempts bounds the retries of a transaction PostgreSQL aborted as a
// deadlock victim or for a serialisation failure.
const maxAttempts = 8

// Migrations returns the schema migrations, oldest first.
func Migrations() ([]sqlstore.Migration, error) {
	return sqlstore.LoadMigrations(migrationFiles, "migrations")
}

// Open connects to the database and migrates it to the latest schema.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return open(ctx, cfg, -1)
}

func open(ctx context.Context, cfg Config, target int) (_ *Store, err error) {
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		// pgx's message quotes the DSN, password included; say only what is wrong.
		return nil, fmt.Errorf("open postgres store: %w: cannot parse the DSN", store.ErrInvalid)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	where := pc.ConnConfig.Host + ":" + strconv.Itoa(int(pc.ConnConfig.Port)) + "/" + pc.ConnConfig.Database
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if target < 0 {
		target = len(ms)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open postgres store %s: %w", where, err)
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultConfig().CacheBytes
	}
	s := &Store{pool: pool, cache: sqlstore.NewCache(cfg.CacheBytes)}
	defer func() {
		if err != nil {
			pool.Close()
			err = fmt.Errorf("open postgres store %s: %w", where, err)
		}
	}()
	if err := pool.Ping(ctx); err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool, ms, target); err != nil {
		return nil, err
	}
	if target == len(ms) {
		if err := s.loadTokenKey(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool, ms []sqlstore.Migration, target int) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer NOT NULL PRIMARY KEY,
		name       text    NOT NULL,
		applied_at bigint  NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var cur int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cur > len(ms) {
		return fmt.Errorf("migrate: %w: version %d, this vigil knows up to %d", store.ErrSchemaTooNew, cur, len(ms))
	}
	for _, m := range ms[cur:max(cur, target)] {
		// No arguments: the simple protocol, which runs a file of statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate to %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.Version, m.Name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migrate to %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func (s *Store) loadTokenKey(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, "INSERT INTO store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
		sqlstore.TokenKeyName, sqlstore.NewTokenKey()); err != nil {
		return fmt.Errorf("page token key: %w", err)
	}
	var key []byte
	if err := s.pool.QueryRow(ctx, "SELECT value FROM store_meta WHERE key = $1", sqlstore.TokenKeyName).Scan(&key); err != nil {
		return fmt.Errorf("page token key: %w", err)
	}
	s.tokens = sqlstore.NewTokens(key)
	return nil
}

// retryable reports whether PostgreSQL aborted the transaction in a way that a
// fresh attempt resolves: serialization_failure or deadlock_detected.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// inTx runs fn in a transaction and commits it, retrying a retryable abort.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return err
		}
		// A short, growing pause lets the transaction that won go first.
		select {
		case <-time.After(time.Duration(attempt) * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
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
	var ws []sqlstore.Write
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if cp != nil {
			if err := putCheckpoint(ctx, tx, *cp); err != nil {
				return err
			}
		}
		ws, err = s.upsertTx(ctx, tx, b, now)
		return err
	})
	if err != nil {
		return store.UpsertResult{}, err
	}
	return b.Committed(ws, s.cache), nil
}

// maxRounds bounds the lock-then-insert rounds of one upsert. A second round
// happens when another transaction inserted one of the batch's IDs between this
// one's lock and insert; a third only if that row was deleted again meanwhile.
const maxRounds = 5

func (s *Store) upsertTx(ctx context.Context, tx pgx.Tx, b *sqlstore.Batch, now finding.Time) ([]sqlstore.Write, error) {
	pending := b.IDs
	stored := make(map[string]*finding.Finding, len(pending))
	var inserts []sqlstore.Write
	for round := 1; len(pending) > 0; round++ {
		if round > maxRounds {
			return nil, fmt.Errorf("%d findings still contended after %d rounds", len(pending), maxRounds)
		}
		if err := s.lockForMerge(ctx, tx, pending, stored); err != nil {
			return nil, err
		}
		// Insert the rest; an ID that another transaction inserted first is
		// skipped here and locked in the next round.
		var missing []string
		for _, id := range pending {
			if stored[id] == nil {
				missing = append(missing, id)
			}
		}
		pending = nil
		if len(missing) == 0 {
			break
		}
		ws, err := b.Plan(nil, now, missing)
		if err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, insertSQL, columnsOf(ws).args()...)
		if err != nil {
			return nil, err
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		got := make(map[string]bool, len(inserted))
		for _, id := range inserted {
			got[id] = true
		}
		for _, w := range ws {
			if got[w.Row.ID] {
				inserts = append(inserts, w)
			} else {
				pending = append(pending, w.Row.ID)
			}
		}
	}
	// Merge into the locked rows and write them back in one statement.
	var ids []string
	for _, id := range b.IDs {
		if stored[id] != nil {
			ids = append(ids, id)
		}
	}
	updates, err := b.Plan(stored, now, ids)
	if err != nil {
		return nil, err
	}
	if len(updates) > 0 {
		if _, err := tx.Exec(ctx, updateSQL, columnsOf(updates).args()...); err != nil {
			return nil, err
		}
	}
	return append(inserts, updates...), nil
}

// lockForMerge locks the stored rows of ids, in ID order, and reads their
// findings into stored: from the cache when the row's revision is the cached
// one, else decoding the row's JSON.
func (s *Store) lockForMerge(ctx context.Context, tx pgx.Tx, ids []string, stored map[string]*finding.Finding) error {
	rows, err := tx.Query(ctx, "SELECT id, rev, archived, user_feedback FROM findings WHERE id = ANY($1) ORDER BY id FOR UPDATE", ids)
	if err != nil {
		return err
	}
	type user struct {
		archived bool
		fb       string
	}
	misses := map[string]user{}
	var missIDs []string
	for rows.Next() {
		var id, fb string
		var rev int64
		var archived bool
		if err := rows.Scan(&id, &rev, &archived, &fb); err != nil {
			rows.Close()
			return err
		}
		if f, ok := s.cache.Get(id, rev); ok {
			f.Service.Archived, f.Service.UserFeedback = archived, fb
			stored[id] = &f
		} else {
			misses[id] = user{archived, fb}
			missIDs = append(missIDs, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(missIDs) == 0 {
		return nil
	}
	rows, err = tx.Query(ctx, "SELECT id, body FROM findings WHERE id = ANY($1)", missIDs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			return err
		}
		u := misses[id]
		f, err := sqlstore.Decode(body, u.archived, u.fb)
		if err != nil {
			return fmt.Errorf("finding %s: %w", id, err)
		}
		stored[id] = &f
	}
	return rows.Err()
}

func columnsOf(ws []sqlstore.Write) *columns {
	c := &columns{}
	for i := range ws {
		c.add(&ws[i].Row)
	}
	return c
}

// columns holds a batch of rows as one array per column, for unnest.
type columns struct {
	id, accountID, region, typ               []string
	severity                                 []float64
	resourceType, resourceID, instanceID     []string
	accessKeyID, actionType, resourceRole    []string
	remoteIPv4, apiRemoteIPv4, dnsDomain     []string
	archived                                 []bool
	userFeedback                             []string
	count, createdAt, updatedAt, first, last []int64
	rev                                      []int64
	body                                     []string
}

func (c *columns) add(r *sqlstore.Row) {
	c.id = append(c.id, r.ID)
	c.accountID = append(c.accountID, r.AccountID)
	c.region = append(c.region, r.Region)
	c.typ = append(c.typ, r.Type)
	c.severity = append(c.severity, r.Severity)
	c.resourceType = append(c.resourceType, r.ResourceType)
	c.resourceID = append(c.resourceID, r.ResourceID)
	c.instanceID = append(c.instanceID, r.InstanceID)
	c.accessKeyID = append(c.accessKeyID, r.AccessKeyID)
	c.actionType = append(c.actionType, r.ActionType)
	c.resourceRole = append(c.resourceRole, r.ResourceRole)
	c.remoteIPv4 = append(c.remoteIPv4, r.RemoteIPv4)
	c.apiRemoteIPv4 = append(c.apiRemoteIPv4, r.APIRemoteIPv4)
	c.dnsDomain = append(c.dnsDomain, r.DNSDomain)
	c.archived = append(c.archived, r.Archived)
	c.userFeedback = append(c.userFeedback, r.UserFeedback)
	c.count = append(c.count, r.Count)
	c.createdAt = append(c.createdAt, r.CreatedAt)
	c.updatedAt = append(c.updatedAt, r.UpdatedAt)
	c.first = append(c.first, r.EventFirstSeen)
	c.last = append(c.last, r.EventLastSeen)
	c.rev = append(c.rev, r.Rev)
	c.body = append(c.body, r.Body)
}

// args returns the arrays in sqlstore.Columns order.
func (c *columns) args() []any {
	return []any{
		c.id, c.accountID, c.region, c.typ, c.severity, c.resourceType, c.resourceID,
		c.instanceID, c.accessKeyID, c.actionType, c.resourceRole, c.remoteIPv4,
		c.apiRemoteIPv4, c.dnsDomain, c.archived, c.userFeedback, c.count,
		c.createdAt, c.updatedAt, c.first, c.last, c.rev, c.body,
	}
}

// The array type of each of sqlstore.Columns, for unnest.
var columnTypes = map[string]string{
	"severity": "float8[]", "archived": "bool[]", "count": "int8[]", "created_at": "int8[]",
	"updated_at": "int8[]", "event_first_seen": "int8[]", "event_last_seen": "int8[]", "rev": "int8[]",
}

var insertSQL, updateSQL = func() (string, string) {
	params := make([]string, len(sqlstore.Columns))
	set := make([]string, 0, len(sqlstore.Columns))
	for i, c := range sqlstore.Columns {
		t := columnTypes[c]
		if t == "" {
			t = "text[]"
		}
		params[i] = "$" + strconv.Itoa(i+1) + "::" + t
		if c != "id" {
			set = append(set, c+" = u."+c)
		}
	}
	cols := strings.Join(sqlstore.Columns, ", ")
	unnest := "unnest(" + strings.Join(params, ", ") + ")"
	return "INSERT INTO findings (" + cols + ") SELECT * FROM " + unnest + " ON CONFLICT (id) DO NOTHING RETURNING id",
		"UPDATE findings AS f SET " + strings.Join(set, ", ") + " FROM " + unnest + " AS u(" + cols + ") WHERE f.id = u.id"
}()

// scanFindings decodes rows of (id, archived, user_feedback, body) and closes
// them.
func scanFindings(rows pgx.Rows, fn func(id string, f *finding.Finding)) error {
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

// putCheckpoint writes cp inside tx. A guarded write locks the checkpoint row
// first (or, when there is none, claims it by inserting), so that two writers of
// one source serialise and the second sees the first's position.
func putCheckpoint(ctx context.Context, tx pgx.Tx, cp store.Checkpoint) error {
	src := store.Text(cp.Source)
	pos := cp.Position
	if pos == nil {
		pos = []byte{}
	}
	now := time.Now().UnixMilli()
	if cp.Guarded {
		var cur []byte
		err := tx.QueryRow(ctx, "SELECT position FROM checkpoints WHERE source = $1 FOR UPDATE", src).Scan(&cur)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if cp.Expect != nil {
				return fmt.Errorf("%w: %q has no checkpoint, expected %q", store.ErrCheckpointConflict, cp.Source, cp.Expect)
			}
			tag, err := tx.Exec(ctx, "INSERT INTO checkpoints (source, position, updated_at) VALUES ($1, $2, $3) ON CONFLICT (source) DO NOTHING",
				src, pos, now)
			if err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("%w: %q was created by another writer", store.ErrCheckpointConflict, cp.Source)
			}
			return nil
		case err != nil:
			return fmt.Errorf("checkpoint: %w", err)
		case cp.Expect == nil || !bytes.Equal(cur, cp.Expect):
			return fmt.Errorf("%w: %q is at %q, expected %q", store.ErrCheckpointConflict, cp.Source, cur, cp.Expect)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO checkpoints (source, position, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`, src, pos, now)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, ids []string) ([]finding.Finding, error) {
	norm := make([]string, len(ids))
	for i, id := range ids {
		norm[i] = store.Text(id)
	}
	rows, err := s.pool.Query(ctx, "SELECT id, archived, user_feedback, body FROM findings WHERE id = ANY($1)", norm)
	if err != nil {
		return nil, fmt.Errorf("get findings: %w", err)
	}
	found := make(map[string]*finding.Finding, len(ids))
	if err := scanFindings(rows, func(id string, f *finding.Finding) { found[id] = f }); err != nil {
		return nil, fmt.Errorf("get findings: %w", err)
	}
	out := make([]finding.Finding, 0, len(found))
	for _, id := range norm {
		if f := found[id]; f != nil {
			out = append(out, *f)
			delete(found, id) // a repeated ID is returned once
		}
	}
	return out, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, c store.Criteria, srt store.Sort, token store.PageToken, limit int) (store.Page, error) {
	q, err := sqlstore.NewListQuery(sqlstore.PostgreSQL, s.tokens, c, srt, token, limit)
	if err != nil {
		return store.Page{}, fmt.Errorf("list findings: %w", err)
	}
	rows, err := s.pool.Query(ctx, q.SQL, q.Args...)
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
	n, err := s.updateIDs(ctx, ids, "archived = $2", true)
	if err != nil {
		return n, fmt.Errorf("archive findings: %w", err)
	}
	return n, nil
}

// Unarchive implements store.Store.
func (s *Store) Unarchive(ctx context.Context, ids []string) (int, error) {
	n, err := s.updateIDs(ctx, ids, "archived = $2", false)
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
	n, err := s.updateIDs(ctx, ids, "user_feedback = $2, feedback_comments = $3", string(fb), store.Text(comments))
	if err != nil {
		return n, fmt.Errorf("update findings feedback: %w", err)
	}
	return n, nil
}

// updateIDs runs "UPDATE findings SET set WHERE id = ANY($1)"; set uses the
// parameters vals ($2, $3, …).
func (s *Store) updateIDs(ctx context.Context, ids []string, set string, vals ...any) (int, error) {
	norm := make([]string, len(ids))
	for i, id := range ids {
		norm[i] = store.Text(id)
	}
	tag, err := s.pool.Exec(ctx, "UPDATE findings SET "+set+" WHERE id = ANY($1)", append([]any{norm}, vals...)...)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// Statistics implements store.Store.
func (s *Store) Statistics(ctx context.Context, q store.StatisticsQuery) ([]store.Group, error) {
	sq, err := sqlstore.NewStatsQuery(sqlstore.PostgreSQL, q)
	if err != nil {
		return nil, fmt.Errorf("finding statistics: %w", err)
	}
	rows, err := s.pool.Query(ctx, sq.SQL, sq.Args...)
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

// DeleteOlderThan implements store.Store.
func (s *Store) DeleteOlderThan(ctx context.Context, t finding.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, sqlstore.DeleteOlderSQL, int64(t))
		if err != nil {
			return total, fmt.Errorf("delete findings older than %s: %w", t, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < sqlstore.DeleteChunk {
			return total, nil
		}
	}
}

// GetCheckpoint implements store.Store.
func (s *Store) GetCheckpoint(ctx context.Context, source string) ([]byte, bool, error) {
	var pos []byte
	err := s.pool.QueryRow(ctx, "SELECT position FROM checkpoints WHERE source = $1", store.Text(source)).Scan(&pos)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("get checkpoint %q: %w", source, err)
	}
	return pos, true, nil
}

// PutCheckpoint implements store.Store.
func (s *Store) PutCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	if err := s.inTx(ctx, func(tx pgx.Tx) error { return putCheckpoint(ctx, tx, cp) }); err != nil {
		return fmt.Errorf("put checkpoint %q: %w", cp.Source, err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
