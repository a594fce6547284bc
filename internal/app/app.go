// Package app is vigil serve: it builds every component from the
// configuration (internal/config), starts them in order and stops them in
// reverse.
//
// # Components
//
// A component is anything with Run(ctx) error that blocks until ctx is
// cancelled (the shape every component package has: Config, DefaultConfig,
// explicit Deps, an inert New, a blocking Run). The order, first started, last
// stopped:
//
//	ops        /metrics, /healthz, /readyz (and the blocklists)
//	retention  deletes findings past their age
//	suppress   the suppression rules (loaded before anything is stored)
//	lists      the threat and trusted lists kept in the store, loaded before
//	           detection starts and swapped into it when the API changes them
//	notify     alerts from the outbox
//	export:*   continuous exports from the outbox
//	respond    decisions and their targets
//	api        the HTTP API
//	pipeline   sources → detection → store, with checkpoints
//
// So on SIGTERM the sources stop first, the pipeline commits what they read
// (detection's queues drained), then the API stops taking requests, the
// responder, exporters and notifiers finish what they are sending (what they
// have not sent stays in the store's outbox for the next start), and the store
// is closed last. A component that fails stops the whole process, in the same
// order, and Run returns its error.
//
// The pipeline's commits feed the others: each commit's result goes to the
// notifier, the exporters and the responder (Deps.OnCommit), in commit order.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/export"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest/firehose"
	"github.com/vigil-dev/vigil/internal/ingest/s3"
	"github.com/vigil-dev/vigil/internal/ingest/s3poll"
	"github.com/vigil-dev/vigil/internal/ingest/stdin"
	"github.com/vigil-dev/vigil/internal/ingest/watch"
	"github.com/vigil-dev/vigil/internal/notify"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/respond"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/postgres"
	"github.com/vigil-dev/vigil/internal/store/retention"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/suppress"
)

// Component is a part of vigil serve: Run blocks until ctx is cancelled, then
// cleans up and returns nil; an error means it failed.
type Component interface {
	Run(ctx context.Context) error
}

// Deps are what vigil serve gets from its caller.
type Deps struct {
	// Log is the process's logger (NewLogger).
	Log *slog.Logger
	// Stdin is what a stdin source reads; nil means os.Stdin.
	Stdin io.Reader
}

// App is vigil serve.
type App struct {
	cfg  *config.Config
	deps Deps
	log  *slog.Logger
	reg  *prometheus.Registry

	ready   atomic.Bool
	started atomic.Bool
	opsAddr atomic.Pointer[string]
	opsUp   chan struct{}
}

// New returns an inert App for a loaded, validated configuration.
func New(cfg *config.Config, deps Deps) (*App, error) {
	if cfg == nil {
		return nil, errors.New("app: no configuration")
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	return &App{cfg: cfg, deps: deps, log: deps.Log, reg: prometheus.NewRegistry(), opsUp: make(chan struct{})}, nil
}

// Registry is where components register their metrics (served on /metrics).
func (a *App) Registry() *prometheus.Registry { return a.reg }

// OpsAddr returns the address the operations endpoint listens on, once it
// does ("" when it is disabled).
func (a *App) OpsAddr() string {
	<-a.opsUp
	if p := a.opsAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// Store is everything vigil serve asks of a store: findings and checkpoints,
// the API's filters, lists and tokens, the outbox of notifications and
// exports (HasOutbox), and responders' decisions.
type Store interface {
	store.Store
	store.Admin
	store.HasOutbox
	store.Decisions
}

// named is a built component.
type named struct {
	name string
	c    Component
	// ready, if set, says whether the component is ready (readyz).
	ready func() bool
	// before, if set, runs before the component starts, in order: a failure
	// stops the start-up.
	before func(ctx context.Context) error
}

// Run opens the store, builds the components, starts them in order, and on
// ctx's cancellation (SIGTERM, SIGINT) stops them in reverse and closes the
// store.
func (a *App) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("app: Run called twice")
	}
	defer func() {
		select {
		case <-a.opsUp:
		default:
			close(a.opsUp)
		}
	}()
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	comps, err := a.build(ctx, st)
	if err != nil {
		return err
	}
	return a.runAll(ctx, comps)
}

// openStore opens the configured store.
func (a *App) openStore(ctx context.Context) (Store, error) {
	sc := a.cfg.Store
	var st store.Store
	var err error
	switch sc.Driver {
	case "postgres":
		pc := postgres.DefaultConfig()
		pc.DSN, pc.MaxConns, pc.CacheBytes = sc.Postgres.DSN.Reveal(), sc.Postgres.MaxConns, sc.Postgres.CacheBytes
		st, err = postgres.Open(ctx, pc)
	default:
		st, err = sqlite.Open(ctx, sc.SQLite)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	full, ok := st.(Store)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("open store: the %s store lacks the admin, outbox or decisions tables", sc.Driver)
	}
	a.log.Info("store open", "driver", sc.Driver)
	return full, nil
}

// build makes every component, in start order.
func (a *App) build(ctx context.Context, st Store) ([]named, error) {
	cfg := a.cfg
	var comps []named
	det, err := LoadDetection(cfg.Detect, func(what, msg string) { a.log.Warn("detection input", "what", what, "problem", msg) })
	if err != nil {
		return nil, err
	}
	a.log.Info("detection loaded", "rules", len(det.Rules.Rules), "lists", len(det.Lists), "inventory", det.Inventory != nil)
	// The lists of files, then those kept in the store, which the API changes
	// while serve runs: detection and the responder follow them (lists.go).
	limits := api.DefaultConfig().Limits
	if cfg.API != nil {
		limits = cfg.API.Limits
	}
	lists := newListsReloader(st, det.Lists, limits, a.log.With("component", "lists"), a.reg)
	intelSet := lists.Set()

	ret, err := retention.New(cfg.Store.Retention, retention.Deps{Store: st, Log: a.log.With("component", "retention")})
	if err != nil {
		return nil, err
	}
	sup, err := suppress.New(cfg.Suppress, suppress.Deps{Filters: st, Logger: a.log.With("component", "suppress")})
	if err != nil {
		return nil, err
	}
	outbox := st.Outbox()
	disp, err := notify.New(cfg.Notify, notify.Deps{Outbox: outbox, Findings: st, Logger: a.log.With("component", "notify")})
	if err != nil {
		return nil, err
	}
	var exporters []*export.Exporter
	for _, ec := range cfg.Exports {
		e, err := export.New(ec.Config, export.Deps{Outbox: outbox, Findings: st, Logger: a.log.With("component", "export", "export", ec.Name)})
		if err != nil {
			return nil, fmt.Errorf("exports %s: %w", ec.Name, err)
		}
		exporters = append(exporters, e)
	}
	var resp *respond.Responder
	if cfg.Respond != nil {
		resp, err = respond.New(*cfg.Respond, respond.Deps{Store: st, Trusted: intelSet, Estate: respond.EstateOf(det.Inventory),
			Logger: a.log.With("component", "respond")})
		if err != nil {
			return nil, err
		}
	}
	m := newMetrics(a.reg)
	// What every commit (and the API's own findings) lead to.
	publish := func(ctx context.Context, res store.UpsertResult) {
		if err := disp.Enqueue(ctx, res); err != nil {
			m.publishErrors.WithLabelValues("notify").Inc()
			a.log.Error("queue alerts", "err", err)
		}
		for _, e := range exporters {
			if err := e.Publish(ctx, res); err != nil {
				m.publishErrors.WithLabelValues("export").Inc()
				a.log.Error("queue export", "err", err)
			}
		}
		if resp != nil {
			for i := range res.Changes {
				if _, err := resp.Consider(ctx, &res.Changes[i].Finding); err != nil {
					m.publishErrors.WithLabelValues("respond").Inc()
					a.log.Error("respond", "finding", res.Changes[i].Finding.ID, "err", err)
				}
			}
		}
	}
	var apiSrv *api.Server
	if cfg.API != nil {
		// The S3 client of s3:// query sources and list locations: New only
		// loads the AWS configuration; credentials are looked up at first use.
		apiS3, err := s3.New(ctx, cfg.API.S3)
		if err != nil {
			return nil, fmt.Errorf("api.s3: %w", err)
		}
		apiSrv, err = api.New(*cfg.API, api.Deps{Store: st, Suppress: sup, Logger: a.log.With("component", "api"), S3: apiS3,
			OnListsChanged: lists.Changed,
			OnFindings:     func(res store.UpsertResult) { publish(context.Background(), res) }})
		if err != nil {
			return nil, err
		}
	}
	sources, err := a.sources()
	if err != nil {
		return nil, err
	}
	pm := pipeline.NewMetrics(a.reg)
	pipe, err := pipeline.New(cfg.Pipeline, pipeline.Deps{Detect: cfg.Detect.EngineConfig(), Rules: det.Rules, Inventory: det.Inventory,
		Intel: intelSet, Store: st, Sources: sources, Metrics: pm, Log: a.log.With("component", "pipeline"),
		BeforeStore: func(f *finding.Finding) { sup.Apply(f) },
		OnCommit:    publish})
	if err != nil {
		return nil, err
	}
	registerComponentMetrics(a.reg, disp, exporters, resp, sup, apiSrv, sources)

	comps = append(comps, named{name: "ops", c: ComponentFunc(func(ctx context.Context) error { return a.serveOps(ctx, resp) })})
	comps = append(comps, named{name: "retention", c: ret})
	comps = append(comps, named{name: "suppress", c: sup, before: sup.Reload})
	comps = append(comps, named{name: "lists", c: lists, before: lists.reload})
	comps = append(comps, named{name: "notify", c: disp})
	for i, e := range exporters {
		comps = append(comps, named{name: "export:" + cfg.Exports[i].Name, c: e})
	}
	if resp != nil {
		comps = append(comps, named{name: "respond", c: resp})
	}
	if apiSrv != nil {
		comps = append(comps, named{name: "api", c: apiSrv})
	}
	comps = append(comps, named{name: "pipeline", c: pipe, ready: pipe.Ready})
	return comps, nil
}

// sources builds the configured sources.
func (a *App) sources() ([]pipeline.NamedSource, error) {
	var out []pipeline.NamedSource
	for i, sc := range a.cfg.Sources {
		var s pipeline.NamedSource
		s.Name = sc.Name
		var err error
		switch sc.Kind() {
		case "watch":
			s.Source, err = watch.New(*sc.Watch)
		case "s3":
			s.Source, err = s3poll.New(*sc.S3)
		case "firehose":
			s.Source, err = firehose.New(*sc.Firehose, a.log.With("component", "firehose", "source", sc.Name))
		case "stdin":
			s.Source, err = stdin.New(*sc.Stdin, a.deps.Stdin)
		default:
			err = errors.New("no kind")
		}
		if err != nil {
			return nil, fmt.Errorf("sources[%d] (%s): %w", i, sc.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// ComponentFunc makes a function a Component.
type ComponentFunc func(ctx context.Context) error

// Run calls f.
func (f ComponentFunc) Run(ctx context.Context) error { return f(ctx) }

// runAll starts the components in order and stops them in reverse.
func (a *App) runAll(ctx context.Context, comps []named) error {
	type running struct {
		named
		cancel context.CancelFunc
		done   chan error
	}
	var started []*running
	failed := make(chan string, len(comps))
	var firstErr error
	var errMu sync.Mutex
	setErr := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	stopAll := func() {
		for i := len(started) - 1; i >= 0; i-- {
			r := started[i]
			a.log.Info("stopping", "component", r.name)
			r.cancel()
			<-r.done
		}
	}
	for _, c := range comps {
		if ctx.Err() != nil {
			break
		}
		if c.before != nil {
			if err := c.before(ctx); err != nil {
				stopAll()
				return fmt.Errorf("start %s: %w", c.name, err)
			}
		}
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r := &running{named: c, cancel: cancel, done: make(chan error, 1)}
		go func() {
			err := r.c.Run(cctx)
			if cctx.Err() == nil {
				// Stopped on its own: a failure of the whole process.
				if err == nil {
					err = errors.New("stopped unexpectedly")
				}
				setErr(fmt.Errorf("%s: %w", r.name, err))
				failed <- r.name
			} else if err != nil {
				setErr(fmt.Errorf("%s: %w", r.name, err))
			}
			r.done <- nil
		}()
		started = append(started, r)
		a.log.Info("started", "component", c.name)
	}
	// Ready once every component is, and stays so until the stop.
	readyCtx, readyStop := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			ok := true
			for _, r := range started {
				if r.ready != nil && !r.ready() {
					ok = false
				}
			}
			a.ready.Store(ok)
			select {
			case <-readyCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	select {
	case <-ctx.Done():
		a.log.Info("stopping: signal received")
	case name := <-failed:
		a.log.Error("stopping: a component failed", "component", name)
	}
	readyStop()
	a.ready.Store(false)
	stopAll()
	errMu.Lock()
	defer errMu.Unlock()
	return firstErr
}

// serveOps serves /metrics, /healthz, /readyz and the responder's blocklists
// until ctx is cancelled.
func (a *App) serveOps(ctx context.Context, resp *respond.Responder) error {
	addr := a.cfg.HTTP.Listen
	if addr == "" {
		close(a.opsUp)
		<-ctx.Done()
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !a.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "starting or replaying")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if resp != nil {
		mux.Handle("/blocklist/", http.StripPrefix("/blocklist", resp.Handler()))
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		close(a.opsUp)
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	bound := ln.Addr().String()
	a.opsAddr.Store(&bound)
	close(a.opsUp)
	a.log.Info("operations endpoint listening", "addr", bound)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-errc
	return err
}

// NewLogger returns the process's logger: text or JSON lines on w at level.
func NewLogger(w io.Writer, cfg config.LogConfig) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(cfg.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
