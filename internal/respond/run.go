package respond

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/respond/cidr"
	"github.com/vigil-dev/vigil/internal/store"
)

// expireBatch bounds the decisions expired per store call.
const expireBatch = 500

// drainTimeout bounds the last attempt to apply pending changes at shutdown.
const drainTimeout = 5 * time.Second

// minBackoff is the first wait before reconciling a target that failed.
const minBackoff = 2 * time.Second

// Run expires decisions and applies them to the targets until ctx is
// cancelled. At start it expires what is due and reconciles every target with
// the stored decisions. It returns nil after ctx is cancelled (and after one
// last, bounded, attempt to apply pending changes), or an error if called
// twice.
func (r *Responder) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("respond: Run called twice")
	}
	r.expire(ctx)
	for _, t := range r.targets {
		r.reconcile(ctx, t)
	}
	expiry := time.NewTicker(r.cfg.ExpiryInterval)
	defer expiry.Stop()
	house := time.NewTicker(min(time.Second, r.cfg.ReconcileInterval))
	defer house.Stop()
	lastTrim := time.Time{}
	var batch <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
			r.flush(drain)
			cancel()
			return nil
		case <-r.wake:
			if batch == nil {
				batch = time.After(r.cfg.BatchWindow)
			}
		case <-batch:
			batch = nil
			r.flush(ctx)
		case <-expiry.C:
			if r.expire(ctx) > 0 {
				r.flush(ctx) // removals go out at once: a block must not outlive its decision
			}
		case <-house.C:
			now := r.now()
			for _, t := range r.targets {
				if !t.dryRun && !now.Before(t.nextReconcile) {
					r.reconcile(ctx, t)
				}
			}
			if now.Sub(lastTrim) >= time.Hour {
				lastTrim = now
				if n, err := r.deps.Store.DeleteDecisionAuditBefore(ctx, now.Add(-r.cfg.AuditRetention)); err != nil {
					r.storeErrors.Add(1)
					r.log.Warn("respond: trim audit trail", "error", err)
				} else if n > 0 {
					r.log.Info("respond: trimmed audit trail", "entries", n)
				}
			}
		}
	}
}

// expire deletes the decisions due and queues their removal; it returns how
// many it expired.
func (r *Responder) expire(ctx context.Context) int {
	total := 0
	for {
		ds, err := r.deps.Store.ExpireDecisions(ctx, r.now(), expireBatch)
		if err != nil {
			if ctx.Err() == nil {
				r.storeErrors.Add(1)
				r.log.Warn("respond: expire decisions", "error", err)
			}
			return total
		}
		for _, d := range ds {
			r.expired.Add(1)
			r.log.Info("respond: expired", "target", d.Target, "prefix", d.Prefix.String(), "finding", d.FindingID)
		}
		r.enqueue(nil, ds)
		total += len(ds)
		if len(ds) < expireBatch {
			return total
		}
	}
}

// flush applies each target's pending changes: removals, then additions.
func (r *Responder) flush(ctx context.Context) {
	for _, t := range r.targets {
		r.mu.Lock()
		adds, removes := t.adds, t.removes
		if len(adds) == 0 && len(removes) == 0 {
			r.mu.Unlock()
			continue
		}
		t.adds, t.removes = map[netip.Prefix]store.Decision{}, map[netip.Prefix]store.Decision{}
		r.mu.Unlock()
		if len(removes) > 0 {
			ds := sorted(removes)
			if err := t.t.Remove(ctx, ds); err != nil {
				r.failed(t, "remove", ds, err)
			} else {
				t.removed.Add(int64(len(ds)))
				r.log.Debug("respond: removed", "target", t.name, "prefixes", describe(ds))
			}
		}
		if len(adds) > 0 {
			ds := sorted(adds)
			if err := t.t.Add(ctx, ds); err != nil {
				r.failed(t, "add", ds, err)
			} else {
				t.added.Add(int64(len(ds)))
				r.log.Debug("respond: applied", "target", t.name, "prefixes", describe(ds))
			}
		}
	}
}

func sorted(m map[netip.Prefix]store.Decision) []store.Decision {
	ds := slices.Collect(maps.Values(m))
	slices.SortFunc(ds, func(a, b store.Decision) int { return cidr.Compare(a.Prefix, b.Prefix) })
	return ds
}

// failed counts a failed call and schedules a reconcile with backoff.
func (r *Responder) failed(t *target, op string, ds []store.Decision, err error) {
	t.errors.Add(1)
	t.backoff = min(max(2*t.backoff, minBackoff), r.cfg.ReconcileInterval)
	t.nextReconcile = r.now().Add(t.backoff)
	r.log.Warn("respond: target failed", "target", t.name, "op", op, "prefixes", describe(ds), "error", err,
		"retry_in", t.backoff.String())
}

// reconcile makes t hold exactly its active stored decisions.
func (r *Responder) reconcile(ctx context.Context, t *target) {
	if t.dryRun {
		return
	}
	// Pending changes are dropped first: the listing below includes every
	// decision stored before it, and one stored after is queued again.
	r.mu.Lock()
	clear(t.adds)
	clear(t.removes)
	r.mu.Unlock()
	now := r.now()
	var all []store.Decision
	var after *store.DecisionKey
	for {
		ds, err := r.deps.Store.ListDecisions(ctx, store.DecisionFilter{Target: t.name, ActiveAt: now, After: after, Limit: store.MaxLimit})
		if err != nil {
			if ctx.Err() == nil {
				r.storeErrors.Add(1)
				r.failed(t, "reconcile", nil, err)
			}
			return
		}
		for _, d := range ds {
			// Decisions written by hand (vigil decisions add) reach the
			// targets here: they pass the same checks as a rule's.
			if ref := r.Check(d.Prefix); ref != nil {
				r.skip(ref.Reason, 1)
				r.log.Warn("respond: stored decision not applied", "target", t.name, "prefix", d.Prefix.String(), "detail", ref.Detail)
				continue
			}
			all = append(all, d)
		}
		if len(ds) < store.MaxLimit {
			break
		}
		k := ds[len(ds)-1].Key()
		after = &k
	}
	if err := t.t.Reconcile(ctx, all); err != nil {
		if ctx.Err() == nil {
			r.failed(t, "reconcile", all, err)
		}
		return
	}
	t.reconciles.Add(1)
	t.backoff = 0
	t.nextReconcile = r.now().Add(r.cfg.ReconcileInterval)
}

// Handler serves the blocklist targets for serve to mount under a prefix (with
// http.StripPrefix): "<name>" or "<name>.txt" is the plain list of target
// name, "<name>.json" its JSON; the root serves the only blocklist when there
// is one, else an index of their names. Errors are JSON envelopes.
func (r *Responder) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		path := strings.Trim(req.URL.Path, "/")
		if path == "" {
			if len(r.lists) == 1 {
				for _, l := range r.lists {
					l.ServeHTTP(w, req)
				}
				return
			}
			names := slices.Sorted(maps.Keys(r.lists))
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"blocklists": names}})
			return
		}
		name := strings.TrimSuffix(strings.TrimSuffix(path, ".txt"), ".json")
		l, ok := r.lists[name]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": "not_found", "error": "no blocklist named " + name})
			return
		}
		l.ServeHTTP(w, req)
	})
}
