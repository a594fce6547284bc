package sqlite

import (
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestDecisionsContract runs the decisions contract (storetest.RunDecisions)
// against SQLite.
func TestDecisionsContract(t *testing.T) {
	storetest.RunDecisions(t, func(t *testing.T) store.Decisions {
		s := openTemp(t)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
