// Package blocklist is the responder target that publishes the blocked
// networks for firewalls to pull: over HTTP, as plain text (one CIDR per line,
// collapsed to the fewest CIDRs) or JSON (each decision with its expiry and
// reason), and as files written atomically (a temporary file renamed over the
// old one, so a reader never sees half a list).
//
// A List holds the active decisions in memory (one entry per blocked prefix:
// bounded by the decisions the store holds for the target). Add, Remove and
// Reconcile are called by the responder's loop, one at a time; ServeHTTP is
// called concurrently with them and with itself. Entries past their expiry are
// left out of what is served and written even before Remove is called, so a
// stalled responder never publishes a block longer than decided. Retrying a
// failed file write is the caller's business (the responder reconciles).
package blocklist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/internal/respond/cidr"
	"github.com/vigil-dev/vigil/internal/store"
)

// Config configures a blocklist.
type Config struct {
	// File, when set, is kept holding the plain-text list (one CIDR per line).
	File string `yaml:"file"`
	// JSONFile, when set, is kept holding the JSON list.
	JSONFile string `yaml:"json_file"`
	// Token, when set, must be presented by HTTP clients as
	// "Authorization: Bearer <token>".
	Token string `yaml:"token"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	for _, f := range []struct{ key, path string }{{"file", c.File}, {"json_file", c.JSONFile}} {
		if f.path == "" {
			continue
		}
		if dir := filepath.Dir(f.path); dir != "" {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				errs = append(errs, fmt.Errorf("%s: directory %s does not exist", f.key, dir))
			}
		}
	}
	if c.File != "" && c.File == c.JSONFile {
		errs = append(errs, errors.New("json_file: the same file as file"))
	}
	return errors.Join(errs...)
}

// List is a blocklist target.
type List struct {
	cfg  Config
	name string
	now  func() time.Time

	mu      sync.Mutex
	entries map[netip.Prefix]store.Decision
	// The rendered lists, valid until the earliest expiry among the entries
	// (or a change).
	text, js   []byte
	etag       string
	modified   time.Time
	validUntil time.Time
	rendered   bool
}

// New returns an empty blocklist named name (the target's name, shown in the
// JSON). It does no I/O.
func New(name string, cfg Config) *List {
	return &List{cfg: cfg, name: name, now: time.Now, entries: map[netip.Prefix]store.Decision{}}
}

// Capacity implements the responder's Target: a blocklist has no limit.
func (l *List) Capacity() int { return 0 }

// Add adds or updates the decisions and writes the files.
func (l *List) Add(_ context.Context, ds []store.Decision) error {
	l.mu.Lock()
	for _, d := range ds {
		l.entries[cidr.Normal(d.Prefix)] = d
	}
	l.rendered = false
	l.mu.Unlock()
	return l.write()
}

// Remove removes the decisions' prefixes and writes the files.
func (l *List) Remove(_ context.Context, ds []store.Decision) error {
	l.mu.Lock()
	for _, d := range ds {
		delete(l.entries, cidr.Normal(d.Prefix))
	}
	l.rendered = false
	l.mu.Unlock()
	return l.write()
}

// Reconcile replaces the entries with ds and writes the files.
func (l *List) Reconcile(_ context.Context, ds []store.Decision) error {
	l.mu.Lock()
	clear(l.entries)
	for _, d := range ds {
		l.entries[cidr.Normal(d.Prefix)] = d
	}
	l.rendered = false
	l.mu.Unlock()
	return l.write()
}

// Len returns the number of entries held (expired ones included until
// removed).
func (l *List) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// jsonList is the JSON form.
type jsonList struct {
	Name        string      `json:"name"`
	GeneratedAt time.Time   `json:"generatedAt"`
	Count       int         `json:"count"`
	CIDRs       []string    `json:"cidrs"`
	Decisions   []jsonEntry `json:"decisions"`
}

type jsonEntry struct {
	CIDR        string    `json:"cidr"`
	ExpiresAt   time.Time `json:"expiresAt"`
	CreatedAt   time.Time `json:"createdAt"`
	Origin      string    `json:"origin"`
	Reason      string    `json:"reason"`
	FindingID   string    `json:"findingId,omitempty"`
	FindingType string    `json:"findingType,omitempty"`
	Severity    float64   `json:"severity,omitempty"`
}

// render returns the lists as of now, rendering them again when an entry
// changed or expired. l.mu is held.
func (l *List) render(now time.Time) {
	if l.rendered && now.Before(l.validUntil) {
		return
	}
	ds := make([]store.Decision, 0, len(l.entries))
	var until time.Time
	for _, d := range l.entries {
		if !d.ExpiresAt.After(now) {
			continue
		}
		ds = append(ds, d)
		if until.IsZero() || d.ExpiresAt.Before(until) {
			until = d.ExpiresAt
		}
	}
	slices.SortFunc(ds, func(a, b store.Decision) int { return cidr.Compare(a.Prefix, b.Prefix) })
	ps := make([]netip.Prefix, len(ds))
	for i, d := range ds {
		ps[i] = d.Prefix
	}
	collapsed := cidr.Collapse(ps)
	var text bytes.Buffer
	cidrs := make([]string, len(collapsed))
	for i, p := range collapsed {
		cidrs[i] = p.String()
		text.WriteString(cidrs[i])
		text.WriteByte('\n')
	}
	jl := jsonList{Name: l.name, GeneratedAt: now.UTC().Truncate(time.Second), Count: len(cidrs), CIDRs: cidrs, Decisions: make([]jsonEntry, len(ds))}
	for i, d := range ds {
		jl.Decisions[i] = jsonEntry{CIDR: d.Prefix.String(), ExpiresAt: d.ExpiresAt.UTC(), CreatedAt: d.CreatedAt.UTC(), Origin: d.Origin,
			Reason: d.Reason, FindingID: d.FindingID, FindingType: string(d.FindingType), Severity: float64(d.Severity)}
	}
	js, _ := json.MarshalIndent(jl, "", "  ") // only strings, numbers and times: cannot fail
	js = append(js, '\n')
	sum := sha256.Sum256(text.Bytes())
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	if etag != l.etag {
		l.modified = now.UTC().Truncate(time.Second)
	}
	l.text, l.js, l.etag, l.validUntil, l.rendered = text.Bytes(), js, etag, until, true
	if until.IsZero() {
		l.validUntil = now.Add(24 * time.Hour)
	}
}

// write writes the configured files, each atomically.
func (l *List) write() error {
	if l.cfg.File == "" && l.cfg.JSONFile == "" {
		return nil
	}
	l.mu.Lock()
	l.render(l.now())
	text, js := l.text, l.js
	l.mu.Unlock()
	var errs []error
	if l.cfg.File != "" {
		errs = append(errs, writeAtomic(l.cfg.File, text))
	}
	if l.cfg.JSONFile != "" {
		errs = append(errs, writeAtomic(l.cfg.JSONFile, js))
	}
	return errors.Join(errs...)
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it over path: readers see the old list or the new one, never a part.
func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write blocklist %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			err = fmt.Errorf("write blocklist %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ServeHTTP serves the list: plain text by default, JSON for a path ending in
// ".json", "?format=json" or "Accept: application/json". It answers GET and
// HEAD, honours If-None-Match (ETag of the plain list), and asks for the bearer
// token when one is configured. Errors are JSON envelopes.
func (l *List) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET or HEAD")
		return
	}
	if l.cfg.Token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(l.cfg.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil blocklist"`)
			httpError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
			return
		}
	}
	asJSON := strings.HasSuffix(r.URL.Path, ".json") || r.URL.Query().Get("format") == "json" ||
		strings.Contains(r.Header.Get("Accept"), "application/json")
	if f := r.URL.Query().Get("format"); f != "" && f != "json" && f != "text" {
		httpError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("format %q: want text or json", f))
		return
	}
	l.mu.Lock()
	l.render(l.now())
	body, etag, modified := l.text, l.etag, l.modified
	if asJSON {
		body = l.js
	}
	l.mu.Unlock()
	h := w.Header()
	if asJSON {
		h.Set("Content-Type", "application/json")
		etag = strings.TrimSuffix(etag, `"`) + `-json"`
	} else {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	h.Set("ETag", etag)
	h.Set("Last-Modified", modified.Format(http.TimeFormat))
	h.Set("Cache-Control", "no-cache")
	if match := r.Header.Get("If-None-Match"); match != "" && match == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func httpError(w http.ResponseWriter, code int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": kind, "error": msg})
}
