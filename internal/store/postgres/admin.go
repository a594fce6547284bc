package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

// The store.Admin methods: filters, lists, tokens and the audit log, shared with
// the SQLite store in sqlstore.Admin. Every admin write takes one advisory
// transaction lock first, so admin writes are serialised across nodes (they are
// rare; findings are not held up, they never take it).

var _ store.Admin = (*Store)(nil)

// adminLock is the advisory lock key of admin writes ("vigiladm").
const adminLock int64 = 0x76696769_6c61646d

// pgTx adapts a pgx.Tx or the pool to sqlstore.AdminTx.
type pgTx struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}
}

func (t pgTx) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := t.q.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t pgTx) Query(ctx context.Context, sql string, args []any, row func(sqlstore.Scanner) error) error {
	rows, err := t.q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) admin() *sqlstore.Admin {
	return &sqlstore.Admin{
		Write: func(ctx context.Context, fn func(sqlstore.AdminTx) error) error {
			return s.inTx(ctx, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", adminLock); err != nil {
					return err
				}
				return fn(pgTx{tx})
			})
		},
		Read: func(ctx context.Context, fn func(sqlstore.AdminTx) error) error { return fn(pgTx{s.pool}) },
	}
}

// CreateFilter implements store.Admin.
func (s *Store) CreateFilter(ctx context.Context, f store.Filter, max int, a store.Actor) (store.Filter, error) {
	return s.admin().CreateFilter(ctx, f, max, a)
}

// GetFilter implements store.Admin.
func (s *Store) GetFilter(ctx context.Context, name string) (store.Filter, error) {
	return s.admin().GetFilter(ctx, name)
}

// UpdateFilter implements store.Admin.
func (s *Store) UpdateFilter(ctx context.Context, name string, update func(*store.Filter) error, a store.Actor) (store.Filter, store.Filter, error) {
	return s.admin().UpdateFilter(ctx, name, update, a)
}

// DeleteFilter implements store.Admin.
func (s *Store) DeleteFilter(ctx context.Context, name string, a store.Actor) (store.Filter, error) {
	return s.admin().DeleteFilter(ctx, name, a)
}

// ListFilters implements store.Admin.
func (s *Store) ListFilters(ctx context.Context) ([]store.Filter, error) {
	return s.admin().ListFilters(ctx)
}

// CreateList implements store.Admin.
func (s *Store) CreateList(ctx context.Context, l store.IntelList, content []byte, max int, a store.Actor) (store.IntelList, error) {
	return s.admin().CreateList(ctx, l, content, max, a)
}

// GetList implements store.Admin.
func (s *Store) GetList(ctx context.Context, id string) (store.IntelList, error) {
	return s.admin().GetList(ctx, id)
}

// ListContent implements store.Admin.
func (s *Store) ListContent(ctx context.Context, id string) ([]byte, error) {
	return s.admin().ListContent(ctx, id)
}

// UpdateList implements store.Admin.
func (s *Store) UpdateList(ctx context.Context, id string, update func(*store.IntelList) error, content []byte, a store.Actor) (store.IntelList, store.IntelList, error) {
	return s.admin().UpdateList(ctx, id, update, content, a)
}

// DeleteList implements store.Admin.
func (s *Store) DeleteList(ctx context.Context, id string, a store.Actor) (store.IntelList, error) {
	return s.admin().DeleteList(ctx, id, a)
}

// ListLists implements store.Admin.
func (s *Store) ListLists(ctx context.Context, kind store.ListKind) ([]store.IntelList, error) {
	return s.admin().ListLists(ctx, kind)
}

// CreateToken implements store.Admin.
func (s *Store) CreateToken(ctx context.Context, t store.Token, a store.Actor) (store.Token, error) {
	return s.admin().CreateToken(ctx, t, a)
}

// TokenByHash implements store.Admin.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	return s.admin().TokenByHash(ctx, hash)
}

// ListTokens implements store.Admin.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	return s.admin().ListTokens(ctx)
}

// RevokeToken implements store.Admin.
func (s *Store) RevokeToken(ctx context.Context, nameOrID string, at finding.Time, a store.Actor) (store.Token, error) {
	return s.admin().RevokeToken(ctx, nameOrID, at, a)
}

// TouchToken implements store.Admin.
func (s *Store) TouchToken(ctx context.Context, id string, at finding.Time) error {
	return s.admin().TouchToken(ctx, id, at)
}

// ListAudit implements store.Admin.
func (s *Store) ListAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	return s.admin().ListAudit(ctx, q)
}
