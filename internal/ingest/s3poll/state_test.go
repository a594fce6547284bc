package s3poll

import (
	"testing"
	"time"
)

// FuzzDecodeState: a checkpointed position that is not one of ours is an
// error, never a panic.
func FuzzDecodeState(f *testing.F) {
	st := state{From: "AWSLogs/1/a", Cur: "AWSLogs/1/b", Off: 10}
	st.markDone("AWSLogs/1/c", time.Unix(1, 0))
	f.Add(st.encode())
	f.Add([]byte(`{"off":-5}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b)
		if err != nil {
			return
		}
		if s.Off < 0 {
			t.Fatalf("accepted a negative offset: %+v", s)
		}
		s.done("x")
		s.compact(time.Now(), time.Minute, 10)
	})
}

// TestStateCompact: read keys older than the lookback move the cursor; the
// recent ones stay listed; the bound holds.
func TestStateCompact(t *testing.T) {
	now := time.Unix(10_000, 0)
	var st state
	st.markDone("k1", now.Add(-time.Hour))
	st.markDone("k3", now.Add(-time.Hour))
	st.markDone("k2", now)
	st.compact(now, 10*time.Minute, 10)
	if st.From != "k1" || len(st.Done) != 2 || st.Done[0].K != "k2" {
		t.Errorf("after compact: %+v", st)
	}
	if !st.done("k1") || !st.done("k0") || !st.done("k3") || st.done("k4") {
		t.Errorf("done() wrong for %+v", st)
	}
	st.compact(now, 10*time.Minute, 1)
	if len(st.Done) != 0 || st.From != "k3" {
		t.Errorf("bound of 1 (k2 forced out, then k3 old): %+v", st)
	}
}
