package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestOutboxContract runs the store.Outbox contract (storetest.RunOutbox).
func TestOutboxContract(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) store.Outbox {
		s := openTemp(t)
		t.Cleanup(func() { _ = s.Close() })
		return s.Outbox()
	})
}

// TestOutboxSurvivesReopen writes outbox rows at schema version 3, where the
// outbox appeared, and reads them after migrating to the latest version and
// reopening: an alert queued before an upgrade or a restart is still there.
func TestOutboxSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	old, err := open(ctx, Config{Path: path}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.w.Exec(`INSERT INTO outbox (destination, finding_id, kind, payload, rev, created_at, due_at, attempts, last_error)
		VALUES ('slack', 'f1', 'new', X'7B7D', 0, 1000, 1000, 2, 'HTTP 500')`); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	es, err := s.Outbox().Due(ctx, "slack", time.UnixMilli(1000), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].FindingID != "f1" || string(es[0].Payload) != "{}" || es[0].Attempts != 2 || es[0].LastError != "HTTP 500" {
		t.Fatalf("after migrating and reopening: %+v", es)
	}
}
