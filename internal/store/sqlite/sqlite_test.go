package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "vigil.db")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestMigrations migrates from every earlier schema version, with data written
// at that version, to the latest, and checks the data through the Store.
func TestMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f := storetest.NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-1", "198.51.100.7", storetest.Base)
	for from := 0; from < len(ms); from++ {
		t.Run(fmt.Sprintf("from_v%d", from), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vigil.db")
			old, err := open(ctx, Config{Path: path}, from)
			if err != nil {
				t.Fatal(err)
			}
			if v := schemaVersion(t, old.w); v != from {
				t.Fatalf("opened at version %d, want %d", v, from)
			}
			seed(t, old.w, from, &f)
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := Open(ctx, Config{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v := schemaVersion(t, s.w); v != len(ms) {
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
			// Opening again is a no-op.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s, err = Open(ctx, Config{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			if v := schemaVersion(t, s.w); v != len(ms) {
				t.Errorf("version %d after reopening", v)
			}
		})
	}
}

// seed writes data with the SQL of schema version v, as the vigil of that
// version would have. Add a case when adding a migration.
func seed(t *testing.T, db *sql.DB, v int, f *finding.Finding) {
	t.Helper()
	if v >= 1 {
		body := storetest.JSON(t, f)
		_, err := db.Exec(`INSERT INTO findings (id, account_id, region, type, severity, resource_type, resource_id,
			instance_id, access_key_id, action_type, resource_role, remote_ipv4, api_remote_ipv4, dns_domain,
			archived, user_feedback, count, created_at, updated_at, event_first_seen, event_last_seen, rev, body)
			VALUES ($1, $2, $3, $4, $5, 'Instance', 'i-1', 'i-1', '', 'NETWORK_CONNECTION', 'TARGET', '198.51.100.7', '', '',
			0, '', 1, $6, $6, $6, $6, 1, $7)`,
			f.ID, f.AccountID, f.Region, string(f.Type), float64(f.Severity), int64(f.CreatedAt), string(body))
		if err != nil {
			t.Fatal(err)
		}
	}
	if v >= 2 {
		if _, err := db.Exec(`INSERT INTO checkpoints (source, position, updated_at) VALUES ('seed', X'3432', 0)`); err != nil {
			t.Fatal(err)
		}
	}
}

func schemaVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow("SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(context.Background(), Config{Path: path}); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Open = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, Config{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no path: %v", err)
	}
	if _, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "x.db"), Synchronous: "OFF"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("synchronous OFF: %v", err)
	}
	if _, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")}); err == nil {
		t.Error("a path in a missing directory opened")
	}
}

// A path with URI metacharacters is a file name, not parameters.
func TestOddPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a?b#c%20 d&_txlock=exclusive.db")
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Upsert(context.Background(), []finding.Finding{storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", storetest.Base)}, storetest.Base); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); !slices.Contains(m, path) {
		t.Errorf("files %v; want %s", m, path)
	}
}

// Two Stores (as two processes would) on one file: writes serialise on the
// file's lock and no occurrence is lost.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	a, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f := storetest.NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-1", "198.51.100.7", storetest.Base)
	done := make(chan error, 2)
	for _, s := range []*Store{a, b} {
		go func() {
			for range 100 {
				if _, err := s.Upsert(ctx, []finding.Finding{f}, storetest.Base); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Get(ctx, []string{f.ID})
	if err != nil || len(got) != 1 || got[0].Service.Count != 200 {
		t.Fatalf("count %+v %v, want 200", got, err)
	}
}
