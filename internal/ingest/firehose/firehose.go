// Package firehose is the continuous source that receives Amazon Data Firehose
// HTTP-endpoint deliveries: the streaming path of CloudWatch Logs subscriptions
// (VPC flow logs, Resolver query logs and CloudTrail sent to a log group), and
// of flow logs published to Firehose directly.
//
// The protocol is Firehose's HTTP endpoint delivery request and response
// specification (version 1.0): a POST with a JSON body
//
//	{"requestId": "…", "timestamp": 1578090901599, "records": [{"data": "<base64>"}, …]}
//
// optionally gzip-compressed (Content-Encoding: gzip), the headers
// X-Amz-Firehose-Request-Id (the same as the body's requestId, and the same on
// every retry of a delivery) and X-Amz-Firehose-Access-Key (the access key
// configured on the delivery stream, compared in constant time). The answer is
// 200 with {"requestId": "…", "timestamp": …} once the records are safe, or an
// error status with the same fields and "errorMessage"; Firehose retries any
// answer but 200.
//
// Each record's data is a CloudWatch Logs subscription payload (gzip JSON with
// logEvents, decoded by decode/cwlogs) or plain log lines; the format of each
// is detected (decode/auto) unless Format forces one.
//
// "Safe" means committed: the records of a delivery are decoded and handed to
// the pipeline as one chunk, and the answer waits until a commit covers it. The
// delivery's request ID is committed with it (the last MaxRecentIDs of them are
// part of the checkpoint), so a retry of a delivery that was committed but
// whose answer was lost (a crash, a timeout) is answered 200 and not counted
// again. Deliveries cannot be re-read after a restart: records in a detection
// window that was open at a crash do not count in it after the restart.
//
// Memory is bounded by MaxBodyBytes (and MaxDecodedBytes after gzip) times
// MaxConcurrent deliveries.
package firehose

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/secret"
)

// Config configures the endpoint.
type Config struct {
	// Listen is the address to listen on. Firehose delivers to HTTPS on port
	// 443 only: terminate TLS here (TLSCert, TLSKey) or in a proxy in front.
	Listen string `yaml:"listen"`
	// Path is the URL path deliveries are posted to.
	Path string `yaml:"path"`
	// AccessKey is the delivery stream's access key (X-Amz-Firehose-Access-Key).
	AccessKey secret.Value `yaml:"access_key"`
	// TLSCert and TLSKey are PEM files; when set, the endpoint speaks HTTPS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Format forces the format of every record; "auto" detects it per record.
	Format string `yaml:"format"`
	// FlowFormat is the flow-log field list of flow-log lines (CloudWatch Logs
	// messages have no header line).
	FlowFormat string `yaml:"flow_format"`
	// MaxBodyBytes bounds a request body as sent; MaxDecodedBytes after gzip.
	MaxBodyBytes    int64 `yaml:"max_body_bytes"`
	MaxDecodedBytes int64 `yaml:"max_decoded_bytes"`
	// MaxConcurrent bounds the deliveries handled at once; more wait.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxRecentIDs is how many committed request IDs are remembered to
	// recognise retries.
	MaxRecentIDs int `yaml:"max_recent_ids"`
	// Timeout bounds the handling of one delivery (Firehose waits 3 minutes at
	// most by default).
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultConfig returns the defaults: port 8443, path /, 64 MiB bodies.
func DefaultConfig() Config {
	return Config{Listen: ":8443", Path: "/", Format: "auto", MaxBodyBytes: 64 << 20, MaxDecodedBytes: 256 << 20,
		MaxConcurrent: 4, MaxRecentIDs: 1000, Timeout: 2 * time.Minute}
}

// Validate checks the configuration; errors name the key.
func (c Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: required"))
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port", c.Listen))
	}
	if c.Path == "" || c.Path[0] != '/' {
		errs = append(errs, fmt.Errorf("path: %q must start with /", c.Path))
	}
	if c.AccessKey == "" {
		errs = append(errs, errors.New("access_key: required (the delivery stream's access key)"))
	} else if len(c.AccessKey) > 4096 {
		errs = append(errs, errors.New("access_key: longer than Firehose's 4096 bytes"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert, tls_key: set both or neither"))
	}
	if _, err := c.decoderConfig(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBodyBytes < 1<<10 || c.MaxDecodedBytes < c.MaxBodyBytes {
		errs = append(errs, errors.New("max_body_bytes, max_decoded_bytes: at least 1 KiB, and decoded at least the body"))
	}
	if c.MaxConcurrent < 1 {
		errs = append(errs, fmt.Errorf("max_concurrent: %d must be at least 1", c.MaxConcurrent))
	}
	if c.MaxRecentIDs < 1 || c.MaxRecentIDs > 100_000 {
		errs = append(errs, fmt.Errorf("max_recent_ids: %d is outside 1–100000", c.MaxRecentIDs))
	}
	if c.Timeout < time.Second {
		errs = append(errs, fmt.Errorf("timeout: %s is below 1s", c.Timeout))
	}
	return errors.Join(errs...)
}

func (c Config) decoderConfig() (auto.Config, error) {
	return auto.ConfigFor(c.Format, c.FlowFormat, "format", "flow_format")
}

// Counters are the endpoint's running totals.
type Counters struct {
	Requests   atomic.Int64 // deliveries received
	Accepted   atomic.Int64 // answered 200 after a commit
	Duplicates atomic.Int64 // retries of committed deliveries, answered 200
	Rejected   atomic.Int64 // answered 4xx (bad key, bad body)
	Failed     atomic.Int64 // answered 5xx (not committed in time, stopping)
	Records    atomic.Int64 // Firehose records received
}

// Source is the endpoint. It implements ingest.Source.
type Source struct {
	cfg      Config
	dec      auto.Config
	log      *slog.Logger
	Counters Counters

	mu       sync.Mutex
	recent   []string        // request IDs handed to the pipeline, oldest first
	known    map[string]bool // recent, as a set
	inflight map[string]chan struct{}
	addr     atomic.Pointer[string]
	ready    chan struct{}
}

var _ ingest.Source = (*Source)(nil)

// New returns an inert endpoint.
func New(cfg Config, log *slog.Logger) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dc, _ := cfg.decoderConfig()
	if log == nil {
		log = slog.Default()
	}
	return &Source{cfg: cfg, dec: dc, log: log, known: map[string]bool{}, inflight: map[string]chan struct{}{}, ready: make(chan struct{})}, nil
}

// Addr returns the address listened on, once listening (tests listen on :0).
func (s *Source) Addr() string {
	<-s.ready
	return *s.addr.Load()
}

// stream is the checkpointed stream: the recent request IDs.
const stream = "requests"

// Run serves deliveries until ctx is cancelled, then lets deliveries in hand
// finish (within Timeout).
func (s *Source) Run(ctx context.Context, sink ingest.Sink) error {
	if r, ok := sink.Resume(stream); ok && len(r.Next) > 0 {
		var ids []string
		if err := json.Unmarshal(r.Next, &ids); err != nil {
			sink.Report(decode.Problem{Input: stream, Reason: "bad checkpoint", Detail: err.Error()})
		}
		s.mu.Lock()
		s.recent = nil
		clear(s.known)
		for _, id := range ids {
			s.remember(id)
		}
		s.mu.Unlock()
	}
	if err := sink.ReplayDone(ctx); err != nil {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("firehose endpoint: listen: %w", err)
	}
	addr := ln.Addr().String()
	s.addr.Store(&addr)
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
	lanes := make(chan ingest.Lane, s.cfg.MaxConcurrent)
	for range s.cfg.MaxConcurrent {
		lanes <- sink.NewLane()
	}
	h := &handler{s: s, sink: sink, lanes: lanes}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ReadTimeout: s.cfg.Timeout, WriteTimeout: s.cfg.Timeout + 10*time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() {
		if s.cfg.TLSCert != "" {
			done <- srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return fmt.Errorf("firehose endpoint: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	return nil
}

// remember adds a committed request ID; s.mu is held.
func (s *Source) remember(id string) {
	if s.known[id] {
		return
	}
	s.recent = append(s.recent, id)
	s.known[id] = true
	for len(s.recent) > s.cfg.MaxRecentIDs {
		delete(s.known, s.recent[0])
		s.recent = s.recent[1:]
	}
}

// handler serves deliveries.
type handler struct {
	s     *Source
	sink  ingest.Sink
	lanes chan ingest.Lane
	chunk sync.Mutex // one delivery's chunk at a time: positions stay in order
}

// Request is a Firehose delivery request body.
type Request struct {
	RequestID string   `json:"requestId"`
	Timestamp int64    `json:"timestamp"`
	Records   []Record `json:"records"`
}

// Record is one Firehose record.
type Record struct {
	Data []byte `json:"data"` // base64 in JSON
}

// response is the answer Firehose expects.
type response struct {
	RequestID    string `json:"requestId"`
	Timestamp    int64  `json:"timestamp"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

func (h *handler) answer(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(response{RequestID: id, Timestamp: time.Now().UnixMilli(), ErrorMessage: msg})
	switch {
	case status >= 500:
		h.s.Counters.Failed.Add(1)
	case status >= 400:
		h.s.Counters.Rejected.Add(1)
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	s.Counters.Requests.Add(1)
	id := r.Header.Get("X-Amz-Firehose-Request-Id")
	if r.URL.Path != s.cfg.Path {
		h.answer(w, http.StatusNotFound, id, "no delivery endpoint at "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.answer(w, http.StatusMethodNotAllowed, id, "deliveries are POST requests")
		return
	}
	key := r.Header.Get("X-Amz-Firehose-Access-Key")
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.AccessKey.Reveal())) != 1 {
		h.answer(w, http.StatusUnauthorized, id, "missing or wrong X-Amz-Firehose-Access-Key")
		return
	}
	if id == "" {
		h.answer(w, http.StatusBadRequest, id, "missing X-Amz-Firehose-Request-Id header")
		return
	}
	// A retry of a delivery already handed to the pipeline (committed, or
	// waiting for its commit), or still being handled: it is not counted
	// again; it is answered once the first attempt is committed.
	s.mu.Lock()
	wait, busy := s.inflight[id]
	if !busy && !s.known[id] {
		done := make(chan struct{})
		s.inflight[id] = done
		s.mu.Unlock()
		ok := h.first(w, r, id)
		s.mu.Lock()
		delete(s.inflight, id)
		s.mu.Unlock()
		close(done)
		if !ok {
			return
		}
	} else {
		s.mu.Unlock()
		if busy {
			select {
			case <-wait:
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		handed := s.known[id]
		s.mu.Unlock()
		if !handed {
			h.answer(w, http.StatusServiceUnavailable, id, "the first attempt of this delivery failed; try again")
			return
		}
		s.Counters.Duplicates.Add(1)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	if err := h.sink.WaitCommitted(ctx); err != nil {
		h.answer(w, http.StatusServiceUnavailable, id, "the records were not committed in time; try again")
		return
	}
	s.Counters.Accepted.Add(1)
	h.answer(w, http.StatusOK, id, "")
}

// first handles the first attempt of a delivery: it reads the body and hands
// the records to the pipeline. It answers and returns false on failure.
func (h *handler) first(w http.ResponseWriter, r *http.Request, id string) bool {
	s := h.s
	var lane ingest.Lane
	select {
	case lane = <-h.lanes:
	case <-r.Context().Done():
		return false
	}
	defer func() { h.lanes <- lane }()
	req, err := ParseRequest(r.Body, r.Header.Get("Content-Encoding"), s.cfg.MaxBodyBytes, s.cfg.MaxDecodedBytes)
	if err != nil {
		h.answer(w, http.StatusBadRequest, id, err.Error())
		return false
	}
	if req.RequestID != id {
		h.answer(w, http.StatusBadRequest, id, fmt.Sprintf("body requestId %q differs from X-Amz-Firehose-Request-Id", req.RequestID))
		return false
	}
	s.Counters.Records.Add(int64(len(req.Records)))
	if err := h.handle(lane, req); err != nil {
		h.answer(w, http.StatusServiceUnavailable, id, "vigil is stopping; try again")
		return false
	}
	return true
}

// handle decodes a delivery's records as one chunk, committed with the
// delivery's request ID.
func (h *handler) handle(lane ingest.Lane, req *Request) error {
	s := h.s
	h.chunk.Lock()
	defer h.chunk.Unlock()
	s.mu.Lock()
	s.remember(req.RequestID)
	pos, err := json.Marshal(s.recent)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	dec := auto.New(s.dec)
	name := "firehose:" + req.RequestID
	err = lane.Chunk(stream, pos, func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
		var total decode.Stats
		var emitErr error
		guarded := func(b *decode.Batch) error {
			if err := emit(b); err != nil {
				emitErr = err
				return err
			}
			return nil
		}
		for i, rec := range req.Records {
			in := decode.Input{Name: fmt.Sprintf("%s record %d", name, i+1)}
			st, err := dec.Decode(ctx, in, bytes.NewReader(rec.Data), guarded, report)
			total.Add(st)
			if emitErr != nil {
				return total, emitErr // the pipeline is stopping
			}
			if err != nil {
				total.Skip("unreadable record")
				report(decode.Problem{Input: in.Name, Reason: "unreadable record", Detail: err.Error()})
			}
		}
		return total, nil
	})
	if err != nil {
		s.mu.Lock()
		delete(s.known, req.RequestID)
		if n := len(s.recent); n > 0 && s.recent[n-1] == req.RequestID {
			s.recent = s.recent[:n-1]
		}
		s.mu.Unlock()
	}
	return err
}

// ParseRequest reads a delivery body: gzip when contentEncoding says so, at most
// maxBody bytes as sent and maxDecoded after gzip, JSON with a requestId and
// records whose data is base64. Errors say what was wrong, for the
// errorMessage Firehose logs.
func ParseRequest(body io.Reader, contentEncoding string, maxBody, maxDecoded int64) (*Request, error) {
	lr := &io.LimitedReader{R: body, N: maxBody + 1}
	var r io.Reader = lr
	switch contentEncoding {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(lr)
		if err != nil {
			return nil, fmt.Errorf("body: Content-Encoding is gzip but the body is not: %v", err)
		}
		r = zr
	default:
		return nil, fmt.Errorf("Content-Encoding %q: expected gzip or none", contentEncoding)
	}
	dl := &io.LimitedReader{R: r, N: maxDecoded + 1}
	raw, err := io.ReadAll(dl)
	if lr.N <= 0 {
		return nil, fmt.Errorf("body: larger than %d bytes", maxBody)
	}
	if dl.N <= 0 {
		return nil, fmt.Errorf("body: larger than %d bytes once decompressed", maxDecoded)
	}
	if err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&req); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("body: bad JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("body: field %s: expected %s, got %s", te.Field, te.Type, te.Value)
		}
		return nil, fmt.Errorf("body: %v", err)
	}
	if dec.More() {
		return nil, errors.New("body: more than one JSON value")
	}
	if req.RequestID == "" {
		return nil, errors.New("body: missing requestId")
	}
	return &req, nil
}
