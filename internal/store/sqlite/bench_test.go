package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// BenchmarkUpsert: go test -run '^$' -bench Upsert ./internal/store/sqlite
func BenchmarkUpsert(b *testing.B) {
	s, err := Open(context.Background(), Config{Path: filepath.Join(b.TempDir(), "vigil.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchUpsert(b, s)
}

const bigN = 1_000_000

// BenchmarkList1M lists over a million stored findings:
//
//	go test -run '^$' -bench List1M -benchtime 200x ./internal/store/sqlite
//
// Building the database takes a few minutes and 2.4 GB in a temporary
// directory, removed afterwards. Set VIGIL_BENCH_DB to a file path to keep it
// between runs instead (it is completed when it holds fewer findings).
func BenchmarkList1M(b *testing.B) {
	path := os.Getenv("VIGIL_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "vigil.db")
	}
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var have int
	if err := s.r.QueryRow("SELECT count(*) FROM findings").Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have < bigN {
		storetest.Fill(b, s, storetest.NewSynth(b), have, bigN, b.Logf)
		// Planner statistics, as PRAGMA optimize leaves them in a running store.
		if _, err := s.w.Exec("ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	storetest.BenchList(b, s)
}
