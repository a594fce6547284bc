package postgres

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// TestAdminPostgres runs the store.Admin contract on a PostgreSQL server of its
// own, each test on a database of its own.
func TestAdminPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	storetest.RunAdmin(t, func(t *testing.T) storetest.AdminStore {
		s, err := Open(context.Background(), Config{DSN: testenv.PostgresDatabase(t, dsn)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
