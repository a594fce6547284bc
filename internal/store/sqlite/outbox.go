package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

var _ store.HasOutbox = (*Store)(nil)

// Outbox returns the notification outbox kept in the store's database.
func (s *Store) Outbox() store.Outbox { return sqlstore.Outbox{DB: outboxDB{s}} }

// outboxDB runs the outbox's statements: writes on the writer connection in an
// IMMEDIATE transaction, reads on the reader pool.
type outboxDB struct{ s *Store }

func (o outboxDB) Write(ctx context.Context, fn func(sqlstore.OutboxTx) error) error {
	tx, err := o.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(outboxSQL{tx}); err != nil {
		return err
	}
	return tx.Commit()
}

func (o outboxDB) Read(ctx context.Context, fn func(sqlstore.OutboxTx) error) error {
	return fn(outboxSQL{o.s.r})
}

// outboxSQL is a *sql.DB or *sql.Tx as an OutboxTx.
type outboxSQL struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
}

// numbered turns the $1, $2, … parameters of a statement that uses each once,
// in order, into anonymous ? parameters. The driver looks every numbered or
// named parameter up in a list as it binds it, which makes a statement of
// hundreds of parameters (a multi-row enqueue) quadratic to bind; anonymous
// ones it binds by position. Other statements are left as they are.
func numbered(query string) string {
	var b strings.Builder
	next := 1
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(query[i+1 : j]); err != nil || n != next {
			return query // not $1, $2, … each once in order
		}
		next++
		b.WriteByte('?')
		i = j - 1
	}
	return b.String()
}

func (t outboxSQL) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	r, err := t.q.ExecContext(ctx, numbered(query), args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (t outboxSQL) Query(ctx context.Context, query string, args []any, row func(scan func(dest ...any) error) error) error {
	rows, err := t.q.QueryContext(ctx, numbered(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
