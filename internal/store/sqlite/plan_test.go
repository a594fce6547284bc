package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// queryPlan returns SQLite's plan for a List, one step per line.
func queryPlan(t testing.TB, s *Store, c store.Criteria, srt store.Sort, token store.PageToken) string {
	t.Helper()
	q, err := sqlstore.NewListQuery(sqlstore.SQLite, s.tokens, c, srt, token, 50)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+q.SQL, q.Args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "; ")
}

// sortsRows reports whether a plan sorts rows read from findings (rather than
// the few rows of a LIMITed subquery, which a merge may sort).
func sortsRows(plan string) bool {
	steps := strings.Split(plan, "; ")
	for i := 1; i < len(steps); i++ {
		if strings.Contains(steps[i], "TEMP B-TREE") && strings.Contains(steps[i-1], " findings ") {
			return true
		}
	}
	return false
}

// The benchmark's list queries read an index in order — no sort of the matching
// rows — whether or not the planner has statistics, first page and later.
func TestListPlans(t *testing.T) {
	s, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "vigil.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.Fill(t, s, storetest.NewSynth(t), 0, 2000, nil)
	p, err := s.List(context.Background(), storetest.ListCases[1].Criteria, store.Sort{}, "", 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := s.w.Exec("ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range storetest.ListCases {
			plan := queryPlan(t, s, c.Criteria, c.Sort, "")
			t.Logf("analyzed=%v %s: %s", analyzed, c.Name, plan)
			if sortsRows(plan) || !strings.Contains(plan, "INDEX") {
				t.Errorf("analyzed=%v %s: plan sorts the matches or scans the table: %s", analyzed, c.Name, plan)
			}
		}
		if plan := queryPlan(t, s, storetest.ListCases[1].Criteria, store.Sort{}, p.Next); sortsRows(plan) {
			t.Errorf("next page sorts: %s", plan)
		}
	}
}
