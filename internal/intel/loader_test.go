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
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// events collects OnEvent calls.
type events struct {
	mu  sync.Mutex
	evs []Event
	ch  chan Event
}

func newEvents() *events { return &events{ch: make(chan Event, 100)} }

func (e *events) on(ev Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	e.ch <- ev
}

func (e *events) wait(t *testing.T, what string) Event {
	t.Helper()
	select {
	case ev := <-e.ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("no event: %s", what)
	}
	return Event{}
}

// writeFile replaces path atomically, as list writers should, and moves its
// modification time on so that coarse file-system clocks see a change.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func matches(s *Set, addr string) string {
	e, ok := s.Match(netip.MustParseAddr(addr))
	if !ok {
		return ""
	}
	return e.List
}

// TestLoaderReload: change a file, see the new set; break it, keep the old one;
// fix it, see the fix.
func TestLoaderReload(t *testing.T) {
	dir := t.TempDir()
	threat := filepath.Join(dir, "threat.txt")
	trusted := filepath.Join(dir, "trusted.txt")
	stix := filepath.Join(dir, "threat.stix")
	writeFile(t, threat, "192.0.2.1\n")
	writeFile(t, trusted, "192.0.2.2\n")
	writeFile(t, stix, `<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1"/>`)
	ev := newEvents()
	cfg := DefaultConfig()
	cfg.PollInterval = 20 * time.Millisecond
	cfg.OnEvent = ev.on
	cfg.Sources = []Source{
		{Options: Options{Name: "mine", Kind: Threat}, Path: threat},
		{Options: Options{Name: "ours", Kind: Trusted}, Path: trusted},
		{Options: Options{Name: "stix", Kind: Threat, Format: FormatSTIX}, Path: stix},
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Before the first load: the built-ins only.
	if _, ok := l.Current().MatchDomain("c2.guarddutyc2activityb.com"); !ok {
		t.Error("built-ins not in the initial set")
	}
	if matches(l.Current(), "192.0.2.1") != "" {
		t.Error("user list in effect before loading")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	for range 3 {
		if e := ev.wait(t, "initial load"); e.Err != nil || e.Previous != -1 {
			t.Errorf("initial load: %+v", e)
		}
	}
	s1 := l.Current()
	if matches(s1, "192.0.2.1") != "mine" || matches(s1, "192.0.2.2") != "" {
		t.Fatalf("after load: %q %q", matches(s1, "192.0.2.1"), matches(s1, "192.0.2.2"))
	}
	if _, ok := s1.Trusted(netip.MustParseAddr("192.0.2.2")); !ok {
		t.Error("trusted list not in effect")
	}

	// Change: the new entry is in effect, the old Set is untouched.
	writeFile(t, threat, "192.0.2.1\n192.0.2.3\n")
	e := ev.wait(t, "reload after change")
	if e.Source != "mine" || e.Err != nil || e.Entries != 2 || e.Previous != 1 {
		t.Errorf("change event %+v", e)
	}
	if matches(l.Current(), "192.0.2.3") != "mine" || matches(s1, "192.0.2.3") != "" {
		t.Error("change not swapped in, or the old set changed")
	}

	// Break it: STIX that is not XML. The previous version stays.
	writeFile(t, stix, "this is not XML")
	e = ev.wait(t, "broken STIX")
	if !errors.Is(e.Err, ErrFormat) || !strings.Contains(e.Err.Error(), stix) || e.Entries != 0 || e.Previous != 0 {
		t.Errorf("broken STIX event %+v", e)
	}
	writeFile(t, threat, "10.0.0.300\nnot a list\n")
	e = ev.wait(t, "broken TXT")
	if e.Source != "mine" || !errors.Is(e.Err, ErrFormat) || e.Entries != 2 || len(e.Warnings) != 2 {
		t.Errorf("broken TXT event %+v", e)
	}
	if matches(l.Current(), "192.0.2.3") != "mine" {
		t.Error("the broken file replaced the good version")
	}
	st := l.Status()
	if len(st) != 3 || st[0].Err == nil || !st[0].Loaded || st[0].Entries != 2 || st[1].Err != nil {
		t.Errorf("status %+v", st)
	}

	// Delete it: still the previous version, and one error event, not one per poll.
	os.Remove(threat)
	e = ev.wait(t, "deleted")
	if !errors.Is(e.Err, os.ErrNotExist) {
		t.Errorf("deleted event %+v", e)
	}
	time.Sleep(100 * time.Millisecond)
	select {
	case e := <-ev.ch:
		t.Errorf("repeated event %+v", e)
	default:
	}

	// Fix it.
	writeFile(t, threat, "# fixed\n198.51.100.0/24\n")
	e = ev.wait(t, "fixed")
	if e.Err != nil || e.Entries != 1 || e.Previous != 2 {
		t.Errorf("fixed event %+v", e)
	}
	if matches(l.Current(), "198.51.100.9") != "mine" || matches(l.Current(), "192.0.2.3") != "" {
		t.Error("fix not in effect")
	}
	if l.Status()[0].Err != nil {
		t.Error("error not cleared")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestLoaderURL: a feed source is downloaded, re-downloaded conditionally, and a
// failing feed keeps its last version.
func TestLoaderURL(t *testing.T) {
	var body atomic.Value
	body.Store("192.0.2.80\n")
	var fail atomic.Bool
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		b := body.Load().(string)
		etag := `"` + strings.TrimSpace(b) + `"`
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write([]byte(b))
	}))
	defer srv.Close()
	ev := newEvents()
	cfg := DefaultConfig()
	cfg.Builtins = false
	cfg.PollInterval = 10 * time.Millisecond
	cfg.OnEvent = ev.on
	cfg.Sources = []Source{{Options: Options{Name: "tor", Kind: Threat, Threat: "Tor exit node"}, URL: srv.URL + "/torbulkexitlist", Refresh: 30 * time.Millisecond}}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "load")
	if e, ok := l.Current().Match(netip.MustParseAddr("192.0.2.80")); !ok || e.Threat != "Tor exit node" {
		t.Fatalf("not loaded: %+v", e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	ev.wait(t, "Run's first load")
	// Unchanged: requests go on, no event.
	n := requests.Load()
	time.Sleep(150 * time.Millisecond)
	if requests.Load() <= n {
		t.Error("no refresh")
	}
	select {
	case e := <-ev.ch:
		t.Errorf("event for an unchanged feed: %+v", e)
	default:
	}
	body.Store("192.0.2.81\n")
	if e := ev.wait(t, "changed feed"); e.Err != nil || e.Entries != 1 {
		t.Errorf("changed: %+v", e)
	}
	if matches(l.Current(), "192.0.2.81") != "tor" || matches(l.Current(), "192.0.2.80") != "" {
		t.Error("change not in effect")
	}
	fail.Store(true)
	if e := ev.wait(t, "failing feed"); e.Err == nil || !strings.Contains(e.Err.Error(), "500") {
		t.Errorf("failing: %+v", e)
	}
	if matches(l.Current(), "192.0.2.81") != "tor" {
		t.Error("failing feed dropped its last version")
	}
}

func TestLoaderConfig(t *testing.T) {
	for _, c := range []struct {
		src  []Source
		want string
	}{
		{[]Source{{Options: Options{Name: "a", Kind: Threat}}}, "set exactly one of path and URL"},
		{[]Source{{Options: Options{Name: "a", Kind: Threat}, Path: "x", URL: "http://x"}}, "set exactly one of path and URL"},
		{[]Source{{Options: Options{Kind: Threat}, Path: "x"}}, "list has no name"},
		{[]Source{{Options: Options{Name: "a"}, Path: "x"}}, "kind must be threat or trusted"},
		{[]Source{{Options: Options{Name: "a", Kind: Threat}, URL: "s3://bucket/key"}}, "expected an http:// or https:// URL"},
		{[]Source{{Options: Options{Name: "a", Kind: Threat}, Path: "x"}, {Options: Options{Name: "a", Kind: Trusted}, Path: "y"}}, `list name "a" is used twice`},
	} {
		cfg := DefaultConfig()
		cfg.Sources = c.src
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.src, err, c.want)
		}
	}
	// Load reports failures; the loader still works with what loaded.
	cfg := DefaultConfig()
	cfg.Sources = []Source{
		{Options: Options{Name: "missing", Kind: Threat}, Path: filepath.Join(t.TempDir(), "none.txt")},
		{Options: Options{Name: "ok", Kind: Threat}, Path: "testdata/threat.txt"},
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Load(context.Background()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load: %v", err)
	}
	if matches(l.Current(), "192.0.2.10") != "ok" {
		t.Error("the good list is not in effect")
	}
}

// TestLoaderConcurrentReaders: readers never see a nil or torn set while
// reloads run (run with -race).
func TestLoaderConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.txt")
	writeFile(t, path, "192.0.2.1\n")
	cfg := DefaultConfig()
	cfg.Sources = []Source{{Options: Options{Name: "t", Kind: Threat}, Path: path}}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.Load(context.Background())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := netip.MustParseAddr("192.0.2.1")
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, ok := l.Current().Match(a); !ok {
					t.Error("lost the entry during a reload")
					return
				}
			}
		}()
	}
	for i := range 20 {
		writeFile(t, path, "192.0.2.1\n192.0.2."+string(rune('2'+i%8))+"\n")
		l.Load(context.Background())
	}
	close(stop)
	wg.Wait()
}
