package postgres

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

// testLikePattern: PostgreSQL's LIKE with a translated pattern (the store's
// Matches) agrees with store.MatchWildcard on 20,000 random pairs of pattern
// and value drawn from an alphabet of LIKE's, GLOB's and the wildcard's
// metacharacters, letters of both cases and multi-byte characters. (SQLite's
// GLOB has a fuzz target, FuzzGlobPattern; a fuzz target here would need a
// server per run.)
func testLikePattern(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, freshDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	alphabet := []string{"a", "A", "b", "%", "_", `\`, "*", "*", "?", "[", "]", "é", "É", "日", "."}
	r := rand.New(rand.NewPCG(5, 6))
	word := func(max int) string {
		var b strings.Builder
		for range r.IntN(max + 1) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	const n = 20000
	vals, pats, likes := make([]string, n), make([]string, n), make([]string, n)
	for i := range n {
		vals[i], pats[i] = strings.ReplaceAll(word(6), "*", "x"), word(5)
		if pats[i] == "" {
			pats[i] = "*"
		}
		likes[i] = sqlstore.LikePattern(pats[i])
	}
	rows, err := conn.Query(ctx, `SELECT v LIKE p ESCAPE E'\\' FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(v, p, i) ORDER BY i`, vals, likes)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i, matched := 0, 0
	for rows.Next() {
		var got bool
		if err := rows.Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := store.MatchWildcard(pats[i], vals[i]); got != want {
			t.Errorf("%q LIKE %q (pattern %q) is %v, MatchWildcard says %v", vals[i], likes[i], pats[i], got, want)
		}
		if got {
			matched++
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != n || matched < n/20 || matched > n-n/20 {
		t.Errorf("%d rows, %d matched: the pairs test little", i, matched)
	}
}
