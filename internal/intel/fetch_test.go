package intel

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// feedServer serves the fixtures as the public feeds publish them, on 127.0.0.1.
func feedServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	serve := func(path, file, ctype string) {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			http.ServeContent(w, r, file, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), strings.NewReader(string(data)))
		})
	}
	serve("/torbulkexitlist", "tor_bulk.txt", "text/plain")
	serve("/exit-addresses", "tor_exit_addresses.txt", "text/plain")
	serve("/downloads/ipblocklist.csv", "feodo.csv", "text/csv")
	serve("/blacklist/sslipblacklist.csv", "sslbl.csv", "text/csv")
	serve("/drop/drop.txt", "drop.txt", "text/plain")
	serve("/drop/drop_v4.json", "drop_v4.json", "application/json")
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>busy</html>", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000000")
		w.Write([]byte("192.0.2.1\n"))
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: the cap must stop the read.
		for i := 0; i < 1<<20 && r.Context().Err() == nil; i++ {
			if _, err := w.Write([]byte("192.0.2.1\n")); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestFetchFeeds loads each public feed format over HTTP, detected by content.
func TestFetchFeeds(t *testing.T) {
	srv := feedServer(t)
	ctx := context.Background()
	for _, c := range []struct {
		path, name string
		threat     string
		format     Format
		probe      string
		want       string
	}{
		{"/torbulkexitlist", "tor-exits", torExitThreat, FormatTXT, "192.0.2.81", torExitThreat},
		{"/exit-addresses", "tor-exit-addresses", "", FormatTorExit, "192.0.2.92", torExitThreat},
		{"/downloads/ipblocklist.csv", "feodo", "", FormatAbuseCH, "192.0.2.100", "QakBot"},
		{"/blacklist/sslipblacklist.csv", "sslbl", "abuse.ch SSLBL", FormatAbuseCH, "192.0.2.111", "abuse.ch SSLBL"},
		{"/drop/drop.txt", "spamhaus-drop", "", FormatSpamhausDROP, "198.19.255.255", "SBL000002"},
		{"/drop/drop_v4.json", "spamhaus-drop-json", "", FormatSpamhausJSON, "2001:db8:dead::1", "SBL000004"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, warns, err := Fetch(ctx, nil, srv.URL+c.path, Options{Name: c.name, Kind: Threat, Threat: c.threat})
			if err != nil || len(warns) > 0 {
				t.Fatalf("Fetch: %v %v", err, warns)
			}
			if l.Format != c.format || l.Source != srv.URL+c.path {
				t.Errorf("format %v source %s", l.Format, l.Source)
			}
			e, ok := NewSet(l).Match(netip.MustParseAddr(c.probe))
			if !ok || e.Threat != c.want || e.List != c.name {
				t.Errorf("Match(%s) = %v %+v", c.probe, ok, e)
			}
		})
	}
}

func TestFetchErrors(t *testing.T) {
	srv := feedServer(t)
	ctx := context.Background()
	opt := Options{Name: "f", Kind: Threat, MaxBytes: 1 << 16}
	if _, _, err := Fetch(ctx, nil, srv.URL+"/error", opt); err == nil || !strings.Contains(err.Error(), "HTTP status 503 Service Unavailable, expected 200 OK") {
		t.Errorf("503: %v", err)
	}
	if _, _, err := Fetch(ctx, nil, srv.URL+"/huge", opt); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "Content-Length 100000000") {
		t.Errorf("huge: %v", err)
	}
	if _, _, err := Fetch(ctx, nil, srv.URL+"/endless", opt); !errors.Is(err, ErrTooLarge) {
		t.Errorf("endless: %v", err)
	}
	client := &http.Client{Timeout: 200 * time.Millisecond}
	start := time.Now()
	if _, _, err := Fetch(ctx, client, srv.URL+"/slow", opt); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("slow: %v after %v", err, time.Since(start))
	}
	for _, u := range []string{"ftp://example.com/x", "file:///etc/passwd", "no-scheme", "http://"} {
		if _, _, err := Fetch(ctx, nil, u, opt); err == nil || !strings.Contains(err.Error(), "expected an http:// or https:// URL") {
			t.Errorf("%s: %v", u, err)
		}
	}
}

// TestFetchConditional: an unchanged feed answers 304 and costs no parse.
func TestFetchConditional(t *testing.T) {
	var hits, notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte("192.0.2.1\n"))
	}))
	defer srv.Close()
	res, err := fetch(context.Background(), nil, srv.URL, 1<<20, "", "")
	if err != nil || res.etag != `"v1"` {
		t.Fatalf("%v %+v", err, res)
	}
	res, err = fetch(context.Background(), nil, srv.URL, 1<<20, res.etag, "")
	if err != nil || !res.notModified || notModified.Load() != 1 {
		t.Fatalf("conditional: %v %+v", err, res)
	}
}
