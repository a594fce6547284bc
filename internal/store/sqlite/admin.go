package sqlite

import (
	"context"
	"database/sql"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

// The store.Admin methods: filters, lists, tokens and the audit log, shared with
// the PostgreSQL store in sqlstore.Admin. Writes go through the one writer
// connection, in IMMEDIATE transactions, so they are serialised with every
// other write of every process on the file.

var _ store.Admin = (*Store)(nil)

// sqlTx adapts a *sql.Tx or *sql.DB to sqlstore.AdminTx.
type sqlTx struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
}

func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	r, err := t.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (t sqlTx) Query(ctx context.Context, query string, args []any, row func(sqlstore.Scanner) error) error {
	rows, err := t.q.QueryContext(ctx, query, args...)
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
			tx, err := s.w.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if err := fn(sqlTx{tx}); err != nil {
				return err
			}
			return tx.Commit()
		},
		Read: func(ctx context.Context, fn func(sqlstore.AdminTx) error) error { return fn(sqlTx{s.r}) },
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
