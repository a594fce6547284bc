package obs

import (
	"strings"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	var b strings.Builder
	th := NewThrottle(&b)
	now := time.Unix(0, 0)
	th.now = func() time.Time { return now }
	for i := range 100 {
		th.Printf("field count", "bad %d", i)
	}
	th.Printf("other", "other reason")
	if got := strings.Count(b.String(), "\n"); got != 6 {
		t.Fatalf("wrote %d lines, want 5 + 1:\n%s", got, b.String())
	}
	if th.Suppressed() != 95 {
		t.Errorf("Suppressed = %d, want 95", th.Suppressed())
	}
	now = now.Add(11 * time.Second)
	th.Printf("field count", "bad again")
	if !strings.Contains(b.String(), "bad again (and 95 more like it)") {
		t.Errorf("held-back count not reported:\n%s", b.String())
	}
}
