package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/store"
)

// OutboxDB is what the outbox needs of a store's database, so that one
// implementation of store.Outbox serves SQLite and PostgreSQL alike: the SQL is
// common to both (positional $n parameters, ON CONFLICT, integers for times).
type OutboxDB interface {
	// Write runs fn in one write transaction and commits it; the store retries
	// what its database asks to retry (PostgreSQL's deadlock victims).
	Write(ctx context.Context, fn func(OutboxTx) error) error
	// Read runs fn on a connection that sees committed data.
	Read(ctx context.Context, fn func(OutboxTx) error) error
}

// OutboxTx runs statements for the outbox.
type OutboxTx interface {
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	// Query runs a query and calls row for each result row, with a function that
	// scans its columns.
	Query(ctx context.Context, sql string, args []any, row func(scan func(dest ...any) error) error) error
}

// Outbox implements store.Outbox on an OutboxDB.
type Outbox struct {
	DB OutboxDB
}

var _ store.Outbox = Outbox{}

// enqueueRows bounds the rows of one multi-row statement (6 parameters each;
// SQLite takes 32766, PostgreSQL 65535).
const enqueueRows = 200

const enqueueConflict = ` ON CONFLICT (destination, finding_id) DO UPDATE SET
		payload = excluded.payload,
		rev = outbox.rev + 1,
		kind = CASE WHEN excluded.kind = 'new' THEN 'new' ELSE outbox.kind END,
		due_at = CASE WHEN excluded.due_at < outbox.due_at THEN excluded.due_at ELSE outbox.due_at END`

// Enqueue implements store.Outbox. Entries of one call with the same
// destination and finding are folded in Go first (PostgreSQL refuses to update
// a row twice in one statement), then written with multi-row upserts.
func (o Outbox) Enqueue(ctx context.Context, entries []store.OutboxEntry) error {
	for i := range entries {
		if err := checkEntry(&entries[i]); err != nil {
			return fmt.Errorf("enqueue alerts: entry %d: %w", i, err)
		}
	}
	folded := foldEntries(entries)
	if len(folded) == 0 {
		return nil
	}
	err := o.DB.Write(ctx, func(tx OutboxTx) error {
		for lo := 0; lo < len(folded); lo += enqueueRows {
			chunk := folded[lo:min(lo+enqueueRows, len(folded))]
			var args Args
			var sql strings.Builder
			sql.WriteString("INSERT INTO outbox (destination, finding_id, kind, payload, rev, created_at, due_at, attempts, last_error) VALUES ")
			for i, e := range chunk {
				if i > 0 {
					sql.WriteString(", ")
				}
				fmt.Fprintf(&sql, "(%s, %s, %s, %s, 0, %s, %s, 0, '')",
					args.Add(store.Text(e.Destination)), args.Add(store.Text(e.FindingID)), args.Add(string(e.Kind)),
					args.Add(e.Payload), args.Add(ms(e.CreatedAt)), args.Add(ms(e.DueAt)))
			}
			sql.WriteString(enqueueConflict)
			if _, err := tx.Exec(ctx, sql.String(), args.List...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enqueue alerts: %w", err)
	}
	return nil
}

// foldEntries folds entries with the same destination and finding as Enqueue
// folds them into a waiting entry: the latest payload, new if either is new, the
// earlier due time, the first creation time. Order of first appearance is kept.
func foldEntries(entries []store.OutboxEntry) []store.OutboxEntry {
	out := make([]store.OutboxEntry, 0, len(entries))
	at := make(map[[2]string]int, len(entries))
	for _, e := range entries {
		k := [2]string{store.Text(e.Destination), store.Text(e.FindingID)}
		i, seen := at[k]
		if !seen {
			at[k] = len(out)
			out = append(out, e)
			continue
		}
		f := &out[i]
		f.Payload = e.Payload
		if e.Kind == store.OutboxNew {
			f.Kind = store.OutboxNew
		}
		if e.DueAt.Before(f.DueAt) {
			f.DueAt = e.DueAt
		}
	}
	return out
}

func checkEntry(e *store.OutboxEntry) error {
	switch {
	case e.Destination == "":
		return fmt.Errorf("%w: no destination", store.ErrInvalid)
	case len(e.Destination) > store.MaxOutboxName:
		return fmt.Errorf("%w: destination name of %d bytes, longer than %d", store.ErrInvalid, len(e.Destination), store.MaxOutboxName)
	case e.FindingID == "":
		return fmt.Errorf("%w: no finding ID", store.ErrInvalid)
	case len(e.FindingID) > MaxIDLength:
		return fmt.Errorf("%w: finding ID of %d bytes, longer than %d", store.ErrInvalid, len(e.FindingID), MaxIDLength)
	case e.Kind != store.OutboxNew && e.Kind != store.OutboxUpdate:
		return fmt.Errorf("%w: kind %q (want new or update)", store.ErrInvalid, e.Kind)
	case len(e.Payload) > store.MaxOutboxPayload:
		return fmt.Errorf("%w: payload of %d bytes, larger than %d", store.ErrInvalid, len(e.Payload), store.MaxOutboxPayload)
	}
	return nil
}

// NextDue implements store.Outbox.
func (o Outbox) NextDue(ctx context.Context, dest string) (time.Time, bool, error) {
	var n, due int64
	err := o.DB.Read(ctx, func(tx OutboxTx) error {
		return tx.Query(ctx, "SELECT count(*), coalesce(min(due_at), 0) FROM outbox WHERE destination = $1",
			[]any{store.Text(dest)}, func(scan func(...any) error) error { return scan(&n, &due) })
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next alert due for %q: %w", dest, err)
	}
	if n == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(due), true, nil
}

// Due implements store.Outbox.
func (o Outbox) Due(ctx context.Context, dest string, now time.Time, limit int) ([]store.OutboxEntry, error) {
	if limit <= 0 || limit > store.MaxOutboxLimit {
		return nil, fmt.Errorf("alerts due for %q: %w: limit %d outside 1–%d", dest, store.ErrInvalid, limit, store.MaxOutboxLimit)
	}
	var out []store.OutboxEntry
	err := o.DB.Read(ctx, func(tx OutboxTx) error {
		out = out[:0]
		return tx.Query(ctx, `SELECT id, rev, destination, finding_id, kind, payload, created_at, due_at, attempts, last_error
			FROM outbox WHERE destination = $1 AND due_at <= $2 ORDER BY id LIMIT $3`,
			[]any{store.Text(dest), ms(now), limit}, func(scan func(...any) error) error {
				var e store.OutboxEntry
				var kind string
				var created, due int64
				if err := scan(&e.ID, &e.Rev, &e.Destination, &e.FindingID, &kind, &e.Payload, &created, &due, &e.Attempts, &e.LastError); err != nil {
					return err
				}
				e.Kind = store.OutboxKind(kind)
				e.CreatedAt, e.DueAt = time.UnixMilli(created), time.UnixMilli(due)
				out = append(out, e)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("alerts due for %q: %w", dest, err)
	}
	return out, nil
}

// idRows bounds the IDs of one statement: an OR of (id, rev) pairs deeper than
// SQLite's expression depth limit (1000) would be refused.
const idRows = 200

// Ack implements store.Outbox: per chunk, one DELETE of the entries whose
// revision is the delivered one, then one UPDATE that turns those left (folded
// into meanwhile) into updates.
func (o Outbox) Ack(ctx context.Context, dest string, delivered []store.OutboxEntry, updateDue time.Time) error {
	if len(delivered) == 0 {
		return nil
	}
	d := store.Text(dest)
	err := o.DB.Write(ctx, func(tx OutboxTx) error {
		for lo := 0; lo < len(delivered); lo += idRows {
			chunk := delivered[lo:min(lo+idRows, len(delivered))]
			args := Args{List: []any{d}}
			pairs := make([]string, len(chunk))
			ids := make([]int64, len(chunk))
			for i, e := range chunk {
				pairs[i] = "(id = " + args.Add(e.ID) + " AND rev = " + args.Add(e.Rev) + ")"
				ids[i] = e.ID
			}
			n, err := tx.Exec(ctx, "DELETE FROM outbox WHERE destination = $1 AND ("+strings.Join(pairs, " OR ")+")", args.List...)
			if err != nil {
				return err
			}
			if n == int64(len(chunk)) {
				continue
			}
			// Folded into since they were read: what was delivered is older than
			// what is stored, which now waits as an update.
			args = Args{List: []any{d, ms(updateDue)}}
			in := idList(&args, ids)
			if _, err := tx.Exec(ctx, "UPDATE outbox SET kind = 'update', due_at = $2, attempts = 0, last_error = '' WHERE destination = $1 AND id IN ("+in+")",
				args.List...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("acknowledge %d alerts for %q: %w", len(delivered), dest, err)
	}
	return nil
}

// idList adds ids to args and returns their placeholders, comma-separated.
func idList(args *Args, ids []int64) string {
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = args.Add(id)
	}
	return strings.Join(ph, ", ")
}

// Fail implements store.Outbox.
func (o Outbox) Fail(ctx context.Context, dest string, ids []int64, lastErr string) error {
	d, msg := store.Text(dest), clipError(lastErr)
	err := o.DB.Write(ctx, func(tx OutboxTx) error {
		for lo := 0; lo < len(ids); lo += idRows {
			args := Args{List: []any{msg, d}}
			in := idList(&args, ids[lo:min(lo+idRows, len(ids))])
			if _, err := tx.Exec(ctx, "UPDATE outbox SET attempts = attempts + 1, last_error = $1 WHERE destination = $2 AND id IN ("+in+")",
				args.List...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record failed delivery to %q: %w", dest, err)
	}
	return nil
}

// DeadLetter implements store.Outbox.
func (o Outbox) DeadLetter(ctx context.Context, dest string, ids []int64, lastErr string, now time.Time) error {
	d, msg := store.Text(dest), clipError(lastErr)
	err := o.DB.Write(ctx, func(tx OutboxTx) error {
		for lo := 0; lo < len(ids); lo += idRows {
			chunk := ids[lo:min(lo+idRows, len(ids))]
			args := Args{List: []any{ms(now), msg, d}}
			in := idList(&args, chunk)
			if _, err := tx.Exec(ctx, `INSERT INTO outbox_dead (id, destination, finding_id, kind, payload, created_at, dead_at, attempts, last_error)
				SELECT id, destination, finding_id, kind, payload, created_at, $1, attempts, $2 FROM outbox WHERE destination = $3 AND id IN (`+in+`)`,
				args.List...); err != nil {
				return err
			}
			args = Args{List: []any{d}}
			in = idList(&args, chunk)
			if _, err := tx.Exec(ctx, "DELETE FROM outbox WHERE destination = $1 AND id IN ("+in+")", args.List...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("dead-letter %d alerts for %q: %w", len(ids), dest, err)
	}
	return nil
}

// DeadLetters implements store.Outbox.
func (o Outbox) DeadLetters(ctx context.Context, dest string, limit int) ([]store.DeadLetter, error) {
	if limit <= 0 || limit > store.MaxOutboxLimit {
		return nil, fmt.Errorf("dead letters: %w: limit %d outside 1–%d", store.ErrInvalid, limit, store.MaxOutboxLimit)
	}
	var out []store.DeadLetter
	err := o.DB.Read(ctx, func(tx OutboxTx) error {
		out = out[:0]
		return tx.Query(ctx, `SELECT id, destination, finding_id, kind, payload, created_at, dead_at, attempts, last_error
			FROM outbox_dead WHERE $1 = '' OR destination = $1 ORDER BY dead_at DESC, id DESC LIMIT $2`,
			[]any{store.Text(dest), limit}, func(scan func(...any) error) error {
				var d store.DeadLetter
				var kind string
				var created, died int64
				if err := scan(&d.ID, &d.Destination, &d.FindingID, &kind, &d.Payload, &created, &died, &d.Attempts, &d.LastError); err != nil {
					return err
				}
				d.Kind = store.OutboxKind(kind)
				d.CreatedAt, d.DiedAt = time.UnixMilli(created), time.UnixMilli(died)
				out = append(out, d)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}

// Requeue implements store.Outbox.
func (o Outbox) Requeue(ctx context.Context, dest string, now time.Time) (int, error) {
	var n int64
	d := store.Text(dest)
	err := o.DB.Write(ctx, func(tx OutboxTx) error {
		var err error
		n, err = tx.Exec(ctx, `INSERT INTO outbox (destination, finding_id, kind, payload, rev, created_at, due_at, attempts, last_error)
			SELECT destination, finding_id, kind, payload, 0, $1, $1, 0, '' FROM outbox_dead
			WHERE $2 = '' OR destination = $2 ORDER BY id
			ON CONFLICT (destination, finding_id) DO NOTHING`, ms(now), d)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM outbox_dead WHERE $1 = '' OR destination = $1", d)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue dead letters: %w", err)
	}
	return int(n), nil
}

// PurgeDeadLetters implements store.Outbox.
func (o Outbox) PurgeDeadLetters(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := o.DB.Write(ctx, func(tx OutboxTx) error {
		var err error
		n, err = tx.Exec(ctx, "DELETE FROM outbox_dead WHERE dead_at < $1", ms(before))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge dead letters: %w", err)
	}
	return n, nil
}

// Depth implements store.Outbox.
func (o Outbox) Depth(ctx context.Context) (map[string]store.QueueDepth, error) {
	out := make(map[string]store.QueueDepth)
	err := o.DB.Read(ctx, func(tx OutboxTx) error {
		clear(out)
		count := func(sql string, set func(*store.QueueDepth, int64)) error {
			return tx.Query(ctx, sql, nil, func(scan func(...any) error) error {
				var dest string
				var n int64
				if err := scan(&dest, &n); err != nil {
					return err
				}
				q := out[dest]
				set(&q, n)
				out[dest] = q
				return nil
			})
		}
		if err := count("SELECT destination, count(*) FROM outbox GROUP BY destination",
			func(q *store.QueueDepth, n int64) { q.Pending = n }); err != nil {
			return err
		}
		return count("SELECT destination, count(*) FROM outbox_dead GROUP BY destination",
			func(q *store.QueueDepth, n int64) { q.Dead = n })
	})
	if err != nil {
		return nil, fmt.Errorf("outbox depth: %w", err)
	}
	return out, nil
}

// Lease implements store.Outbox.
func (o Outbox) Lease(ctx context.Context, dest, owner string, now, until time.Time) (bool, error) {
	var n int64
	err := o.DB.Write(ctx, func(tx OutboxTx) error {
		var err error
		n, err = tx.Exec(ctx, `INSERT INTO outbox_leases (destination, owner, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (destination) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE outbox_leases.owner = excluded.owner OR outbox_leases.expires_at <= $4`,
			store.Text(dest), store.Text(owner), ms(until), ms(now))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("delivery lease for %q: %w", dest, err)
	}
	return n == 1, nil
}

// ms is t in epoch milliseconds, the unit of the outbox's time columns.
func ms(t time.Time) int64 { return t.UnixMilli() }

// clipError makes an error message storable: valid UTF-8 without NUL, at most
// store.MaxOutboxError bytes (cut at a rune boundary).
func clipError(s string) string {
	s = store.Text(s)
	if len(s) <= store.MaxOutboxError {
		return s
	}
	cut := store.MaxOutboxError
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
