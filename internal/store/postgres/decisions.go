package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

// The responders' decisions (store.Decisions): the SQL is shared with the
// SQLite store (sqlstore.Decisions); this file adapts pgx to it. Writes run in
// transactions retried on deadlock or serialisation failure (inTx).

var _ store.Decisions = (*Store)(nil)

// decisionPGConn adapts a pool or a transaction to sqlstore.DecisionConn.
type decisionPGConn struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}
}

func (c decisionPGConn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (c decisionPGConn) Query(ctx context.Context, q string, args []any, row func(scan func(dest ...any) error) error) error {
	rows, err := c.q.Query(ctx, q, args...)
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

// decisionPGWriter is the pool as a sqlstore.DecisionDB.
type decisionPGWriter struct {
	decisionPGConn
	s *Store
}

func (w decisionPGWriter) Tx(ctx context.Context, fn func(sqlstore.DecisionConn) error) error {
	return w.s.inTx(ctx, func(tx pgx.Tx) error { return fn(decisionPGConn{tx}) })
}

func (s *Store) decisions() sqlstore.Decisions {
	return sqlstore.Decisions{W: decisionPGWriter{decisionPGConn{s.pool}, s}, R: decisionPGConn{s.pool}}
}

// PutDecisions implements store.Decisions.
func (s *Store) PutDecisions(ctx context.Context, ds []store.Decision, now time.Time) ([]store.DecisionChange, error) {
	return s.decisions().PutDecisions(ctx, ds, now)
}

// DeleteDecisions implements store.Decisions.
func (s *Store) DeleteDecisions(ctx context.Context, keys []store.DecisionKey, action store.DecisionAction, reason string, now time.Time) ([]store.Decision, error) {
	return s.decisions().DeleteDecisions(ctx, keys, action, reason, now)
}

// ExpireDecisions implements store.Decisions.
func (s *Store) ExpireDecisions(ctx context.Context, now time.Time, limit int) ([]store.Decision, error) {
	return s.decisions().ExpireDecisions(ctx, now, limit)
}

// ListDecisions implements store.Decisions.
func (s *Store) ListDecisions(ctx context.Context, f store.DecisionFilter) ([]store.Decision, error) {
	return s.decisions().ListDecisions(ctx, f)
}

// CountDecisions implements store.Decisions.
func (s *Store) CountDecisions(ctx context.Context, target string, now time.Time) (int, error) {
	return s.decisions().CountDecisions(ctx, target, now)
}

// OldestDecisions implements store.Decisions.
func (s *Store) OldestDecisions(ctx context.Context, target string, now time.Time, n int) ([]store.Decision, error) {
	return s.decisions().OldestDecisions(ctx, target, now, n)
}

// AuditDecisions implements store.Decisions.
func (s *Store) AuditDecisions(ctx context.Context, entries []store.DecisionAudit) error {
	return s.decisions().AuditDecisions(ctx, entries)
}

// ListDecisionAudit implements store.Decisions.
func (s *Store) ListDecisionAudit(ctx context.Context, f store.DecisionAuditFilter) ([]store.DecisionAudit, error) {
	return s.decisions().ListDecisionAudit(ctx, f)
}

// DeleteDecisionAuditBefore implements store.Decisions.
func (s *Store) DeleteDecisionAuditBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.decisions().DeleteDecisionAuditBefore(ctx, t)
}
