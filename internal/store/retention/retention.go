// Package retention forgets findings past their age: a background component that
// deletes, every so often, the findings last updated longer ago than MaxAge
// (GuardDuty keeps findings 90 days).
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Config configures Retention.
type Config struct {
	// MaxAge is how long a finding is kept after its last update (updatedAt);
	// GuardDuty keeps findings 90 days.
	MaxAge time.Duration `yaml:"max_age"`
	// Every is how often old findings are deleted.
	Every time.Duration `yaml:"every"`
}

// DefaultConfig returns GuardDuty's 90 days, checked hourly.
func DefaultConfig() Config {
	return Config{MaxAge: 90 * 24 * time.Hour, Every: time.Hour}
}

// Deleter is the part of a store.Store that Retention uses.
type Deleter interface {
	DeleteOlderThan(ctx context.Context, t finding.Time) (int64, error)
}

// Deps are Retention's dependencies.
type Deps struct {
	Store Deleter
	// Log receives a line per sweep that deleted something, and errors; nil
	// means slog.Default().
	Log *slog.Logger
	// Now is the clock retention measures age against; nil means time.Now.
	// Findings carry event time, so a replay of old logs that must keep its
	// findings passes the replay's event-time clock here.
	Now func() time.Time
}

// Retention deletes findings older than MaxAge in the background.
type Retention struct {
	cfg  Config
	deps Deps
}

// New returns an inert Retention; Run starts it. Zero config fields
// take their defaults.
func New(cfg Config, deps Deps) (*Retention, error) {
	def := DefaultConfig()
	if cfg.MaxAge == 0 {
		cfg.MaxAge = def.MaxAge
	}
	if cfg.Every == 0 {
		cfg.Every = def.Every
	}
	switch {
	case cfg.MaxAge < 0:
		return nil, fmt.Errorf("retention: max_age %s is negative", cfg.MaxAge)
	case cfg.Every < 0:
		return nil, fmt.Errorf("retention: every %s is negative", cfg.Every)
	case deps.Store == nil:
		return nil, errors.New("retention: no store")
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Retention{cfg: cfg, deps: deps}, nil
}

// Sweep deletes the findings last updated more than MaxAge ago, once, and
// returns how many it deleted.
func (r *Retention) Sweep(ctx context.Context) (int64, error) {
	cutoff := finding.TimeOf(r.deps.Now().Add(-r.cfg.MaxAge))
	n, err := r.deps.Store.DeleteOlderThan(ctx, cutoff)
	if err != nil {
		return n, fmt.Errorf("retention: %w", err)
	}
	if n > 0 {
		r.deps.Log.Info("retention: deleted old findings", "deleted", n, "updated_before", cutoff.String())
	}
	return n, nil
}

// Run sweeps at once and then every Every until ctx is cancelled, and returns nil
// then. A failed sweep is logged and retried at the next tick: the store may be
// briefly unavailable, and old findings can wait.
func (r *Retention) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Every)
	defer t.Stop()
	for {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.deps.Log.Error("retention sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
