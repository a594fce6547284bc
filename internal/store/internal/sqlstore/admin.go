package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// AdminTx is what the admin statements need of a transaction (or, for reads, of a
// connection pool): the SQL is the common subset of SQLite and PostgreSQL with
// $n parameters, as for findings.
type AdminTx interface {
	// Exec runs a statement and returns the rows it affected.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	// Query runs a query and calls row for each result row.
	Query(ctx context.Context, sql string, args []any, row func(Scanner) error) error
}

// Admin implements store.Admin for both SQL stores. The dialect gives it
// transactions: Write must serialise admin writes with one another (SQLite's
// single writer does; PostgreSQL takes an advisory lock), which is what makes
// the check-then-insert of names and limits safe.
type Admin struct {
	// Write runs fn in a write transaction and commits it when fn returns nil.
	// It may run fn again after a retryable abort.
	Write func(ctx context.Context, fn func(AdminTx) error) error
	// Read runs fn over committed data.
	Read func(ctx context.Context, fn func(AdminTx) error) error
	// Now is the clock of CreatedAt, UpdatedAt and audit times; nil means
	// time.Now.
	Now func() time.Time
}

var _ store.Admin = (*Admin)(nil)

func (a *Admin) now() finding.Time {
	if a.Now != nil {
		return finding.TimeOf(a.Now())
	}
	return finding.TimeOf(time.Now())
}

// NewAdminID returns a random ID of n bytes as hex.
func NewAdminID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // rand.Read does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// ---- audit ----

// appendAudit appends an event inside tx. before and after are marshalled to JSON
// (nil for none).
func appendAudit(ctx context.Context, tx AdminTx, at finding.Time, actor store.Actor, action string, rt store.AuditResource, id string, before, after any, blinding bool) error {
	enc := func(v any) (string, error) {
		if v == nil {
			return "", nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	}
	b, err := enc(before)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	af, err := enc(after)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	ua := actor.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (at, actor, token_id, address, user_agent, action, resource_type, resource_id, before_json, after_json, blinding)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		int64(at), store.Text(actor.Name), store.Text(actor.TokenID), store.Text(actor.Address), store.Text(ua),
		action, string(rt), store.Text(id), b, af, blinding)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// ListAudit implements store.Admin.
func (a *Admin) ListAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	limit, err := store.CheckLimit(q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	var args Args
	where := "1 = 1"
	if q.Before > 0 {
		where += " AND id < " + args.Add(q.Before)
	}
	if q.ResourceType != "" {
		where += " AND resource_type = " + args.Add(string(q.ResourceType))
	}
	if q.ResourceID != "" {
		where += " AND resource_id = " + args.Add(store.Text(q.ResourceID))
	}
	if q.BlindingOnly {
		where += " AND blinding = " + args.Add(true)
	}
	sql := `SELECT id, at, actor, token_id, address, user_agent, action, resource_type, resource_id, before_json, after_json, blinding
		FROM audit_log WHERE ` + where + " ORDER BY id DESC LIMIT " + args.Add(int64(limit))
	var out []store.AuditEvent
	err = a.Read(ctx, func(tx AdminTx) error {
		return tx.Query(ctx, sql, args.List, func(r Scanner) error {
			var e store.AuditEvent
			var at int64
			var rt, before, after string
			if err := r.Scan(&e.ID, &at, &e.Actor.Name, &e.Actor.TokenID, &e.Actor.Address, &e.Actor.UserAgent,
				&e.Action, &rt, &e.ResourceID, &before, &after, &e.Blinding); err != nil {
				return err
			}
			e.Time, e.ResourceType = finding.Time(at), store.AuditResource(rt)
			if before != "" {
				e.Before = json.RawMessage(before)
			}
			if after != "" {
				e.After = json.RawMessage(after)
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return out, nil
}

// ---- filters ----

const filterColumns = "name, description, action, filter_rank, criteria, expression, tags, created_at, updated_at, version"

func scanFilter(r Scanner) (store.Filter, error) {
	var f store.Filter
	var action, crit, tags string
	var created, updated int64
	if err := r.Scan(&f.Name, &f.Description, &action, &f.Rank, &crit, &f.Expression, &tags, &created, &updated, &f.Version); err != nil {
		return f, err
	}
	f.Action, f.CreatedAt, f.UpdatedAt = store.FilterAction(action), finding.Time(created), finding.Time(updated)
	if err := json.Unmarshal([]byte(crit), &f.Criteria); err != nil {
		return f, fmt.Errorf("filter %s: stored criteria: %w", f.Name, err)
	}
	if err := decodeTags(tags, &f.Tags); err != nil {
		return f, fmt.Errorf("filter %s: %w", f.Name, err)
	}
	return f, nil
}

func encodeTags(tags map[string]string) (string, error) {
	if len(tags) == 0 {
		return "{}", nil
	}
	clean := make(map[string]string, len(tags))
	for k, v := range tags {
		clean[store.Text(k)] = store.Text(v)
	}
	b, err := json.Marshal(clean)
	return string(b), err
}

func decodeTags(s string, tags *map[string]string) error {
	*tags = nil
	if s == "" || s == "{}" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), tags); err != nil {
		return fmt.Errorf("stored tags: %w", err)
	}
	return nil
}

// cleanFilter returns f with its free text as the store keeps it.
func cleanFilter(f store.Filter) store.Filter {
	f.Description = store.Text(f.Description)
	f.Expression = store.Text(f.Expression)
	return f
}

func getFilter(ctx context.Context, tx AdminTx, name string) (store.Filter, error) {
	var f store.Filter
	found := false
	err := tx.Query(ctx, "SELECT "+filterColumns+" FROM filters WHERE name = $1", []any{store.Text(name)}, func(r Scanner) error {
		var err error
		f, err = scanFilter(r)
		found = true
		return err
	})
	if err != nil {
		return f, err
	}
	if !found {
		return f, fmt.Errorf("%w: filter %q", store.ErrNotFound, name)
	}
	return f, nil
}

func writeFilter(ctx context.Context, tx AdminTx, f *store.Filter, insert bool) error {
	crit, err := json.Marshal(f.Criteria)
	if err != nil {
		return err
	}
	tags, err := encodeTags(f.Tags)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.Exec(ctx, "INSERT INTO filters ("+filterColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
			f.Name, f.Description, string(f.Action), int64(f.Rank), string(crit), f.Expression, tags,
			int64(f.CreatedAt), int64(f.UpdatedAt), f.Version)
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE filters SET description = $1, action = $2, filter_rank = $3, criteria = $4, expression = $5,
		tags = $6, updated_at = $7, version = $8 WHERE name = $9`,
		f.Description, string(f.Action), int64(f.Rank), string(crit), f.Expression, tags, int64(f.UpdatedAt), f.Version, f.Name)
	return err
}

// countRows returns the result of a count query.
func countRows(ctx context.Context, tx AdminTx, sql string, args ...any) (int, error) {
	var n int64
	err := tx.Query(ctx, sql, args, func(r Scanner) error { return r.Scan(&n) })
	return int(n), err
}

// CreateFilter implements store.Admin.
func (a *Admin) CreateFilter(ctx context.Context, f store.Filter, max int, actor store.Actor) (store.Filter, error) {
	if err := f.Check(); err != nil {
		return store.Filter{}, fmt.Errorf("create filter: %w", err)
	}
	f = cleanFilter(f)
	err := a.Write(ctx, func(tx AdminTx) error {
		if _, err := getFilter(ctx, tx, f.Name); err == nil {
			return fmt.Errorf("%w: filter %q", store.ErrExists, f.Name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if max > 0 {
			n, err := countRows(ctx, tx, "SELECT count(*) FROM filters")
			if err != nil {
				return err
			}
			if n >= max {
				return fmt.Errorf("%w: %d filters exist, the limit is %d", store.ErrLimitExceeded, n, max)
			}
		}
		f.CreatedAt = a.now()
		f.UpdatedAt, f.Version = f.CreatedAt, 1
		if err := writeFilter(ctx, tx, &f, true); err != nil {
			return err
		}
		return appendAudit(ctx, tx, f.CreatedAt, actor, "CreateFilter", store.AuditResourceFilter, f.Name, nil, f, store.FilterBlinds(nil, &f))
	})
	if err != nil {
		return store.Filter{}, fmt.Errorf("create filter %s: %w", f.Name, err)
	}
	return f, nil
}

// GetFilter implements store.Admin.
func (a *Admin) GetFilter(ctx context.Context, name string) (store.Filter, error) {
	var f store.Filter
	err := a.Read(ctx, func(tx AdminTx) error {
		var err error
		f, err = getFilter(ctx, tx, name)
		return err
	})
	if err != nil {
		return store.Filter{}, fmt.Errorf("get filter: %w", err)
	}
	return f, nil
}

// UpdateFilter implements store.Admin.
func (a *Admin) UpdateFilter(ctx context.Context, name string, update func(*store.Filter) error, actor store.Actor) (before, after store.Filter, err error) {
	err = a.Write(ctx, func(tx AdminTx) error {
		var err error
		if before, err = getFilter(ctx, tx, name); err != nil {
			return err
		}
		after = before
		after.Tags = cloneTags(before.Tags)
		if err := update(&after); err != nil {
			return err
		}
		after.Name, after.CreatedAt = before.Name, before.CreatedAt
		if err := after.Check(); err != nil {
			return err
		}
		after = cleanFilter(after)
		after.UpdatedAt, after.Version = max(a.now(), before.UpdatedAt), before.Version+1
		if err := writeFilter(ctx, tx, &after, false); err != nil {
			return err
		}
		return appendAudit(ctx, tx, after.UpdatedAt, actor, "UpdateFilter", store.AuditResourceFilter, name, before, after, store.FilterBlinds(&before, &after))
	})
	if err != nil {
		return store.Filter{}, store.Filter{}, fmt.Errorf("update filter %s: %w", name, err)
	}
	return before, after, nil
}

func cloneTags(t map[string]string) map[string]string {
	if t == nil {
		return nil
	}
	c := make(map[string]string, len(t))
	for k, v := range t {
		c[k] = v
	}
	return c
}

// DeleteFilter implements store.Admin.
func (a *Admin) DeleteFilter(ctx context.Context, name string, actor store.Actor) (store.Filter, error) {
	var f store.Filter
	err := a.Write(ctx, func(tx AdminTx) error {
		var err error
		if f, err = getFilter(ctx, tx, name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM filters WHERE name = $1", f.Name); err != nil {
			return err
		}
		return appendAudit(ctx, tx, a.now(), actor, "DeleteFilter", store.AuditResourceFilter, name, f, nil, store.FilterBlinds(&f, nil))
	})
	if err != nil {
		return store.Filter{}, fmt.Errorf("delete filter %s: %w", name, err)
	}
	return f, nil
}

// ListFilters implements store.Admin.
func (a *Admin) ListFilters(ctx context.Context) ([]store.Filter, error) {
	var out []store.Filter
	err := a.Read(ctx, func(tx AdminTx) error {
		return tx.Query(ctx, "SELECT "+filterColumns+" FROM filters ORDER BY filter_rank, name", nil, func(r Scanner) error {
			f, err := scanFilter(r)
			out = append(out, f)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list filters: %w", err)
	}
	return out, nil
}

// ---- lists ----

const listColumns = "id, kind, name, format, location, status, tags, entries, size, sha256, created_at, updated_at, version"

func scanList(r Scanner) (store.IntelList, error) {
	var l store.IntelList
	var kind, status, tags string
	var entries, created, updated int64
	if err := r.Scan(&l.ID, &kind, &l.Name, &l.Format, &l.Location, &status, &tags, &entries, &l.Size, &l.SHA256,
		&created, &updated, &l.Version); err != nil {
		return l, err
	}
	l.Kind, l.Status, l.Entries = store.ListKind(kind), store.ListStatus(status), int(entries)
	l.CreatedAt, l.UpdatedAt = finding.Time(created), finding.Time(updated)
	if err := decodeTags(tags, &l.Tags); err != nil {
		return l, fmt.Errorf("list %s: %w", l.ID, err)
	}
	return l, nil
}

func getList(ctx context.Context, tx AdminTx, id string) (store.IntelList, error) {
	var l store.IntelList
	found := false
	err := tx.Query(ctx, "SELECT "+listColumns+" FROM intel_lists WHERE id = $1", []any{store.Text(id)}, func(r Scanner) error {
		var err error
		l, err = scanList(r)
		found = true
		return err
	})
	if err != nil {
		return l, err
	}
	if !found {
		return l, fmt.Errorf("%w: list %q", store.ErrNotFound, id)
	}
	return l, nil
}

// nameTaken reports whether a list other than id is named name.
func nameTaken(ctx context.Context, tx AdminTx, name, id string) (bool, error) {
	n, err := countRows(ctx, tx, "SELECT count(*) FROM intel_lists WHERE name = $1 AND id <> $2", name, id)
	return n > 0, err
}

func contentDigest(content []byte) string {
	h := sha256.Sum256(content)
	return hex.EncodeToString(h[:])
}

// CreateList implements store.Admin.
func (a *Admin) CreateList(ctx context.Context, l store.IntelList, content []byte, max int, actor store.Actor) (store.IntelList, error) {
	if err := l.Check(); err != nil {
		return store.IntelList{}, fmt.Errorf("create list: %w", err)
	}
	if content == nil {
		content = []byte{}
	}
	l.ID = NewAdminID(16)
	l.Location = store.Text(l.Location)
	l.Size, l.SHA256 = int64(len(content)), contentDigest(content)
	err := a.Write(ctx, func(tx AdminTx) error {
		if taken, err := nameTaken(ctx, tx, l.Name, l.ID); err != nil {
			return err
		} else if taken {
			return fmt.Errorf("%w: a list is named %q", store.ErrExists, l.Name)
		}
		if max > 0 {
			n, err := countRows(ctx, tx, "SELECT count(*) FROM intel_lists WHERE kind = $1", string(l.Kind))
			if err != nil {
				return err
			}
			if n >= max {
				return fmt.Errorf("%w: %d %s lists exist, the limit is %d", store.ErrLimitExceeded, n, l.Kind, max)
			}
		}
		tags, err := encodeTags(l.Tags)
		if err != nil {
			return err
		}
		l.CreatedAt = a.now()
		l.UpdatedAt, l.Version = l.CreatedAt, 1
		if _, err := tx.Exec(ctx, "INSERT INTO intel_lists ("+listColumns+", content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
			l.ID, string(l.Kind), l.Name, l.Format, l.Location, string(l.Status), tags, int64(l.Entries), l.Size, l.SHA256,
			int64(l.CreatedAt), int64(l.UpdatedAt), l.Version, content); err != nil {
			return err
		}
		return appendAudit(ctx, tx, l.CreatedAt, actor, createAction(l.Kind), store.AuditResourceList, l.ID, nil, l, store.ListBlinds(nil, &l))
	})
	if err != nil {
		return store.IntelList{}, fmt.Errorf("create list %s: %w", l.Name, err)
	}
	return l, nil
}

// The API's operation names, by list kind, for the audit log.
func createAction(k store.ListKind) string {
	if k == store.ListTrusted {
		return "CreateIPSet"
	}
	return "CreateThreatIntelSet"
}

func updateAction(k store.ListKind) string {
	if k == store.ListTrusted {
		return "UpdateIPSet"
	}
	return "UpdateThreatIntelSet"
}

func deleteAction(k store.ListKind) string {
	if k == store.ListTrusted {
		return "DeleteIPSet"
	}
	return "DeleteThreatIntelSet"
}

// GetList implements store.Admin.
func (a *Admin) GetList(ctx context.Context, id string) (store.IntelList, error) {
	var l store.IntelList
	err := a.Read(ctx, func(tx AdminTx) error {
		var err error
		l, err = getList(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.IntelList{}, fmt.Errorf("get list: %w", err)
	}
	return l, nil
}

// ListContent implements store.Admin.
func (a *Admin) ListContent(ctx context.Context, id string) ([]byte, error) {
	var content []byte
	found := false
	err := a.Read(ctx, func(tx AdminTx) error {
		return tx.Query(ctx, "SELECT content FROM intel_lists WHERE id = $1", []any{store.Text(id)}, func(r Scanner) error {
			found = true
			return r.Scan(&content)
		})
	})
	if err == nil && !found {
		err = fmt.Errorf("%w: list %q", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("get list content: %w", err)
	}
	return content, nil
}

// UpdateList implements store.Admin.
func (a *Admin) UpdateList(ctx context.Context, id string, update func(*store.IntelList) error, content []byte, actor store.Actor) (before, after store.IntelList, err error) {
	err = a.Write(ctx, func(tx AdminTx) error {
		var err error
		if before, err = getList(ctx, tx, id); err != nil {
			return err
		}
		after = before
		after.Tags = cloneTags(before.Tags)
		if err := update(&after); err != nil {
			return err
		}
		after.ID, after.Kind, after.CreatedAt = before.ID, before.Kind, before.CreatedAt
		if content != nil {
			after.Size, after.SHA256 = int64(len(content)), contentDigest(content)
		} else {
			after.Size, after.SHA256 = before.Size, before.SHA256
		}
		if err := after.Check(); err != nil {
			return err
		}
		after.Location = store.Text(after.Location)
		if after.Name != before.Name {
			if taken, err := nameTaken(ctx, tx, after.Name, id); err != nil {
				return err
			} else if taken {
				return fmt.Errorf("%w: a list is named %q", store.ErrExists, after.Name)
			}
		}
		tags, err := encodeTags(after.Tags)
		if err != nil {
			return err
		}
		after.UpdatedAt, after.Version = max(a.now(), before.UpdatedAt), before.Version+1
		args := []any{after.Name, after.Format, after.Location, string(after.Status), tags, int64(after.Entries), after.Size,
			after.SHA256, int64(after.UpdatedAt), after.Version, after.ID}
		set := "name = $1, format = $2, location = $3, status = $4, tags = $5, entries = $6, size = $7, sha256 = $8, updated_at = $9, version = $10"
		if content != nil {
			set += ", content = $12"
			args = append(args, content)
		}
		if _, err := tx.Exec(ctx, "UPDATE intel_lists SET "+set+" WHERE id = $11", args...); err != nil {
			return err
		}
		return appendAudit(ctx, tx, after.UpdatedAt, actor, updateAction(after.Kind), store.AuditResourceList, id, before, after, store.ListBlinds(&before, &after))
	})
	if err != nil {
		return store.IntelList{}, store.IntelList{}, fmt.Errorf("update list %s: %w", id, err)
	}
	return before, after, nil
}

// DeleteList implements store.Admin.
func (a *Admin) DeleteList(ctx context.Context, id string, actor store.Actor) (store.IntelList, error) {
	var l store.IntelList
	err := a.Write(ctx, func(tx AdminTx) error {
		var err error
		if l, err = getList(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM intel_lists WHERE id = $1", l.ID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, a.now(), actor, deleteAction(l.Kind), store.AuditResourceList, id, l, nil, store.ListBlinds(&l, nil))
	})
	if err != nil {
		return store.IntelList{}, fmt.Errorf("delete list %s: %w", id, err)
	}
	return l, nil
}

// ListLists implements store.Admin.
func (a *Admin) ListLists(ctx context.Context, kind store.ListKind) ([]store.IntelList, error) {
	sql, args := "SELECT "+listColumns+" FROM intel_lists ORDER BY name", []any(nil)
	if kind != "" {
		sql, args = "SELECT "+listColumns+" FROM intel_lists WHERE kind = $1 ORDER BY name", []any{string(kind)}
	}
	var out []store.IntelList
	err := a.Read(ctx, func(tx AdminTx) error {
		return tx.Query(ctx, sql, args, func(r Scanner) error {
			l, err := scanList(r)
			out = append(out, l)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list lists: %w", err)
	}
	return out, nil
}

// ---- tokens ----

const tokenColumns = "id, name, scope, hash, created_at, expires_at, last_used_at, revoked_at"

func scanToken(r Scanner) (store.Token, error) {
	var t store.Token
	var scope string
	var created, expires, used, revoked int64
	if err := r.Scan(&t.ID, &t.Name, &scope, &t.Hash, &created, &expires, &used, &revoked); err != nil {
		return t, err
	}
	t.Scope = store.Scope(scope)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = finding.Time(created), finding.Time(expires), finding.Time(used), finding.Time(revoked)
	return t, nil
}

func findTokens(ctx context.Context, tx AdminTx, where string, args ...any) ([]store.Token, error) {
	var out []store.Token
	err := tx.Query(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE "+where+" ORDER BY name", args, func(r Scanner) error {
		t, err := scanToken(r)
		out = append(out, t)
		return err
	})
	return out, err
}

// CreateToken implements store.Admin.
func (a *Admin) CreateToken(ctx context.Context, t store.Token, actor store.Actor) (store.Token, error) {
	if err := t.Check(); err != nil {
		return store.Token{}, fmt.Errorf("create token: %w", err)
	}
	t.ID = NewAdminID(8)
	t.RevokedAt, t.LastUsedAt = 0, 0
	err := a.Write(ctx, func(tx AdminTx) error {
		ts, err := findTokens(ctx, tx, "name = $1", t.Name)
		if err != nil {
			return err
		}
		if len(ts) > 0 {
			return fmt.Errorf("%w: a token is named %q (revoked tokens keep their names)", store.ErrExists, t.Name)
		}
		t.CreatedAt = a.now()
		if _, err := tx.Exec(ctx, "INSERT INTO api_tokens ("+tokenColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			t.ID, t.Name, string(t.Scope), t.Hash, int64(t.CreatedAt), int64(t.ExpiresAt), int64(0), int64(0)); err != nil {
			return err
		}
		return appendAudit(ctx, tx, t.CreatedAt, actor, "CreateToken", store.AuditResourceToken, t.ID, nil, t, false)
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return t, nil
}

// TokenByHash implements store.Admin.
func (a *Admin) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	var ts []store.Token
	err := a.Read(ctx, func(tx AdminTx) error {
		var err error
		ts, err = findTokens(ctx, tx, "hash = $1", hash)
		return err
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("find token: %w", err)
	}
	if len(ts) == 0 {
		return store.Token{}, fmt.Errorf("find token: %w: no token has this secret", store.ErrNotFound)
	}
	return ts[0], nil
}

// ListTokens implements store.Admin.
func (a *Admin) ListTokens(ctx context.Context) ([]store.Token, error) {
	var ts []store.Token
	err := a.Read(ctx, func(tx AdminTx) error {
		var err error
		ts, err = findTokens(ctx, tx, "1 = 1")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	for i := range ts {
		ts[i].Hash = nil
	}
	return ts, nil
}

// RevokeToken implements store.Admin.
func (a *Admin) RevokeToken(ctx context.Context, nameOrID string, at finding.Time, actor store.Actor) (store.Token, error) {
	var t store.Token
	err := a.Write(ctx, func(tx AdminTx) error {
		ts, err := findTokens(ctx, tx, "name = $1 OR id = $1", store.Text(nameOrID))
		if err != nil {
			return err
		}
		switch len(ts) {
		case 0:
			return fmt.Errorf("%w: no token is named or has the ID %q", store.ErrNotFound, nameOrID)
		case 1:
		default:
			return fmt.Errorf("%w: %q is the name of one token and the ID of another; give the ID", store.ErrInvalid, nameOrID)
		}
		t = ts[0]
		t.Hash = nil
		if t.RevokedAt != 0 {
			return nil
		}
		before := t
		t.RevokedAt = at
		if _, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2", int64(at), t.ID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, a.now(), actor, "RevokeToken", store.AuditResourceToken, t.ID, before, t, false)
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %s: %w", nameOrID, err)
	}
	return t, nil
}

// TouchToken implements store.Admin.
func (a *Admin) TouchToken(ctx context.Context, id string, at finding.Time) error {
	err := a.Write(ctx, func(tx AdminTx) error {
		_, err := tx.Exec(ctx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1", int64(at), store.Text(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("touch token %s: %w", id, err)
	}
	return nil
}
