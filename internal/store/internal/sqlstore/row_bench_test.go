package sqlstore_test

import (
	"testing"

	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// BenchmarkRowOf: encoding a flow-log finding into its row, which an upsert
// does for every finding it writes (go test -bench RowOf ./internal/store/internal/sqlstore).
func BenchmarkRowOf(b *testing.B) {
	f := storetest.NewSynth(b).Finding(1)
	for b.Loop() {
		if _, err := sqlstore.RowOf(&f); err != nil {
			b.Fatal(err)
		}
	}
}
