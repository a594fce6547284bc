package postgres

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// TestOutboxContract runs the store.Outbox contract (storetest.RunOutbox) on a
// PostgreSQL server of its own, each test on a database of its own.
func TestOutboxContract(t *testing.T) {
	dsn := testenv.Postgres(t)
	storetest.RunOutbox(t, func(t *testing.T) store.Outbox {
		s, err := Open(context.Background(), Config{DSN: testenv.PostgresDatabase(t, dsn)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s.Outbox()
	})
}
