package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

// The responders' decisions (store.Decisions): the SQL is shared with the
// PostgreSQL store (sqlstore.Decisions); this file adapts database/sql to it.
// Writes go through the writer connection (IMMEDIATE transactions), reads
// through the query-only readers.

var _ store.Decisions = (*Store)(nil)

// decisionSQLConn adapts a *sql.DB or *sql.Tx to sqlstore.DecisionConn.
type decisionSQLConn struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
}

func (c decisionSQLConn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c decisionSQLConn) Query(ctx context.Context, q string, args []any, row func(scan func(dest ...any) error) error) error {
	rows, err := c.q.QueryContext(ctx, q, args...)
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

// decisionSQLWriter is the writer connection as a sqlstore.DecisionDB.
type decisionSQLWriter struct{ decisionSQLConn }

func (w decisionSQLWriter) Tx(ctx context.Context, fn func(sqlstore.DecisionConn) error) error {
	tx, err := w.q.(*sql.DB).BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(decisionSQLConn{tx}); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) decisions() sqlstore.Decisions {
	return sqlstore.Decisions{W: decisionSQLWriter{decisionSQLConn{s.w}}, R: decisionSQLConn{s.r}}
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
