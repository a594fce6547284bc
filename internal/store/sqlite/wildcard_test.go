package sqlite

import (
	"database/sql"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/internal/sqlstore"
)

// FuzzGlobPattern: SQLite's GLOB with a translated pattern (the store's
// Matches) agrees with store.MatchWildcard on any pattern and value, as the
// store holds them (store.Text applied).
func FuzzGlobPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"*", ""}, {"a*c", "abc"}, {"a*c", "ABC"}, {"a?c", "abc"}, {"a?c", "a?c"}, {"[a]", "a"}, {"[a]", "[a]"},
		{"[*", "[x"}, {"*]", "x]"}, {`*\*`, `a\b`}, {"%", "x"}, {"_", "_"}, {"*日本*", "こんにちは日本語"}, {"Ü*", "üx"},
		{"**a**", "ba"}, {"[!a]", "b"}, {"[^a]", "b"}, {"*[]*", "x[]y"},
	} {
		f.Add(s[0], s[1])
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	f.Fuzz(func(t *testing.T, pattern, v string) {
		pattern, v = store.Text(pattern), store.Text(v)
		var got bool
		if err := db.QueryRow("SELECT $1 GLOB $2", v, sqlstore.GlobPattern(pattern)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := store.MatchWildcard(pattern, v); got != want {
			t.Fatalf("%q GLOB %q (pattern %q) is %v, MatchWildcard says %v", v, sqlstore.GlobPattern(pattern), pattern, got, want)
		}
	})
}
