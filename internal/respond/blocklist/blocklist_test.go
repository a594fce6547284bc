package blocklist

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
)

var ctx = context.Background()

func dec(p string, ttl time.Duration, now time.Time) store.Decision {
	return store.Decision{Target: "edge", Prefix: netip.MustParsePrefix(p), Origin: "rule:x", Reason: "because",
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
}

func do(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

func TestServeAndFiles(t *testing.T) {
	dir := t.TempDir()
	l := New("edge", Config{File: filepath.Join(dir, "bl.txt"), JSONFile: filepath.Join(dir, "bl.json"), Token: "s3cret"})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	if err := l.Reconcile(ctx, []store.Decision{
		dec("45.155.205.6/32", time.Hour, now), dec("45.155.205.7/32", time.Hour, now),
		dec("45.155.205.0/24", time.Minute, now), dec("2a01:4f8::/32", time.Hour, now),
	}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "bl.txt")); string(b) != "45.155.205.0/24\n2a01:4f8::/32\n" {
		t.Errorf("file %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}

	// The token is required.
	if r := do(t, l, "GET", "/edge"); r.StatusCode != 401 || !strings.Contains(body(r), `"errorType":"unauthorized"`) {
		t.Errorf("no token: %d", r.StatusCode)
	}
	if r := do(t, l, "GET", "/edge", "Authorization", "Bearer wrong"); r.StatusCode != 401 {
		t.Errorf("wrong token: %d", r.StatusCode)
	}
	auth := []string{"Authorization", "Bearer s3cret"}
	r := do(t, l, "GET", "/edge", auth...)
	if got := body(r); r.StatusCode != 200 || got != "45.155.205.0/24\n2a01:4f8::/32\n" {
		t.Errorf("GET %d %q", r.StatusCode, got)
	}
	etag := r.Header.Get("ETag")
	if r := do(t, l, "HEAD", "/edge", auth...); r.StatusCode != 200 || body(r) != "" || r.Header.Get("ETag") != etag {
		t.Errorf("HEAD %d", r.StatusCode)
	}
	if r := do(t, l, "POST", "/edge", auth...); r.StatusCode != 405 || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST %d", r.StatusCode)
	}
	if r := do(t, l, "GET", "/edge?format=xml", auth...); r.StatusCode != 400 || !strings.Contains(body(r), "format \\\"xml\\\"") {
		t.Errorf("bad format %d", r.StatusCode)
	}
	r = do(t, l, "GET", "/edge", append(auth, "Accept", "application/json")...)
	if got := body(r); r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" || !strings.Contains(got, `"count": 2`) ||
		!strings.Contains(got, `"cidr": "45.155.205.6/32"`) || !strings.Contains(got, `"expiresAt": "2026-03-01T12:01:00Z"`) {
		t.Errorf("JSON %d %s", r.StatusCode, got)
	}

	// When the /24 expires (before anyone removes it) it stops being served,
	// and the hosts it covered appear on their own.
	now = now.Add(2 * time.Minute)
	r = do(t, l, "GET", "/edge", append(auth, "If-None-Match", etag)...)
	if got := body(r); r.StatusCode != 200 || got != "45.155.205.6/31\n2a01:4f8::/32\n" || r.Header.Get("ETag") == etag {
		t.Errorf("after expiry %d %q", r.StatusCode, got)
	}
	if r := do(t, l, "GET", "/edge", append(auth, "If-None-Match", r.Header.Get("ETag"))...); r.StatusCode != 304 {
		t.Errorf("unchanged list: %d", r.StatusCode)
	}
	if err := l.Remove(ctx, []store.Decision{dec("45.155.205.6/32", 0, now)}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "bl.txt")); string(b) != "45.155.205.7/32\n2a01:4f8::/32\n" {
		t.Errorf("file after remove %q", b)
	}
	if l.Capacity() != 0 {
		t.Error("a blocklist has no capacity limit")
	}
}

func TestWriteError(t *testing.T) {
	dir := t.TempDir()
	l := New("edge", Config{File: filepath.Join(dir, "sub", "bl.txt")})
	err := l.Add(ctx, []store.Decision{dec("45.155.205.7/32", time.Hour, time.Now())})
	if err == nil || !strings.Contains(err.Error(), "write blocklist "+filepath.Join(dir, "sub", "bl.txt")) {
		t.Errorf("write into a missing directory: %v", err)
	}
	c := Config{File: filepath.Join(dir, "nope", "x.txt")}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "file: directory") {
		t.Errorf("Validate: %v", err)
	}
}
