package sqlstore

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// Every attribute has a column, and every column a Row value.
func TestCatalogue(t *testing.T) {
	for a := range store.Attributes {
		if AttrColumn[a] == "" {
			t.Errorf("attribute %s has no column", a)
		}
	}
	for a := range AttrColumn {
		if _, ok := store.Attributes[a]; !ok {
			t.Errorf("column of unknown attribute %s", a)
		}
	}
	var r Row
	if len(r.Values()) != len(Columns) {
		t.Errorf("%d row values for %d columns", len(r.Values()), len(Columns))
	}
	for _, c := range slices.Collect(maps.Values(AttrColumn)) {
		if !slices.Contains(Columns, c) {
			t.Errorf("attribute column %s is not written", c)
		}
	}
}

// Values never reach SQL text.
func TestWhereIsParameterised(t *testing.T) {
	evil := `x'); DROP TABLE findings; --`
	gte := int64(7)
	var args Args
	sql, _, err := Where(SQLite, store.Criteria{Criterion: map[string]store.Condition{
		"type":                                {Eq: []string{evil, "b"}},
		"resource.instanceDetails.instanceId": {Neq: []string{evil}},
		"severity":                            {Gte: &gte},
	}}, &args)
	if err != nil {
		t.Fatal(err)
	}
	want := "instance_id <> $1 AND severity >= $2 AND type IN ($3, $4)"
	if sql != want {
		t.Errorf("SQL %q, want %q", sql, want)
	}
	if !slices.Equal(args.List, []any{evil, 7.0, "b", evil}) && !slices.Equal(args.List, []any{evil, 7.0, evil, "b"}) {
		t.Errorf("args %q", args.List)
	}
	if strings.Contains(sql, "DROP") {
		t.Error("a value reached the SQL text")
	}
}

func TestTokens(t *testing.T) {
	tk := NewTokens(NewTokenKey())
	qh := [8]byte{1, 2, 3}
	for _, tc := range []struct {
		kind store.Kind
		v    any
		want any
	}{
		{store.KindString, "Recon:EC2/Portscan", "Recon:EC2/Portscan"},
		{store.KindString, "", ""},
		{store.KindNumber, 5.5, 5.5},
		{store.KindNumber, int64(8), 8.0},
		{store.KindTime, int64(1767261600000), int64(1767261600000)},
		{store.KindInt, int64(-3), int64(-3)},
		{store.KindBool, true, true},
		{store.KindBool, int64(0), false}, // SQLite returns booleans as integers
	} {
		tok, err := tk.Sign(qh, tc.kind, tc.v, "id\x00'\"")
		if err != nil {
			t.Fatal(err)
		}
		v, id, err := tk.Verify(tok, qh, tc.kind)
		if err != nil || v != tc.want || id != "id\x00'\"" {
			t.Errorf("%v: got %v %q %v", tc.v, v, id, err)
		}
		if _, _, err := tk.Verify(tok, [8]byte{9}, tc.kind); !errors.Is(err, store.ErrInvalidToken) {
			t.Errorf("other query: %v", err)
		}
		if _, _, err := NewTokens(NewTokenKey()).Verify(tok, qh, tc.kind); !errors.Is(err, store.ErrInvalidToken) {
			t.Errorf("other key: %v", err)
		}
		for i := range len(tok) {
			b := []byte(tok)
			b[i] ^= 1
			if _, _, err := tk.Verify(store.PageToken(b), qh, tc.kind); !errors.Is(err, store.ErrInvalidToken) {
				t.Errorf("byte %d flipped: %v", i, err)
			}
		}
	}
	if _, err := tk.Sign(qh, store.KindNumber, "x", "id"); err == nil {
		t.Error("signed a string as a number")
	}
}

func TestLoadMigrations(t *testing.T) {
	ok := fstest.MapFS{
		"m/0001_a.sql": {Data: []byte("CREATE TABLE a (x int);")},
		"m/0002_b.sql": {Data: []byte("CREATE TABLE b (x int);")},
	}
	ms, err := LoadMigrations(ok, "m")
	if err != nil || len(ms) != 2 || ms[1].Version != 2 || ms[1].Name != "b" {
		t.Fatalf("%+v %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {Data: []byte("x")}, "m/0003_c.sql": {Data: []byte("x")}},
		"repeat":   {"m/0001_a.sql": {Data: []byte("x")}, "m/0001_b.sql": {Data: []byte("x")}},
		"bad name": {"m/0001_a.sql": {Data: []byte("x")}, "m/2_b.sql": {Data: []byte("x")}},
		"empty":    {"m/0001_a.sql": {Data: []byte(" \n")}},
	} {
		if _, err := LoadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCache(t *testing.T) {
	c := NewCache(10_000)
	f := finding.Finding{ID: "a", Title: "first"}
	c.Put("a", 1, 0, f, 1000)
	if got, ok := c.Get("a", 1); !ok || got.Title != "first" {
		t.Errorf("hit: %v %v", got, ok)
	}
	if _, ok := c.Get("a", 2); ok {
		t.Error("hit at another revision")
	}
	// Bounded: 2*size+256 per entry.
	for i := range 10 {
		c.Put(string(rune('b'+i)), 1, 0, f, 1000)
	}
	if c.Len() != 4 {
		t.Errorf("%d entries in a cache for 4", c.Len())
	}
	if _, ok := c.Get("a", 1); ok {
		t.Error("least recently used entry kept")
	}
	var none *Cache
	none.Put("a", 1, 0, f, 10)
	if _, ok := none.Get("a", 1); ok || none.Len() != 0 || NewCache(0) != nil {
		t.Error("a nil cache cached")
	}
}

// Apply never writes through the findings it was given or the stored one.
func TestApplyDoesNotAlias(t *testing.T) {
	ev := make([]finding.EvidenceRecord, 1, 10)
	ev[0] = finding.EvidenceRecord{Time: 5, Raw: "stored"}
	stored := finding.Finding{ID: "x", Evidence: ev, Service: finding.Service{Count: 1}}
	src := finding.Finding{ID: "x", Evidence: []finding.EvidenceRecord{{Time: 1, Raw: "new"}}}
	b, err := NewBatch([]finding.Finding{src})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := b.Apply("x", &stored, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Finding.Evidence) != 2 || ch.Finding.Service.Count != 2 {
		t.Errorf("merged %+v", ch.Finding)
	}
	if ev[:2][1].Raw != "" || stored.Evidence[0].Raw != "stored" || stored.Service.Count != 1 {
		t.Error("Apply wrote into the stored finding's memory")
	}
}

func TestPatternTranslation(t *testing.T) {
	for _, tc := range []struct{ in, glob, like string }{
		{"*", "*", "%"},
		{"***", "*", "%"},
		{"a*b**c", "a*b*c", "a%b%c"},
		{"100%_done", "100%_done", `100\%\_done`},
		{`C:\dir\*`, `C:\dir\*`, `C:\\dir\\%`},
		{"what?[x]", "what[?][[]x]", "what?[x]"},
		{"é*日本", "é*日本", "é%日本"},
	} {
		if got := GlobPattern(tc.in); got != tc.glob {
			t.Errorf("GlobPattern(%q) = %q, want %q", tc.in, got, tc.glob)
		}
		if got := LikePattern(tc.in); got != tc.like {
			t.Errorf("LikePattern(%q) = %q, want %q", tc.in, got, tc.like)
		}
	}
}

// Patterns are parameters too, in both dialects.
func TestPatternsAreParameterised(t *testing.T) {
	evil := `x' OR 1=1; --*`
	c := store.Criteria{Criterion: map[string]store.Condition{
		"type":                                {Matches: []string{evil, "b*"}},
		"resource.instanceDetails.instanceId": {NotMatches: []string{"i-*"}},
	}}
	for _, tc := range []struct {
		d    Dialect
		want string
		args []any
	}{
		{SQLite, "(instance_id NOT GLOB $1) AND (type GLOB $2 OR type GLOB $3)", []any{"i-*", "b*", `x' OR 1=1; --*`}},
		{PostgreSQL, `(instance_id NOT LIKE $1 ESCAPE E'\\') AND (type LIKE $2 ESCAPE E'\\' OR type LIKE $3 ESCAPE E'\\')`, []any{"i-%", "b%", `x' OR 1=1; --%`}},
	} {
		var args Args
		sql, _, err := Where(tc.d, c, &args)
		if err != nil {
			t.Fatal(err)
		}
		if sql != tc.want || !slices.Equal(args.List, tc.args) {
			t.Errorf("dialect %d: %s %q\nwant %s %q", tc.d, sql, args.List, tc.want, tc.args)
		}
	}
}

// A repeat writes only RepeatColumns, so every other column of Row must take
// part in sameBut: a column added to Row and forgotten there would keep its
// old value on a repeat.
func TestRepeatColumns(t *testing.T) {
	repeat := map[string]bool{"Archived": true, "Count": true, "UpdatedAt": true, "EventFirstSeen": true, "EventLastSeen": true, "Rev": true, "Body": true}
	if len(repeat) != len(RepeatColumns) || len((&Row{}).RepeatValues()) != len(RepeatColumns) {
		t.Fatalf("%d repeat fields, %d RepeatColumns, %d RepeatValues", len(repeat), len(RepeatColumns), len((&Row{}).RepeatValues()))
	}
	for _, c := range RepeatColumns {
		if !slices.Contains(Columns, c) {
			t.Errorf("repeat column %s is not a column", c)
		}
	}
	var base Row
	rt := reflect.TypeFor[Row]()
	for i := range rt.NumField() {
		r := base
		v := reflect.ValueOf(&r).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("changed")
		case reflect.Int64:
			v.SetInt(42)
		case reflect.Float64:
			v.SetFloat(4.2)
		case reflect.Bool:
			v.SetBool(true)
		default:
			t.Fatalf("field %s of kind %s: extend this test", rt.Field(i).Name, v.Kind())
		}
		name := rt.Field(i).Name
		if got := base.sameBut(&r); got != repeat[name] {
			t.Errorf("a change of %s: sameBut %v, want %v", name, got, repeat[name])
		}
	}
}
