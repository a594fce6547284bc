package notify

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// BenchmarkEnqueue measures queueing the alerts of an upsert of 100 findings
// (half new, half repeats) for three destinations on SQLite: the cost the
// detection pipeline pays per batch.
func BenchmarkEnqueue(b *testing.B) {
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "vigil.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cfg := DefaultConfig()
	for _, name := range []string{"a", "b", "c"} {
		cfg.Destinations = append(cfg.Destinations, DestinationConfig{Name: name, Webhook: &WebhookConfig{URL: "http://127.0.0.1:1/"}})
	}
	d, err := New(cfg, Deps{Outbox: st.Outbox(), Clock: WallClock{}})
	if err != nil {
		b.Fatal(err)
	}
	var res store.UpsertResult
	for i := range 100 {
		f := storetest.NetFinding(b, "Recon:EC2/Portscan", "111122223333", "i-1", fmt.Sprintf("198.51.%d.%d", i/250, i%250), finding.TimeOf(time.Now()))
		res.Changes = append(res.Changes, store.Change{Finding: f, Created: i%2 == 0})
	}
	b.ResetTimer()
	for range b.N {
		if err := d.Enqueue(context.Background(), res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(res.Changes))/b.Elapsed().Seconds(), "changes/s")
}
