package api_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// BenchmarkListFindingsHTTP measures ListFindings over HTTP — the Go client,
// authentication (a token lookup), decoding, the criteria checks, the store's
// query and the encoding of the answer — first pages of 50 on a SQLite store
// of VIGIL_BENCH_FINDINGS synthetic findings (default 200,000; the store's own
// BenchmarkList1M has a million), with the store benchmark's criteria:
//
//	go test -run '^$' -bench ListFindingsHTTP -benchtime 200x ./internal/api
//
// Set VIGIL_BENCH_DB to a file path to keep the database between runs.
func BenchmarkListFindingsHTTP(b *testing.B) {
	ctx := context.Background()
	n := 200_000
	if s := os.Getenv("VIGIL_BENCH_FINDINGS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	path := os.Getenv("VIGIL_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "vigil.db")
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	gs, err := st.Statistics(ctx, store.StatisticsQuery{GroupBy: store.GroupByAccount})
	if err != nil {
		b.Fatal(err)
	}
	have := 0
	for _, g := range gs {
		have += int(g.Total)
	}
	if have < n {
		storetest.Fill(b, st, storetest.NewSynth(b), have, n, b.Logf)
	}
	secret := api.NewSecret()
	if _, err := st.CreateToken(ctx, store.Token{Name: "bench-" + strconv.Itoa(os.Getpid()) + "-" + secret[4:12], Scope: store.ScopeRead,
		Hash: api.HashSecret(secret)}, store.Actor{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.DefaultConfig(), api.Deps{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c, err := client.New(client.Config{Server: hs.URL, Token: secret, DetectorID: "default"})
	if err != nil {
		b.Fatal(err)
	}
	for _, lc := range storetest.ListCases {
		b.Run(lc.Name, func(b *testing.B) {
			crit, srt := lc.Criteria, lc.Sort
			var ids int
			for b.Loop() {
				p, err := c.ListFindings(ctx, api.ListFindingsRequest{FindingCriteria: &crit, SortCriteria: &srt, MaxResults: 50})
				if err != nil {
					b.Fatal(err)
				}
				ids = len(p.FindingIDs)
			}
			b.ReportMetric(float64(ids), "ids")
		})
	}
	b.Run("type/list+get", func(b *testing.B) {
		lc := storetest.ListCases[1]
		for b.Loop() {
			p, err := c.ListFindings(ctx, api.ListFindingsRequest{FindingCriteria: &lc.Criteria, MaxResults: 50})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.GetFindings(ctx, p.FindingIDs, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
