package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/store"
)

// listsReloader keeps the threat and trusted lists detection uses current
// with the lists kept in the store — created, changed, activated,
// deactivated and deleted through the API — without a restart.
//
// The detection engine (and the responder) are given one live intel set
// (intel.NewLiveSet) at start; a reload builds a new set from the lists of
// files and the built-in ones, then the store's active lists (api.LoadLists),
// and swaps it in whole (intel.Set.Replace): the engine's workers see it at
// their next lookup, with one atomic load and no lock. A reload runs at start
// (before the pipeline), at once when the API says a list changed (Changed),
// and when a poll of the lists' versions every pollInterval sees a change made
// elsewhere (another vigil serve on the same PostgreSQL store). Reloads run on
// one goroutine; a reload that fails keeps the set in effect and is retried
// at the next poll.
type listsReloader struct {
	st     store.Admin
	files  []*intel.List // built-in and file lists, in effect whatever the store holds
	set    *intel.Set    // the live set
	limits api.Limits
	log    *slog.Logger
	poll   time.Duration
	kick   chan struct{}

	mu      sync.Mutex
	version string // versions of the store's lists in effect (listVersions)

	reloads *prometheus.CounterVec
	entries *prometheus.GaugeVec
}

// listsPollInterval is how often the store's lists are checked for changes
// made elsewhere; the API's own changes are applied at once.
const listsPollInterval = 10 * time.Second

func newListsReloader(st store.Admin, files []*intel.List, limits api.Limits, log *slog.Logger, reg prometheus.Registerer) *listsReloader {
	r := &listsReloader{st: st, files: files, set: intel.NewLiveSet(intel.NewSet(files...)), limits: limits, log: log,
		poll: listsPollInterval, kick: make(chan struct{}, 1),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_intel_reloads_total",
			Help: "Reloads of the threat and trusted lists detection uses, by result (ok, error, unchanged)."}, []string{"result"}),
		entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_intel_entries",
			Help: "Entries of the threat and trusted lists in effect, by kind."}, []string{"kind"}),
	}
	reg.MustRegister(r.reloads, r.entries)
	r.count()
	return r
}

// Set returns the live set to give the engine and the responder.
func (r *listsReloader) Set() *intel.Set { return r.set }

// Changed asks for a reload soon; it never blocks (the API calls it from a
// request's goroutine).
func (r *listsReloader) Changed() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run reloads on Changed and on each poll until ctx ends.
func (r *listsReloader) Run(ctx context.Context) error {
	t := time.NewTicker(r.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-t.C:
		}
		if err := r.reload(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("reload threat and trusted lists; the lists in effect stay", "err", err)
		}
	}
}

// reload reads the store's lists and swaps in a new set if their versions
// changed since the last reload.
func (r *listsReloader) reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ls, err := r.st.ListLists(ctx, "")
	if err != nil {
		r.reloads.WithLabelValues("error").Inc()
		return fmt.Errorf("list the stored lists: %w", err)
	}
	version := listVersions(ls)
	if version == r.version {
		r.reloads.WithLabelValues("unchanged").Inc()
		return nil
	}
	stored, problems, err := api.LoadLists(ctx, r.st, r.limits)
	if err != nil {
		r.reloads.WithLabelValues("error").Inc()
		return fmt.Errorf("read the stored lists: %w", err)
	}
	for _, p := range problems {
		r.log.Warn("a stored list is left out of detection", "problem", p)
	}
	if err := r.set.Replace(intel.NewSet(append(append([]*intel.List(nil), r.files...), stored...)...)); err != nil {
		return err
	}
	r.version = version
	r.reloads.WithLabelValues("ok").Inc()
	threat, trusted := r.count()
	r.log.Info("threat and trusted lists in effect", "stored_lists", len(stored), "threat_entries", threat, "trusted_entries", trusted)
	return nil
}

// count sets the entries gauge from the set in effect.
func (r *listsReloader) count() (threat, trusted int) {
	threat, trusted = r.set.Len()
	r.entries.WithLabelValues("threat").Set(float64(threat))
	r.entries.WithLabelValues("trusted").Set(float64(trusted))
	return threat, trusted
}

// listVersions identifies the content in effect of the store's lists: the
// active ones, by ID, version and digest.
func listVersions(ls []store.IntelList) string {
	var b strings.Builder
	for _, l := range ls {
		if l.Status == store.ListActive {
			fmt.Fprintf(&b, "%s/%d/%s;", l.ID, l.Version, l.SHA256)
		}
	}
	return b.String()
}
