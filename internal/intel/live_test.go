package intel

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLiveSet: a live set answers from the set last given to Replace —
// threat entries, trusted entries winning over them, Lists and Len — and a
// set that is not live refuses Replace.
func TestLiveSet(t *testing.T) {
	bad := netip.MustParseAddr("198.51.100.77")
	threat := parseList(t, "bad-hosts", Threat, "198.51.100.0/24\nevil.example\n")
	trusted := parseList(t, "partners", Trusted, "198.51.100.77\n")

	live := NewLiveSet(nil)
	if _, ok := live.Match(bad); ok {
		t.Fatal("an empty live set matched")
	}
	if err := live.Replace(NewSet(threat)); err != nil {
		t.Fatal(err)
	}
	if e, ok := live.Match(bad); !ok || e.List != "bad-hosts" {
		t.Fatalf("after Replace(threat): Match = %+v, %v", e, ok)
	}
	if _, ok := live.MatchDomain("evil.example"); !ok {
		t.Error("the domain entry did not match")
	}
	if err := live.Replace(NewSet(threat, trusted)); err != nil {
		t.Fatal(err)
	}
	if _, ok := live.Match(bad); ok {
		t.Error("a trusted entry did not win over the threat entry")
	}
	if _, ok := live.Trusted(bad); !ok {
		t.Error("Trusted: no answer from the set in effect")
	}
	if v := live.Check(bad); !v.IsThreat || !v.IsTrusted || v.Finding() {
		t.Errorf("Check = %+v", v)
	}
	if n, m := live.Len(); n != 2 || m != 1 || len(live.Lists()) != 2 {
		t.Errorf("Len = %d, %d; Lists = %d", n, m, len(live.Lists()))
	}
	// A live set given to Replace counts as the set it answers from now.
	other := NewLiveSet(NewSet(threat))
	if err := live.Replace(other); err != nil {
		t.Fatal(err)
	}
	if _, ok := live.Match(bad); !ok {
		t.Error("Replace(live set): not its set in effect")
	}
	if err := NewSet(threat).Replace(nil); err == nil {
		t.Error("Replace on a set that is not live: no error")
	}
	var none *Set
	if err := none.Replace(nil); err == nil {
		t.Error("Replace on a nil set: no error")
	}
}

// TestLiveSetConcurrent: lookups never block or see a half-built set while
// Replace swaps sets (run with -race).
func TestLiveSetConcurrent(t *testing.T) {
	bad := netip.MustParseAddr("198.51.100.77")
	with := NewSet(parseList(t, "bad-hosts", Threat, "198.51.100.77\n"))
	without := NewSet()
	live := NewLiveSet(without)
	var stop atomic.Bool
	var hits, misses atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				if e, ok := live.Match(bad); ok {
					if e.List != "bad-hosts" {
						t.Errorf("a hit from list %q", e.List)
						return
					}
					hits.Add(1)
				} else {
					misses.Add(1)
				}
			}
		})
	}
	for i := range 2000 {
		next := with
		if i%2 == 1 {
			next = without
		}
		if err := live.Replace(next); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if _, ok := live.Match(bad); ok {
		t.Error("the last Replace (no lists) is not in effect")
	}
	t.Logf("%d hits, %d misses", hits.Load(), misses.Load())
}
