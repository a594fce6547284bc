package intel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Source is one list the Loader keeps loaded: a local file (Path) or a feed URL
// (URL), with the options to read it.
type Source struct {
	Options // Name, Kind, Format, Threat, Finding and limits; Source is set from Path or URL
	// Path is a local file, checked for changes every Config.PollInterval.
	Path string
	// URL is an http(s) feed, downloaded again every Refresh.
	URL string
	// Refresh is how often a URL source is downloaded; 0 means
	// Config.FetchInterval. Downloads are conditional (ETag, Last-Modified), so an
	// unchanged feed costs one request and no parsing.
	Refresh time.Duration
}

func (s *Source) origin() string {
	if s.Path != "" {
		return s.Path
	}
	return s.URL
}

// Config configures a Loader.
type Config struct {
	// Sources are the user's lists, in precedence order (see Set).
	Sources []Source
	// Builtins adds the built-in lists (BuiltinLists) ahead of the sources.
	Builtins bool
	// PollInterval is how often files are checked (size, modification time,
	// identity), and the resolution of URL refreshes. Default 10s.
	PollInterval time.Duration
	// FetchInterval is how often URL sources are downloaded by default. Default
	// 1h: public feeds change hourly at most, and some (Spamhaus) ask not to be
	// fetched more often.
	FetchInterval time.Duration
	// HTTPTimeout bounds one download when HTTPClient is nil. Default 30s.
	HTTPTimeout time.Duration
	// HTTPClient downloads URL sources; nil means a client with HTTPTimeout.
	HTTPClient *http.Client
	// OnEvent, if set, is called after each load or failed load of a source,
	// from the goroutine that loads (Run's, or Load's caller), never with a lock
	// held. List changes are security-relevant (an attacker who can edit a trusted
	// list can blind detection): log or alert on them.
	OnEvent func(Event)
}

// DefaultConfig returns the defaults: built-in lists on, files checked every 10
// seconds, feeds downloaded every hour with a 30-second timeout.
func DefaultConfig() Config {
	return Config{
		Builtins:      true,
		PollInterval:  10 * time.Second,
		FetchInterval: time.Hour,
		HTTPTimeout:   DefaultHTTPTimeout,
	}
}

// Event reports one load of one source.
type Event struct {
	Source string    // the list name
	Origin string    // the path or URL
	Kind   Kind      // the list kind
	Time   time.Time // when the load finished
	// Err is why the load failed. The version loaded before, if any, stays in
	// effect.
	Err error
	// Entries is the number of entries now in effect for the source; Previous the
	// number before the load (-1 if it had never loaded).
	Entries, Previous int
	// Warnings are the bad lines of the version just loaded.
	Warnings []Warning
}

// SourceStatus is the state of one source, for status pages and the API.
type SourceStatus struct {
	Name     string
	Origin   string
	Kind     Kind
	Loaded   bool      // a version is in effect
	Format   Format    // its format
	Entries  int       // its entries
	Bad      int       // its bad lines
	LoadedAt time.Time // when it was loaded
	Warnings []Warning // its bad lines, the first ones
	Err      error     // the last load's error; nil if it succeeded
}

// Loader keeps a Set of lists current: it loads every source, then polls files
// for changes and downloads feeds again, and swaps in a new Set whenever a list
// changes. A list that fails to load (missing file, broken STIX, over its limit,
// a feed answering 500) keeps its previous version in effect and the failure is
// reported through OnEvent and Status.
//
// Readers call Current, which is one atomic load: detection never waits for a
// reload. Sets are immutable, so a reader may keep using the Set it got while a
// newer one is swapped in.
type Loader struct {
	cfg    Config
	client *http.Client
	cur    atomic.Pointer[Set]

	mu      sync.Mutex // serializes loads; guards sources
	sources []*sourceState
}

// sourceState is what the Loader knows of one source.
type sourceState struct {
	src  Source
	list *List // the version in effect

	stat      os.FileInfo // file: the file as it was last read (loaded or not)
	etag      string      // URL: validators of the last download
	lastMod   string
	nextFetch time.Time

	loadedAt time.Time
	err      error
}

// New checks cfg and returns a Loader whose Current set holds the built-in lists
// (if enabled) and nothing else until Load or Run.
func New(cfg Config) (*Loader, error) {
	d := DefaultConfig()
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = d.PollInterval
	}
	if cfg.FetchInterval <= 0 {
		cfg.FetchInterval = d.FetchInterval
	}
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = d.HTTPTimeout
	}
	l := &Loader{cfg: cfg, client: cfg.HTTPClient}
	if l.client == nil {
		l.client = &http.Client{Timeout: cfg.HTTPTimeout}
	}
	names := map[string]bool{}
	for i, s := range cfg.Sources {
		if (s.Path == "") == (s.URL == "") {
			return nil, fmt.Errorf("intel source %d (%s): set exactly one of path and URL", i+1, s.Name)
		}
		s.Source = s.origin()
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("intel source %d: %w", i+1, err)
		}
		if names[s.Name] {
			return nil, fmt.Errorf("intel source %d: list name %q is used twice; list names identify lists in findings", i+1, s.Name)
		}
		names[s.Name] = true
		if s.URL != "" {
			if err := checkURL(s.URL); err != nil {
				return nil, fmt.Errorf("intel source %d (%s): %w", i+1, s.Name, err)
			}
		}
		if s.Refresh <= 0 {
			s.Refresh = cfg.FetchInterval
		}
		l.sources = append(l.sources, &sourceState{src: s})
	}
	l.cur.Store(l.build())
	return l, nil
}

// Current returns the Set in effect. It never returns nil and never blocks.
func (l *Loader) Current() *Set { return l.cur.Load() }

// Run loads every source, then checks for changes every PollInterval until ctx
// ends; it returns nil then. Load failures do not stop it: they are reported
// through OnEvent and Status, and retried when the file changes or the feed is
// due again.
func (l *Loader) Run(ctx context.Context) error {
	_ = l.Load(ctx)
	t := time.NewTicker(l.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			l.check(ctx, false)
		}
	}
}

// Load reads every source now, whether it changed or not, and returns the
// failures joined (nil if all loaded). Failed sources keep their previous
// version. It is what Run does first; a caller that must not start without its
// lists calls it before Run and stops on error.
func (l *Loader) Load(ctx context.Context) error {
	return l.check(ctx, true)
}

// Status returns the state of every source, in configuration order.
func (l *Loader) Status() []SourceStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]SourceStatus, 0, len(l.sources))
	for _, st := range l.sources {
		s := SourceStatus{Name: st.src.Name, Origin: st.src.origin(), Kind: st.src.Kind, Err: st.err, LoadedAt: st.loadedAt}
		if st.list != nil {
			s.Loaded, s.Format, s.Entries, s.Bad = true, st.list.Format, st.list.Len(), st.list.Bad
			s.Warnings = slices.Clone(st.list.Warnings)
		}
		out = append(out, s)
	}
	return out
}

// check reloads the sources that changed (all of them when force), swaps in a
// new Set if any list changed, then reports events.
func (l *Loader) check(ctx context.Context, force bool) error {
	l.mu.Lock()
	var events []Event
	var errs []error
	changed := false
	for _, st := range l.sources {
		if ctx.Err() != nil {
			break
		}
		list, warns, err, did := l.reload(ctx, st, force)
		if !did {
			continue
		}
		ev := Event{Source: st.src.Name, Origin: st.src.origin(), Kind: st.src.Kind, Time: time.Now(), Previous: -1}
		if st.list != nil {
			ev.Previous = st.list.Len()
		}
		if err != nil {
			errs = append(errs, err)
			repeat := st.err != nil && st.err.Error() == err.Error()
			st.err = err
			if repeat && !force {
				continue // the same failure as last time: already reported
			}
			ev.Err, ev.Warnings = err, warns
			ev.Entries = max(ev.Previous, 0)
		} else {
			st.list, st.err, st.loadedAt = list, nil, ev.Time
			ev.Entries, ev.Warnings = list.Len(), warns
			changed = true
		}
		events = append(events, ev)
	}
	if changed {
		l.cur.Store(l.build())
	}
	l.mu.Unlock()
	if l.cfg.OnEvent != nil {
		for _, ev := range events {
			l.cfg.OnEvent(ev)
		}
	}
	return errors.Join(errs...)
}

// errUnsettled: the file changed while it was read; it is read again at the next
// check.
var errUnsettled = errors.New("file changed while it was read")

// reload loads one source if it is due (or force). did reports whether a load was
// attempted and has a result to report.
func (l *Loader) reload(ctx context.Context, st *sourceState, force bool) (list *List, warns []Warning, err error, did bool) {
	s := &st.src
	if s.Path != "" {
		fi, err := os.Stat(s.Path)
		if err != nil {
			st.stat = nil
			return nil, nil, err, true
		}
		if !force && st.stat != nil && sameFile(st.stat, fi) {
			return nil, nil, nil, false
		}
		data, err := readSettled(s.Path, fi, s.maxBytes())
		if errors.Is(err, errUnsettled) {
			return nil, nil, nil, false // being written: next time
		}
		st.stat = fi // a broken file is not parsed again until it changes
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.Path, err), true
		}
		list, warns, err = parseBytes(data, s.Options)
		return list, warns, err, true
	}
	now := time.Now()
	if !force && now.Before(st.nextFetch) {
		return nil, nil, nil, false
	}
	etag, lastMod := st.etag, st.lastMod
	if force || st.list == nil {
		etag, lastMod = "", ""
	}
	res, err := fetch(ctx, l.client, s.URL, s.maxBytes(), etag, lastMod)
	if err != nil {
		// Retry sooner than a full refresh, but not at every poll.
		st.nextFetch = now.Add(max(l.cfg.PollInterval, min(s.Refresh, 5*time.Minute)))
		return nil, nil, err, true
	}
	st.nextFetch = now.Add(s.Refresh)
	if res.notModified {
		return nil, nil, nil, false
	}
	list, warns, err = parseBytes(res.body, s.Options)
	if err == nil {
		st.etag, st.lastMod = res.etag, res.lastModified
	}
	return list, warns, err, true
}

// sameFile reports whether the file is unchanged: the same file (not replaced by
// a rename), size and modification time.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// readSettled reads the file at path, which was stat'ed as fi, and fails with
// errUnsettled if it changed while being read (a writer that does not write to
// a temporary file and rename it).
func readSettled(path string, fi os.FileInfo, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readCapped(f, max)
	if err != nil {
		return nil, err
	}
	after, err := os.Stat(path)
	if err != nil || !sameFile(fi, after) || int64(len(data)) != fi.Size() {
		return nil, errUnsettled
	}
	return data, nil
}

// build makes the Set of the built-in lists and every source's version in
// effect.
func (l *Loader) build() *Set {
	var lists []*List
	if l.cfg.Builtins {
		lists = append(lists, BuiltinLists()...)
	}
	for _, st := range l.sources {
		if st.list != nil {
			lists = append(lists, st.list)
		}
	}
	return NewSet(lists...)
}
