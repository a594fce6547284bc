package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// scanAll renders every item as "L<line>[#<index>][<key>] <raw>" or
// "L<line>[#<index>] !<reason>".
func scanAll(t *testing.T, r io.Reader, lim Limits, keys ...string) []string {
	t.Helper()
	s := New(r, lim, keys...)
	var out []string
	for range 100000 {
		it, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "L%d", it.Line)
		if it.Index > 0 {
			fmt.Fprintf(&b, "#%d", it.Index)
		}
		if it.Key != "" {
			fmt.Fprintf(&b, "[%s]", it.Key)
		}
		if it.Err != nil {
			if it.Raw != nil {
				t.Errorf("item with error has Raw %q", it.Raw)
			}
			fmt.Fprintf(&b, " !%s", it.Err.Kind)
		} else {
			fmt.Fprintf(&b, " %s", it.Raw)
		}
		out = append(out, b.String())
	}
	t.Fatal("scanner does not end")
	return nil
}

func TestScanner(t *testing.T) {
	small := Limits{MaxSize: 40, MaxDepth: 4}
	cases := []struct {
		name string
		in   string
		lim  Limits
		keys []string
		want []string
	}{
		{name: "json lines", in: "{\"a\":1}\n{\"b\":[2,{\"c\":\"}]\"}]}\r\n\n{\"d\":3}",
			want: []string{`L1 {"a":1}`, `L2 {"b":[2,{"c":"}]"}]}`, `L4 {"d":3}`}},
		{name: "records wrapper", in: `{"Records":[{"a":1},{"b":2}]}`, keys: []string{"Records"},
			want: []string{`L1#1[Records] {"a":1}`, `L1#2[Records] {"b":2}`}},
		{name: "records not first, other members skipped", in: `{"x":{"y":[1,"Records"]},"Records":[{"a":1}],"z":3}`, keys: []string{"Records"},
			want: []string{`L1#1[Records] {"a":1}`}},
		{name: "escaped key", in: `{"Rec\u006frds":[{"a":1}]}`, keys: []string{"Records"},
			want: []string{`L1#1[Records] {"a":1}`}},
		{name: "object without stream key returned whole", in: "{\"eventName\":\"x\", \"Records\": 5}\n", keys: []string{"Records"},
			want: []string{`L1 {"eventName":"x", "Records": 5}`}},
		{name: "stream key with non-array value", in: `{"Records":{"a":1}}`, keys: []string{"Records"},
			want: []string{`L1 {"Records":{"a":1}}`}},
		{name: "concatenated documents", in: `{"a":1}{"Records":[{"b":2}]}[{"c":3}] {"d":4}`, keys: []string{"Records"},
			want: []string{`L1 {"a":1}`, `L1#1[Records] {"b":2}`, `L1#1 {"c":3}`, `L1 {"d":4}`}},
		{name: "pretty array", in: "[\n   {\n      \"a\": 1\n   },\n   {\n      \"b\": [1, 2]\n   }\n]\n",
			want: []string{"L2#1 {\n      \"a\": 1\n   }", "L5#2 {\n      \"b\": [1, 2]\n   }"}},
		{name: "indent=0 (Python)", in: "{\n\"Records\": [\n{\n\"a\": [\n{\n\"b\": 1\n}\n]\n},\n{\n\"c\": 2\n}\n]\n}\n{\n\"d\": [\n1\n]\n}", keys: []string{"Records"},
			want: []string{"L3#1[Records] {\n\"a\": [\n{\n\"b\": 1\n}\n]\n}", "L10#2[Records] {\n\"c\": 2\n}", "L15 {\n\"d\": [\n1\n]\n}"}},
		{name: "top-level scalars", in: `1 -2.5e3 "x" true null`,
			want: []string{`L1 1`, `L1 -2.5e3`, `L1 "x"`, `L1 true`, `L1 null`}},
		{name: "empty", in: "", want: nil},
		{name: "space only", in: " \n\t\r\n", want: nil},
		{name: "byte order mark", in: "\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBF{\"b\":2}", want: []string{`L1 {"a":1}`, `L2 {"b":2}`}},
		{name: "stray closers and commas", in: "]}, {\"a\":1},\n", want: []string{`L1 {"a":1}`}},

		// Bad input.
		{name: "garbage line", in: "not json\n{\"a\":1}\n", want: []string{`L1 !bad JSON`, `L2 {"a":1}`}},
		{name: "garbage lines skipped until a value", in: "<html>\n<body>\n{\"a\":1}\nhello\n", want: []string{`L1 !bad JSON`, `L3 {"a":1}`, `L4 !bad JSON`}},
		{name: "line cut inside a value", in: "{\"a\":{\"b\":1\n{\"c\":2}\n", want: []string{`L1 !truncated`, `L2 {"c":2}`}},
		{name: "line cut inside a string", in: "{\"a\":\"xy\n{\"c\":2}\n", want: []string{`L1 !truncated`, `L2 {"c":2}`}},
		{name: "line cut between members", in: "{\"a\":1,\n{\"c\":2}\n", keys: []string{"Records"},
			want: []string{`L1 !truncated`, `L2 {"c":2}`}},
		{name: "line cut inside a member", in: "{\"a\":{\"b\":1\n{\"c\":2}\n", keys: []string{"Records"},
			want: []string{`L1 !truncated`, `L2 {"c":2}`}},
		{name: "input ends inside a value", in: "{\"a\":1}\n{\"b\":[1,", want: []string{`L1 {"a":1}`, `L2 !truncated`}},
		{name: "input ends inside an array", in: `[{"a":1},{"b":`, want: []string{`L1#1 {"a":1}`, `L1#2 !truncated`}},
		{name: "input ends between elements", in: `{"Records":[{"a":1},`, keys: []string{"Records"},
			want: []string{`L1#1[Records] {"a":1}`, `L1 !truncated`}},
		{name: "input ends in a walked object", in: `{"a":1,"b"`, keys: []string{"Records"}, want: []string{`L1 !truncated`}},
		{name: "mismatched brackets", in: "{\"a\":[1}\n{\"b\":2}", want: []string{`L1 !bad JSON`, `L2 {"b":2}`}},
		{name: "bad byte inside a value", in: "{\"a\":\x01}\n{\"b\":2}", want: []string{`L1 !bad JSON`, `L2 {"b":2}`}},
		{name: "control character in a string", in: "{\"a\":\"\x01\"}\n{\"b\":2}", want: []string{`L1 !bad JSON`, `L2 {"b":2}`}},
		{name: "broken element of a pretty array", in: "[\n   {\n      \"a\": 1,\n      \"b\": x\n   },\n   {\n      \"c\": 2\n   }\n]\n{\"d\":4}",
			want: []string{`L2#1 !bad JSON`, "L6#2 {\n      \"c\": 2\n   }", `L10 {"d":4}`}},
		{name: "broken element of a minified array", in: "[{\"a\":1},{\"b\":x},{\"c\":3}]\n{\"d\":4}",
			want: []string{`L1#1 {"a":1}`, `L1#2 !bad JSON`, `L2 {"d":4}`}},
		{name: "broken member of a walked object", in: "{\"a\":x,\"Records\":[{\"b\":1}]}\n{\"d\":4}", keys: []string{"Records"},
			want: []string{`L1 !bad JSON`, `L2 {"d":4}`}},
		{name: "member name expected", in: "{1:2}\n{\"d\":4}", keys: []string{"Records"}, want: []string{`L1 !bad JSON`, `L2 {"d":4}`}},
		{name: "colon expected", in: "{\"a\" 2}\n{\"d\":4}", keys: []string{"Records"}, want: []string{`L1 !bad JSON`, `L2 {"d":4}`}},

		// Limits.
		{name: "too large", lim: small, in: `{"a":"` + strings.Repeat("x", 100) + "\"}\n{\"b\":2}",
			want: []string{`L1 !too large`, `L2 {"b":2}`}},
		{name: "too large element", lim: small, in: `[{"a":1},"` + strings.Repeat("x", 100) + `",{"b":2}]`,
			want: []string{`L1#1 {"a":1}`, `L1#2 !too large`, `L1#3 {"b":2}`}},
		{name: "too large walked object", lim: small, keys: []string{"Records"}, in: `{"a":"` + strings.Repeat("x", 100) + "\"}\n{\"b\":2}",
			want: []string{`L1 !too large`, `L2 {"b":2}`}},
		{name: "large members before streamed records", lim: small, keys: []string{"Records"},
			in:   `{"pad":"` + strings.Repeat("x", 100) + `","Records":[{"a":1},{"b":2}]}`,
			want: []string{`L1#1[Records] {"a":1}`, `L1#2[Records] {"b":2}`}},
		{name: "many small records in a large file", lim: small, keys: []string{"Records"},
			in:   `{"Records":[` + strings.Repeat(`{"a":1},`, 200) + `{"b":2}]}`,
			want: append(repeat(200, func(i int) string { return fmt.Sprintf(`L1#%d[Records] {"a":1}`, i+1) }), `L1#201[Records] {"b":2}`)},
		{name: "too deep", lim: small, in: "{\"a\":[[[[[1]]]]]}\n{\"b\":[[[1]]]}",
			want: []string{`L1 !too deep`, `L2 {"b":[[[1]]]}`}},
		{name: "too deep walked object", lim: small, keys: []string{"Records"}, in: "{\"a\":[[[[[1]]]]]}\n{\"b\":[[[1]]]}",
			want: []string{`L1 !too deep`, `L2 {"b":[[[1]]]}`}},
		{name: "too deep record", lim: small, keys: []string{"Records"}, in: `{"Records":[{"a":[[[[[1]]]]]},{"b":[[[1]]]}]}`,
			want: []string{`L1#1[Records] !too deep`, `L1#2[Records] {"b":[[[1]]]}`}},
		{name: "bomb", lim: Limits{MaxSize: 1 << 20, MaxDepth: 64}, in: strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n{\"b\":2}",
			want: []string{`L1#1 !too deep`, `L2 {"b":2}`}},
	}
	for _, c := range cases {
		lim := c.lim
		if lim == (Limits{}) {
			lim = DefaultLimits
		}
		for _, mode := range []string{"whole", "one byte"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				var r io.Reader = strings.NewReader(c.in)
				if mode == "one byte" {
					r = iotest.OneByteReader(r)
				}
				got := scanAll(t, r, lim, c.keys...)
				if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
					t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
				}
			})
		}
	}
}

func repeat(n int, f func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// TestScannerHugeValueBoundedMemory checks that a value far over the limit is
// skipped without the buffer growing to hold it.
func TestScannerHugeValueBoundedMemory(t *testing.T) {
	lim := Limits{MaxSize: 1 << 20, MaxDepth: 64}
	huge := `{"a":"` + strings.Repeat("x", 20<<20) + "\"}\n{\"b\":2}\n"
	s := New(strings.NewReader(huge), lim)
	it, err := s.Next()
	if err != nil || it.Err == nil || it.Err.Kind != ErrTooLarge {
		t.Fatalf("first item = %+v, %v; want too large", it.Err, err)
	}
	if len(s.buf) > 4<<20 {
		t.Errorf("buffer grew to %d bytes for a skipped value", len(s.buf))
	}
	it, err = s.Next()
	if err != nil || string(it.Raw) != `{"b":2}` || it.Line != 2 {
		t.Fatalf("second item = %q line %d, %v", it.Raw, it.Line, err)
	}
	if s.Offset() != int64(len(huge)-1) {
		t.Errorf("Offset = %d, want %d", s.Offset(), len(huge)-1)
	}
}

// TestScannerStreamsLargeFile reads a Records file much larger than the buffer and
// the size limit, as CloudTrail delivers them.
func TestScannerStreamsLargeFile(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	const n = 50000
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventName":"E%d","pad":"%s"}`, i, strings.Repeat("p", 100))
	}
	b.WriteString(`]}`)
	s := New(&b, Limits{MaxSize: 4096, MaxDepth: 8}, "Records")
	count := 0
	for {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil || it.Err != nil {
			t.Fatalf("item %d: %v %v", count, err, it.Err)
		}
		var e struct{ EventName string }
		if err := json.Unmarshal(it.Raw, &e); err != nil || e.EventName != fmt.Sprintf("E%d", count) {
			t.Fatalf("item %d = %s (%v)", count, it.Raw, err)
		}
		count++
	}
	if count != n {
		t.Errorf("got %d records, want %d", count, n)
	}
	if len(s.buf) > 256<<10 {
		t.Errorf("buffer grew to %d bytes", len(s.buf))
	}
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("{\"a\":1}\n{\"b\""), iotest.ErrReader(boom))
	s := New(r, DefaultLimits)
	it, err := s.Next()
	if err != nil || string(it.Raw) != `{"a":1}` {
		t.Fatalf("first = %q, %v", it.Raw, err)
	}
	for range 3 {
		if _, err = s.Next(); err != nil {
			break
		}
	}
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"Records":[{"a":1},{"b":[2]}]}`, "{\"a\":1}\n{\"b\":2}", `[1,"x",{"y":null}]`, "[\n {\n  \"a\": x\n },\n {}\n]", `{"a":"\"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, keys := range [][]string{nil, {"Records"}} {
			s := New(iotest.HalfReader(bytes.NewReader(in)), Limits{MaxSize: 64, MaxDepth: 5}, keys...)
			var prev int64
			for range len(in) + 2 {
				it, err := s.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if off := s.Offset(); off < prev || off > int64(len(in)) {
					t.Fatalf("offset %d after %d (input %d bytes)", off, prev, len(in))
				}
				prev = s.Offset()
				if it.Err == nil {
					if len(it.Raw) == 0 || len(it.Raw) > 64 {
						t.Fatalf("raw of %d bytes", len(it.Raw))
					}
					if json.Valid(it.Raw) && depthOf(it.Raw) > 5 {
						t.Fatalf("value deeper than the limit: %s", it.Raw)
					}
				}
			}
			if _, err := s.Next(); err != io.EOF {
				// Every Next returns an item or consumes input, so len(in)+2 calls reach the end.
				t.Fatalf("scanner did not end: %v", err)
			}
		}
	})
}

func depthOf(raw []byte) int {
	var v any
	_ = json.Unmarshal(raw, &v)
	var walk func(any) int
	walk = func(v any) int {
		d := 0
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				d = max(d, walk(e))
			}
			return d + 1
		case map[string]any:
			for _, e := range x {
				d = max(d, walk(e))
			}
			return d + 1
		}
		return 0
	}
	return walk(v)
}
