// Package api is vigil's HTTP API: JSON over HTTP that mirrors GuardDuty's REST
// operations and paths (ListFindings is POST /detector/{detectorId}/findings,
// CreateFilter POST /detector/{detectorId}/filter, …), so that people and tools
// that know GuardDuty's API know vigil's, plus vigil's own operations under
// /vigil/ (the audit log, Logs Insights queries) and the OpenAPI document at
// /openapi.json and /openapi.yaml.
//
// # Contract
//
// Every request but GET /healthz and the OpenAPI document carries a bearer
// token (Authorization: Bearer vgl_…). Tokens are created by `vigil token
// create`, which shows the secret once; the store keeps its SHA-256 only. A
// token has the scope read (every operation that changes nothing) or admin
// (all). No token, or an unknown, revoked or expired one, is 401; a read token
// on a change is 403. Secrets and Authorization headers are never logged: the
// request log names the token, never its secret.
//
// Every error is a JSON envelope (Error) with GuardDuty's exception name
// (__type), a message naming the field at fault and what was expected, and a
// stable vigil code. Input is validated before it reaches the store: bodies
// are decoded strictly (unknown fields are errors) with a size limit, criteria
// are checked attribute by attribute, page tokens are signed, and values reach
// SQL only as parameters. Bad input is a 4xx, never a 500; a 500 means vigil
// failed, and its cause goes to the log, not to the client.
//
// Changes to filters and lists are written with their audit event in one
// transaction (store.Admin). A change that can blind detection — an ARCHIVE
// rule created or changed, a trusted list activated or changed, an active
// threat list deactivated, deleted or shrunk — also raises a finding of a
// vigil type (Policy:Vigil/…), stored directly, never through the suppression
// rules, so that a rule cannot hide its own creation.
//
// A Server is inert until Run (or Serve); Handler can be mounted elsewhere.
// Handlers run concurrently; the Server's state is read-only after New except
// its counters. Cancelling Run's context shuts the server down gracefully,
// waiting up to ShutdownTimeout for requests in flight. Nothing retries: a
// failed store call is the client's to retry (5xx).
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/ingest/s3"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/suppress"
)

// Store is what the API needs of the store: findings and their administration.
// sqlite.Store and postgres.Store are both.
type Store interface {
	store.Store
	store.Admin
}

// Config configures the API server.
type Config struct {
	// Listen is the address to listen on. Default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey are PEM files; when both are set the server speaks
	// HTTPS only (TLS 1.2 or later).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// DetectorID is the {detectorId} of GuardDuty's paths: vigil serves one
	// detector. Default "default".
	DetectorID string `yaml:"detector_id"`
	// AccountID and Region are those of the findings vigil raises about itself
	// (changes that can blind detection) and of sample findings. Default
	// 000000000000 and "local".
	AccountID string `yaml:"account_id"`
	Region    string `yaml:"region"`

	// MaxBodyBytes bounds a request body; list uploads are bounded by
	// MaxListBodyBytes instead. Defaults 1 MiB and twice Limits.MaxListBytes
	// plus 1 MiB (JSON escaping can double a list's size).
	MaxBodyBytes     int64 `yaml:"max_body_bytes"`
	MaxListBodyBytes int64 `yaml:"max_list_body_bytes"`
	// Timeouts of the HTTP server. WriteTimeout must exceed Query.Timeout.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`

	// Limits are GuardDuty's limits on filters and lists, as defaults.
	Limits Limits `yaml:"limits"`
	// ListFetchTimeout bounds the download of a list's location.
	ListFetchTimeout time.Duration `yaml:"list_fetch_timeout"`
	// PreviewMaxScan bounds the findings read to preview an expression
	// filter (criteria filters are counted by the store).
	PreviewMaxScan int `yaml:"preview_max_scan"`
	// TokenTouchEvery is how often a token's last use is written at most.
	TokenTouchEvery time.Duration `yaml:"token_touch_every"`

	// Query configures POST /vigil/query.
	Query QueryConfig `yaml:"query"`
	// S3 is the S3 client of s3:// query sources and list locations: region,
	// endpoint (an S3-compatible store), path style and shared-config profile.
	// Credentials come from the standard AWS chain, never from this file.
	S3 s3.Config `yaml:"s3"`
}

// Limits are the count and size limits of filters and lists.
type Limits struct {
	MaxFilters        int   `yaml:"max_filters"`
	MaxTrustedLists   int   `yaml:"max_trusted_lists"`
	MaxThreatLists    int   `yaml:"max_threat_lists"`
	MaxTrustedEntries int   `yaml:"max_trusted_entries"`
	MaxThreatEntries  int   `yaml:"max_threat_entries"`
	MaxListBytes      int64 `yaml:"max_list_bytes"`
}

// QueryConfig configures the Logs Insights endpoint: the log locations it may
// read, by name (the API's logGroupNames), and its bounds.
type QueryConfig struct {
	Sources []QuerySource `yaml:"sources"`
	// Timeout bounds one query. Default 60s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRows bounds the rows returned. Default 10,000 (Logs Insights').
	MaxRows int `yaml:"max_rows"`
	// MaxGroups bounds a stats' groups. Default exec's.
	MaxGroups int `yaml:"max_groups"`
	// Workers reads objects in parallel. Default 2.
	Workers int `yaml:"workers"`
}

// QuerySource is a named set of log locations (files, folders, globs,
// s3:// prefixes when Deps.S3 is set) that queries may read.
type QuerySource struct {
	Name  string   `yaml:"name"`
	Paths []string `yaml:"paths"`
	// Format is the decoder format (auto, vpcflow, dnslog, cloudtrail, …);
	// default auto.
	Format string `yaml:"format"`
}

// DefaultConfig returns the defaults: 127.0.0.1:8080 without TLS, GuardDuty's
// limits (100 filters, one trusted list, six threat lists, 2,000 trusted and
// 250,000 threat entries, 35 MB per list).
func DefaultConfig() Config {
	return Config{
		Listen:            "127.0.0.1:8080",
		DetectorID:        "default",
		AccountID:         "000000000000",
		Region:            "local",
		MaxBodyBytes:      1 << 20,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ShutdownTimeout:   15 * time.Second,
		Limits: Limits{
			MaxFilters:        store.DefaultMaxFilters,
			MaxTrustedLists:   1,
			MaxThreatLists:    6,
			MaxTrustedEntries: intel.DefaultMaxTrustedEntries,
			MaxThreatEntries:  intel.DefaultMaxThreatEntries,
			MaxListBytes:      intel.DefaultMaxBytes,
		},
		ListFetchTimeout: 30 * time.Second,
		PreviewMaxScan:   suppress.DefaultPreviewScan,
		TokenTouchEvery:  time.Minute,
		Query:            QueryConfig{Timeout: time.Minute, MaxRows: 10000, Workers: 2},
	}
}

// fill returns c with zero fields set to their defaults.
func (c Config) fill() Config {
	d := DefaultConfig()
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.Listen, d.Listen)
	set(&c.DetectorID, d.DetectorID)
	set(&c.AccountID, d.AccountID)
	set(&c.Region, d.Region)
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	setDur(&c.ReadHeaderTimeout, d.ReadHeaderTimeout)
	setDur(&c.ReadTimeout, d.ReadTimeout)
	setDur(&c.WriteTimeout, d.WriteTimeout)
	setDur(&c.IdleTimeout, d.IdleTimeout)
	setDur(&c.ShutdownTimeout, d.ShutdownTimeout)
	setInt(&c.Limits.MaxFilters, d.Limits.MaxFilters)
	setInt(&c.Limits.MaxTrustedLists, d.Limits.MaxTrustedLists)
	setInt(&c.Limits.MaxThreatLists, d.Limits.MaxThreatLists)
	setInt(&c.Limits.MaxTrustedEntries, d.Limits.MaxTrustedEntries)
	setInt(&c.Limits.MaxThreatEntries, d.Limits.MaxThreatEntries)
	if c.Limits.MaxListBytes <= 0 {
		c.Limits.MaxListBytes = d.Limits.MaxListBytes
	}
	if c.MaxListBodyBytes <= 0 {
		c.MaxListBodyBytes = 2*c.Limits.MaxListBytes + 1<<20
	}
	setDur(&c.ListFetchTimeout, d.ListFetchTimeout)
	setInt(&c.PreviewMaxScan, d.PreviewMaxScan)
	setDur(&c.TokenTouchEvery, d.TokenTouchEvery)
	setDur(&c.Query.Timeout, d.Query.Timeout)
	setInt(&c.Query.MaxRows, d.Query.MaxRows)
	setInt(&c.Query.Workers, d.Query.Workers)
	return c
}

// Validate checks c (after defaults are filled in).
func (c Config) Validate() error {
	c = c.fill()
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("api: set both tls_cert and tls_key, or neither")
	}
	if !detectorID.MatchString(c.DetectorID) {
		return fmt.Errorf("api: detector_id %q: want 1 to 300 letters, digits, '-' or '_'", c.DetectorID)
	}
	if c.Query.Timeout >= c.WriteTimeout {
		return fmt.Errorf("api: query.timeout %s must be shorter than write_timeout %s", c.Query.Timeout, c.WriteTimeout)
	}
	names := map[string]bool{}
	for i, src := range c.Query.Sources {
		if src.Name == "" || len(src.Paths) == 0 {
			return fmt.Errorf("api: query.sources[%d]: give a name and one or more paths", i)
		}
		if slices.Contains(src.Paths, "-") {
			return fmt.Errorf("api: query.sources[%d] (%s): standard input cannot be a query source", i, src.Name)
		}
		if src.Format != "" {
			if _, err := auto.ParseFormat(src.Format); err != nil {
				return fmt.Errorf("api: query.sources[%d] (%s): format: %w", i, src.Name, err)
			}
		}
		if names[src.Name] {
			return fmt.Errorf("api: query.sources[%d]: name %q used twice", i, src.Name)
		}
		names[src.Name] = true
	}
	return nil
}

// Deps are the Server's dependencies.
type Deps struct {
	// Store keeps findings, filters, lists, tokens and the audit log.
	Store Store
	// Suppress, if set, is reloaded after every filter change, so a new rule
	// applies to the next finding.
	Suppress *suppress.Engine
	// OnListsChanged, if set, is called (from the request's goroutine) after a
	// list is created, changed or deleted: vigil serve reloads its intel set
	// (LoadLists).
	OnListsChanged func()
	// OnFindings, if set, receives what the API itself stored (findings about
	// blinding changes, sample findings), for notifiers.
	OnFindings func(store.UpsertResult)
	// Logger receives the request log and errors; nil discards them.
	Logger *slog.Logger
	// S3 lists and reads s3:// locations (internal/ingest/s3, configured by
	// Config.S3): the prefixes of query sources and the objects of list
	// locations. nil means no S3: s3:// query sources then fail with
	// SourceUnavailable and s3:// list locations with InvalidParameter.
	S3 ingest.Lister
	// HTTPClient fetches list locations; nil means a client with
	// Config.ListFetchTimeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Counters count requests by outcome.
type Counters struct {
	Requests     atomic.Int64
	ClientErrors atomic.Int64 // 4xx
	ServerErrors atomic.Int64 // 5xx
	AuthFailures atomic.Int64 // 401 and 403
	Blinding     atomic.Int64 // changes that raised a Policy:Vigil finding
}

// Server is the API server.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	routes   []*route
	handler  http.Handler
	client   *http.Client
	Counters Counters

	touchMu sync.Mutex
	touched map[string]time.Time // token ID → last TouchToken

	doc openAPI
}

// New checks cfg and returns an inert Server.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("api: no store")
	}
	cfg = cfg.fill()
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, client: deps.HTTPClient, touched: map[string]time.Time{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.deps.Now == nil {
		s.deps.Now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: cfg.ListFetchTimeout}
	}
	s.routes = s.routeTable()
	s.handler = s.buildHandler()
	return s, nil
}

// Handler returns the API's handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Config returns the configuration in effect (defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// Run listens on Config.Listen and serves until ctx is cancelled.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("api: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln (HTTPS when TLS is configured) until ctx is cancelled,
// then shuts down gracefully and closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("api: load TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	s.log.Info("api listening", "addr", ln.Addr().String(), "tls", s.cfg.TLSCert != "", "detector", s.cfg.DetectorID)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("api: shutdown: %w", err)
	}
	return nil
}

// now returns the clock's time.
func (s *Server) now() time.Time { return s.deps.Now() }
