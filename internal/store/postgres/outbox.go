package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

var _ store.HasOutbox = (*Store)(nil)

// Outbox returns the notification outbox kept in the store's database.
func (s *Store) Outbox() store.Outbox { return sqlstore.Outbox{DB: outboxDB{s}} }

// outboxDB runs the outbox's statements: writes in a transaction retried when
// PostgreSQL aborts it as a deadlock victim, reads on the pool.
type outboxDB struct{ s *Store }

func (o outboxDB) Write(ctx context.Context, fn func(sqlstore.OutboxTx) error) error {
	return o.s.inTx(ctx, func(tx pgx.Tx) error { return fn(outboxPgx{tx}) })
}

func (o outboxDB) Read(ctx context.Context, fn func(sqlstore.OutboxTx) error) error {
	return fn(outboxPgx{o.s.pool})
}

// outboxPgx is a pool or a transaction as an OutboxTx.
type outboxPgx struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}
}

func (t outboxPgx) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := t.q.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t outboxPgx) Query(ctx context.Context, sql string, args []any, row func(scan func(dest ...any) error) error) error {
	rows, err := t.q.Query(ctx, sql, args...)
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
