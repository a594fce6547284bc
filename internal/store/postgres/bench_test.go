package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// benchStore opens a store on a throwaway server. VIGIL_BENCH_FSYNC=1 keeps
// PostgreSQL's fsync on (slower, what production does); by default it is off.
func benchStore(b *testing.B) *Store {
	b.Helper()
	dsn := testenv.StartPostgres(b, testenv.PostgresOptions{Fsync: os.Getenv("VIGIL_BENCH_FSYNC") == "1"})
	s, err := Open(context.Background(), Config{DSN: testenv.PostgresDatabase(b, dsn)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkUpsert: go test -run '^$' -bench Upsert ./internal/store/postgres
func BenchmarkUpsert(b *testing.B) {
	storetest.BenchUpsert(b, benchStore(b))
}

const bigN = 1_000_000

// BenchmarkList1M lists over a million stored findings; building them takes a
// few minutes: go test -run '^$' -bench List1M -benchtime 200x ./internal/store/postgres
func BenchmarkList1M(b *testing.B) {
	s := benchStore(b)
	storetest.Fill(b, s, storetest.NewSynth(b), 0, bigN, b.Logf)
	// Statistics for the planner and the visibility map for index-only scans,
	// as autovacuum would leave them.
	if _, err := s.pool.Exec(context.Background(), "VACUUM ANALYZE findings"); err != nil {
		b.Fatal(err)
	}
	storetest.BenchList(b, s)
}
