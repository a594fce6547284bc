package postgres

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// TestDecisionsContract runs the decisions contract (storetest.RunDecisions)
// against a PostgreSQL server of its own, each test on a fresh database.
func TestDecisionsContract(t *testing.T) {
	dsn := testenv.Postgres(t)
	storetest.RunDecisions(t, func(t *testing.T) store.Decisions {
		s, err := Open(context.Background(), Config{DSN: testenv.PostgresDatabase(t, dsn)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
