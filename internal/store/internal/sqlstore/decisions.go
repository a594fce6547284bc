package sqlstore

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// DecisionConn is what the decision statements need of a connection pool or a
// transaction. The SQLite store adapts database/sql to it and the PostgreSQL
// store pgx, so that both run the same SQL (placeholders $1, $2, …; both accept
// row values, ON CONFLICT … DO UPDATE and RETURNING).
type DecisionConn interface {
	// Exec runs a statement and returns the rows it affected.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	// Query runs a query and calls row for each result row; scan reads the
	// row's columns into dest like database/sql's Scan.
	Query(ctx context.Context, sql string, args []any, row func(scan func(dest ...any) error) error) error
}

// DecisionDB is a database that also runs write transactions: Tx calls fn in a
// transaction and commits it when fn returns nil (the store may retry fn from
// the start after a deadlock or serialisation failure, so fn must not keep
// results of a failed attempt).
type DecisionDB interface {
	DecisionConn
	Tx(ctx context.Context, fn func(tx DecisionConn) error) error
}

// Decisions implements store.Decisions on a DecisionDB.
type Decisions struct {
	// W runs writes; R runs reads (for SQLite, its query-only reader pool).
	W DecisionDB
	R DecisionConn
}

var _ store.Decisions = Decisions{}

const decisionCols = "target, prefix, origin, reason, finding_id, finding_type, severity, created_at, updated_at, expires_at, hits"

// PrefixRange returns the first and last address of p as 32 hex digits of the
// 16-byte form (IPv4 as ::ffff:a.b.c.d): the lo and hi columns.
func PrefixRange(p netip.Prefix) (lo, hi string) {
	p = p.Masked()
	a := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	last := a
	for i := bits; i < 128; i++ {
		last[i/8] |= 0x80 >> (i % 8)
	}
	return hex.EncodeToString(a[:]), hex.EncodeToString(last[:])
}

// NormalPrefix returns p masked, with an IPv4-mapped IPv6 prefix of at least
// /96 turned into the IPv4 prefix it means.
func NormalPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

func decisionMS(t time.Time) int64 { return t.UnixMilli() }

func decisionTime(v int64) time.Time { return time.UnixMilli(v).UTC() }

// scanDecision reads the columns of decisionCols.
func scanDecision(scan func(dest ...any) error) (store.Decision, error) {
	var d store.Decision
	var prefix, ftype string
	var sev float64
	var created, updated, expires int64
	if err := scan(&d.Target, &prefix, &d.Origin, &d.Reason, &d.FindingID, &ftype, &sev, &created, &updated, &expires, &d.Hits); err != nil {
		return d, err
	}
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return d, fmt.Errorf("decision %s: stored prefix %q: %w", d.Target, prefix, err)
	}
	d.Prefix, d.FindingType, d.Severity = p, finding.Type(ftype), finding.Severity(sev)
	d.CreatedAt, d.UpdatedAt, d.ExpiresAt = decisionTime(created), decisionTime(updated), decisionTime(expires)
	return d, nil
}

// upsertDecision inserts a decision or extends the stored one (see
// store.Decisions.PutDecisions). A stored row that has expired is replaced as
// if new. The SET expressions read the row as it was before the update.
const upsertDecision = `INSERT INTO decisions (target, prefix, lo, hi, bits, origin, reason, finding_id, finding_type, severity, created_at, updated_at, expires_at, hits)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, 1)
ON CONFLICT (target, prefix) DO UPDATE SET
	created_at = CASE WHEN decisions.expires_at <= excluded.updated_at THEN excluded.created_at ELSE decisions.created_at END,
	hits = CASE WHEN decisions.expires_at <= excluded.updated_at THEN 1 ELSE decisions.hits + 1 END,
	expires_at = CASE WHEN decisions.expires_at <= excluded.updated_at OR excluded.expires_at > decisions.expires_at
		THEN excluded.expires_at ELSE decisions.expires_at END,
	updated_at = excluded.updated_at,
	origin = excluded.origin,
	reason = excluded.reason,
	finding_id = excluded.finding_id,
	finding_type = excluded.finding_type,
	severity = excluded.severity
RETURNING ` + decisionCols

const insertAudit = `INSERT INTO decision_audit (at, action, target, prefix, lo, hi, origin, reason, finding_id, finding_type, severity, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`

func auditDecision(ctx context.Context, tx DecisionConn, at time.Time, action store.DecisionAction, d *store.Decision) error {
	lo, hi := PrefixRange(d.Prefix)
	_, err := tx.Exec(ctx, insertAudit, decisionMS(at), string(action), store.Text(d.Target), d.Prefix.String(), lo, hi,
		store.Text(d.Origin), store.Text(d.Reason), store.Text(d.FindingID), store.Text(string(d.FindingType)),
		float64(d.Severity), decisionMS(d.ExpiresAt))
	if err != nil {
		return fmt.Errorf("audit %s %s %s: %w", action, d.Target, d.Prefix, err)
	}
	return nil
}

// PutDecisions implements store.Decisions.
func (s Decisions) PutDecisions(ctx context.Context, ds []store.Decision, now time.Time) ([]store.DecisionChange, error) {
	in := make([]store.Decision, len(ds))
	for i := range ds {
		in[i] = ds[i]
		in[i].Prefix = NormalPrefix(in[i].Prefix)
		if err := store.CheckDecision(&in[i], now); err != nil {
			return nil, fmt.Errorf("put decisions: %w", err)
		}
	}
	var out []store.DecisionChange
	err := s.W.Tx(ctx, func(tx DecisionConn) error {
		out = out[:0]
		for i := range in {
			d := &in[i]
			lo, hi := PrefixRange(d.Prefix)
			var got store.Decision
			err := tx.Query(ctx, upsertDecision, []any{store.Text(d.Target), d.Prefix.String(), lo, hi, d.Prefix.Bits(),
				store.Text(d.Origin), store.Text(d.Reason), store.Text(d.FindingID), store.Text(string(d.FindingType)),
				float64(d.Severity), decisionMS(now), decisionMS(d.ExpiresAt)},
				func(scan func(...any) error) error {
					var err error
					got, err = scanDecision(scan)
					return err
				})
			if err != nil {
				return fmt.Errorf("decision %s %s: %w", d.Target, d.Prefix, err)
			}
			c := store.DecisionChange{Decision: got, Created: got.Hits == 1}
			action := store.DecisionExtend
			if c.Created {
				action = store.DecisionAdd
			}
			if err := auditDecision(ctx, tx, now, action, &got); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("put decisions: %w", err)
	}
	return out, nil
}

// DeleteDecisions implements store.Decisions.
func (s Decisions) DeleteDecisions(ctx context.Context, keys []store.DecisionKey, action store.DecisionAction, reason string, now time.Time) ([]store.Decision, error) {
	var out []store.Decision
	err := s.W.Tx(ctx, func(tx DecisionConn) error {
		out = out[:0]
		for _, k := range keys {
			if !k.Prefix.IsValid() {
				return fmt.Errorf("%w: decision key %q without a valid prefix", store.ErrInvalid, k.Target)
			}
			// The audit entries are written after the rows are read: a
			// connection runs one statement at a time.
			err := tx.Query(ctx, "DELETE FROM decisions WHERE target = $1 AND prefix = $2 RETURNING "+decisionCols,
				[]any{store.Text(k.Target), NormalPrefix(k.Prefix).String()},
				func(scan func(...any) error) error {
					d, err := scanDecision(scan)
					if err != nil {
						return err
					}
					if reason != "" {
						d.Reason = reason
					}
					out = append(out, d)
					return nil
				})
			if err != nil {
				return fmt.Errorf("decision %s: %w", k, err)
			}
		}
		for i := range out {
			if err := auditDecision(ctx, tx, now, action, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete decisions: %w", err)
	}
	return out, nil
}

// ExpireDecisions implements store.Decisions.
func (s Decisions) ExpireDecisions(ctx context.Context, now time.Time, limit int) ([]store.Decision, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("expire decisions: %w: limit %d", store.ErrInvalid, limit)
	}
	var out []store.Decision
	err := s.W.Tx(ctx, func(tx DecisionConn) error {
		out = out[:0]
		err := tx.Query(ctx, `DELETE FROM decisions WHERE (target, prefix) IN (
				SELECT target, prefix FROM decisions WHERE expires_at <= $1 ORDER BY expires_at, target, prefix LIMIT $2)
			RETURNING `+decisionCols, []any{decisionMS(now), limit},
			func(scan func(...any) error) error {
				d, err := scanDecision(scan)
				if err != nil {
					return err
				}
				out = append(out, d)
				return nil
			})
		if err != nil {
			return err
		}
		sortDecisionsSoonest(out)
		for i := range out {
			if err := auditDecision(ctx, tx, now, store.DecisionExpire, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expire decisions: %w", err)
	}
	return out, nil
}

func sortDecisionsSoonest(ds []store.Decision) {
	slices.SortFunc(ds, func(a, b store.Decision) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.Target, b.Target), a.Prefix.Addr().Compare(b.Prefix.Addr()),
			cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()))
	})
}

// overlaps adds the condition "the row's range overlaps p".
func overlapsDecision(args *Args, p netip.Prefix) string {
	lo, hi := PrefixRange(NormalPrefix(p))
	return "lo <= " + args.Add(hi) + " AND hi >= " + args.Add(lo)
}

// ListDecisions implements store.Decisions.
func (s Decisions) ListDecisions(ctx context.Context, f store.DecisionFilter) ([]store.Decision, error) {
	limit, err := store.CheckLimit(f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	var args Args
	var where []string
	if f.Target != "" {
		where = append(where, "target = "+args.Add(store.Text(f.Target)))
	}
	if f.Contains.IsValid() {
		where = append(where, overlapsDecision(&args, f.Contains))
	}
	if !f.ActiveAt.IsZero() {
		where = append(where, "expires_at > "+args.Add(decisionMS(f.ActiveAt)))
	}
	if f.After != nil {
		if !f.After.Prefix.IsValid() {
			return nil, fmt.Errorf("list decisions: %w: after a key without a valid prefix", store.ErrInvalid)
		}
		p := NormalPrefix(f.After.Prefix)
		lo, _ := PrefixRange(p)
		where = append(where, "(target, lo, bits) > ("+args.Add(store.Text(f.After.Target))+", "+args.Add(lo)+", "+args.Add(p.Bits())+")")
	}
	q := "SELECT " + decisionCols + " FROM decisions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY target, lo, bits LIMIT " + args.Add(limit)
	var out []store.Decision
	err = s.R.Query(ctx, q, args.List, func(scan func(...any) error) error {
		d, err := scanDecision(scan)
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	return out, nil
}

// CountDecisions implements store.Decisions.
func (s Decisions) CountDecisions(ctx context.Context, target string, now time.Time) (int, error) {
	var n int64
	err := s.R.Query(ctx, "SELECT count(*) FROM decisions WHERE target = $1 AND expires_at > $2",
		[]any{store.Text(target), decisionMS(now)}, func(scan func(...any) error) error { return scan(&n) })
	if err != nil {
		return 0, fmt.Errorf("count decisions of %s: %w", target, err)
	}
	return int(n), nil
}

// OldestDecisions implements store.Decisions.
func (s Decisions) OldestDecisions(ctx context.Context, target string, now time.Time, n int) ([]store.Decision, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []store.Decision
	err := s.R.Query(ctx, "SELECT "+decisionCols+` FROM decisions WHERE target = $1 AND expires_at > $2
		ORDER BY expires_at, created_at, lo, bits LIMIT $3`, []any{store.Text(target), decisionMS(now), n},
		func(scan func(...any) error) error {
			d, err := scanDecision(scan)
			if err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("oldest decisions of %s: %w", target, err)
	}
	return out, nil
}

// AuditDecisions implements store.Decisions.
func (s Decisions) AuditDecisions(ctx context.Context, entries []store.DecisionAudit) error {
	for i := range entries {
		if !entries[i].Prefix.IsValid() || entries[i].Action == "" {
			return fmt.Errorf("audit decisions: %w: entry %d needs an action and a valid prefix", store.ErrInvalid, i)
		}
	}
	err := s.W.Tx(ctx, func(tx DecisionConn) error {
		for i := range entries {
			e := &entries[i]
			d := store.Decision{Target: e.Target, Prefix: NormalPrefix(e.Prefix), Origin: e.Origin, Reason: e.Reason,
				FindingID: e.FindingID, FindingType: e.FindingType, Severity: e.Severity, ExpiresAt: e.ExpiresAt}
			if err := auditDecision(ctx, tx, e.At, e.Action, &d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit decisions: %w", err)
	}
	return nil
}

// ListDecisionAudit implements store.Decisions.
func (s Decisions) ListDecisionAudit(ctx context.Context, f store.DecisionAuditFilter) ([]store.DecisionAudit, error) {
	limit, err := store.CheckLimit(f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list decision audit: %w", err)
	}
	var args Args
	var where []string
	if f.Target != "" {
		where = append(where, "target = "+args.Add(store.Text(f.Target)))
	}
	if f.Contains.IsValid() {
		where = append(where, overlapsDecision(&args, f.Contains))
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+args.Add(decisionMS(f.Since)))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < "+args.Add(f.BeforeID))
	}
	q := "SELECT id, at, action, target, prefix, origin, reason, finding_id, finding_type, severity, expires_at FROM decision_audit"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + args.Add(limit)
	var out []store.DecisionAudit
	err = s.R.Query(ctx, q, args.List, func(scan func(...any) error) error {
		var e store.DecisionAudit
		var at, expires int64
		var action, prefix, ftype string
		var sev float64
		if err := scan(&e.ID, &at, &action, &e.Target, &prefix, &e.Origin, &e.Reason, &e.FindingID, &ftype, &sev, &expires); err != nil {
			return err
		}
		p, err := netip.ParsePrefix(prefix)
		if err != nil {
			return fmt.Errorf("audit entry %d: stored prefix %q: %w", e.ID, prefix, err)
		}
		e.At, e.Action, e.Prefix, e.FindingType, e.Severity, e.ExpiresAt =
			decisionTime(at), store.DecisionAction(action), p, finding.Type(ftype), finding.Severity(sev), decisionTime(expires)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list decision audit: %w", err)
	}
	return out, nil
}

// DeleteDecisionAuditBefore implements store.Decisions.
func (s Decisions) DeleteDecisionAuditBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.W.Tx(ctx, func(tx DecisionConn) error {
		var err error
		n, err = tx.Exec(ctx, "DELETE FROM decision_audit WHERE at < $1", decisionMS(t))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete decision audit before %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}
