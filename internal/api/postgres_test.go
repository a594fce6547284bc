package api_test

import (
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/postgres"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// TestAPIOnPostgres runs the API's main paths on the cluster store: the same
// handlers, a real PostgreSQL.
func TestAPIOnPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	st, err := postgres.Open(ctx, postgres.Config{DSN: testenv.PostgresDatabase(t, dsn)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs := storetest.Corpus(t, 200, 3)
	if _, err := st.Upsert(ctx, fs, storetest.Base); err != nil {
		t.Fatal(err)
	}
	secret := api.NewSecret()
	if _, err := st.CreateToken(ctx, store.Token{Name: "ops", Scope: store.ScopeAdmin, Hash: api.HashSecret(secret)}, store.Actor{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.DefaultConfig(), api.Deps{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c, _ := client.New(client.Config{Server: hs.URL, Token: secret})

	crit := typeIs("Recon:EC2/Portscan")
	want, _ := st.List(ctx, *crit, store.Sort{}, "", store.MaxLimit)
	var got []string
	if err := c.EachFinding(ctx, crit, nil, 7, 0, func(page []finding.Finding) bool {
		for _, f := range page {
			got = append(got, f.ID)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || !slices.Equal(got, want.IDs) {
		t.Errorf("listed %d, store %d", len(got), len(want.IDs))
	}
	r, err := c.CreateFilter(ctx, api.CreateFilterRequest{Name: "scans", Action: store.FilterArchive, FindingCriteria: crit})
	if err != nil || r.PreviewCount != int64(len(want.IDs)) {
		t.Fatalf("create filter: %+v %v", r, err)
	}
	if _, _, _, err := c.CreateList(ctx, store.ListTrusted, api.CreateListRequest{Name: "office", Format: "TXT", Content: "192.0.2.0/24\n", Activate: new(true)}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = c.CreateList(ctx, store.ListTrusted, api.CreateListRequest{Name: "second", Format: "TXT", Content: "192.0.2.1\n", Activate: new(true)})
	wantCode(t, err, "LimitExceeded")
	a, err := c.ListAuditEvents(ctx, api.AuditRequest{BlindingOnly: true})
	if err != nil || len(a.Events) != 2 {
		t.Errorf("blinding events: %+v %v", a, err)
	}
	p, err := st.List(ctx, *typeIs("Policy:Vigil/TrustedListChanged"), store.Sort{}, "", 10)
	if err != nil || len(p.IDs) != 1 {
		t.Errorf("trusted list finding: %v %v", p.IDs, err)
	}
}
