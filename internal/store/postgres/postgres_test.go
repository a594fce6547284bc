package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// server is one PostgreSQL for the package's tests; each test gets a database.
var server struct {
	once sync.Once
	dsn  string
}

func freshDSN(t *testing.T) string {
	t.Helper()
	// The server belongs to the first test that needs it; later tests must not
	// outlive it, so they run inside it (subtests) — see TestPostgres.
	return testenv.PostgresDatabase(t, server.dsn)
}

func openFresh(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{DSN: freshDSN(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPostgres starts one server and runs every PostgreSQL test against it, each
// on a database of its own.
func TestPostgres(t *testing.T) {
	server.dsn = testenv.Postgres(t)
	t.Run("Contract", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
	})
	t.Run("Migrations", testMigrations)
	t.Run("ConcurrentOpen", testConcurrentOpen)
	t.Run("SchemaTooNew", testSchemaTooNew)
	t.Run("OpenErrors", testOpenErrors)
	t.Run("LikePattern", testLikePattern)
}

// testMigrations migrates from every earlier schema version, with data written
// at that version, to the latest, and checks the data through the Store.
func testMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f := storetest.NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-1", "198.51.100.7", storetest.Base)
	for from := 0; from < len(ms); from++ {
		t.Run(fmt.Sprintf("from_v%d", from), func(t *testing.T) {
			dsn := freshDSN(t)
			old, err := open(ctx, Config{DSN: dsn}, from)
			if err != nil {
				t.Fatal(err)
			}
			if v := schemaVersion(t, old); v != from {
				t.Fatalf("opened at version %d, want %d", v, from)
			}
			seed(t, old, from, &f)
			old.Close()

			s, err := Open(ctx, Config{DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v := schemaVersion(t, s); v != len(ms) {
				t.Fatalf("version %d after Open, want %d", v, len(ms))
			}
			if from >= 1 {
				got, err := s.Get(ctx, []string{f.ID})
				if err != nil || len(got) != 1 || got[0].Service.Count != 1 {
					t.Fatalf("finding written at version %d: %v %+v", from, err, got)
				}
				p, err := s.List(ctx, store.Criteria{Criterion: map[string]store.Condition{"type": {Eq: []string{string(f.Type)}}}}, store.Sort{}, "", 0)
				if err != nil || !slices.Equal(p.IDs, []string{f.ID}) {
					t.Fatalf("list after migration: %v %v", p.IDs, err)
				}
				if _, err := s.Upsert(ctx, []finding.Finding{f}, storetest.Base+1); err != nil {
					t.Fatal(err)
				}
				if got, _ := s.Get(ctx, []string{f.ID}); got[0].Service.Count != 2 {
					t.Errorf("count %d after merging into a migrated finding", got[0].Service.Count)
				}
			}
			if from >= 2 {
				if pos, ok, err := s.GetCheckpoint(ctx, "seed"); err != nil || !ok || string(pos) != "42" {
					t.Errorf("checkpoint written at version %d: %q %v %v", from, pos, ok, err)
				}
			}
		})
	}
}

// seed writes data with the SQL of schema version v, as the vigil of that
// version would have. Add a case when adding a migration.
func seed(t *testing.T, s *Store, v int, f *finding.Finding) {
	t.Helper()
	ctx := context.Background()
	if v >= 1 {
		body := storetest.JSON(t, f)
		_, err := s.pool.Exec(ctx, `INSERT INTO findings (id, account_id, region, type, severity, resource_type, resource_id,
			instance_id, access_key_id, action_type, resource_role, remote_ipv4, api_remote_ipv4, dns_domain,
			archived, user_feedback, count, created_at, updated_at, event_first_seen, event_last_seen, rev, body)
			VALUES ($1, $2, $3, $4, $5, 'Instance', 'i-1', 'i-1', '', 'NETWORK_CONNECTION', 'TARGET', '198.51.100.7', '', '',
			false, '', 1, $6, $6, $6, $6, 1, $7)`,
			f.ID, f.AccountID, f.Region, string(f.Type), float64(f.Severity), int64(f.CreatedAt), string(body))
		if err != nil {
			t.Fatal(err)
		}
	}
	if v >= 2 {
		if _, err := s.pool.Exec(ctx, `INSERT INTO checkpoints (source, position, updated_at) VALUES ('seed', '\x3432', 0)`); err != nil {
			t.Fatal(err)
		}
	}
}

func schemaVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.pool.QueryRow(context.Background(), "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Nodes starting together migrate once and all come up.
func testConcurrentOpen(t *testing.T) {
	dsn := freshDSN(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			s, err := Open(context.Background(), Config{DSN: dsn})
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func testSchemaTooNew(t *testing.T) {
	dsn := freshDSN(t)
	s, err := Open(context.Background(), Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(context.Background(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(context.Background(), Config{DSN: dsn}); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Open = %v, want ErrSchemaTooNew", err)
	}
}

func testOpenErrors(t *testing.T) {
	if _, err := Open(context.Background(), Config{DSN: "postgres://vigil:s3cret@[::1"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad DSN: %v", err)
	} else if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
	u := server.dsn[:strings.LastIndex(server.dsn, "/")] + "/no_such_database?sslmode=disable"
	if _, err := Open(context.Background(), Config{DSN: u}); err == nil {
		t.Error("opened a database that does not exist")
	}
}
