package decode

import (
	"fmt"
	"testing"
)

func TestInterner(t *testing.T) {
	var in Interner
	a := in.Intern([]byte("eni-1"))
	b := in.Intern([]byte("eni-2"))
	if a != "eni-1" || b != "eni-2" {
		t.Fatalf("got %q %q", a, b)
	}
	// The same value comes back as the same string, whichever path finds it.
	for range 3 {
		if s := in.Intern([]byte("eni-1")); s != a {
			t.Fatal("lost eni-1")
		}
		in.Intern([]byte("eni-2"))
	}
	if in.Intern(nil) != "" || in.Intern([]byte{}) != "" {
		t.Error("empty value")
	}
	// The table stays bounded however many values pass through it.
	for i := range 3 * internMaxEntries {
		v := fmt.Sprintf("eni-%017d", i)
		if s := in.Intern([]byte(v)); s != v {
			t.Fatalf("got %q for %q", s, v)
		}
	}
	if len(in.m) > internMaxEntries || in.bytes > internMaxBytes {
		t.Errorf("table grew to %d entries, %d bytes", len(in.m), in.bytes)
	}
	// Values over internMaxLen are copied but not kept.
	long := make([]byte, internMaxLen+1)
	n := len(in.m)
	if s := in.Intern(long); len(s) != len(long) || len(in.m) != n {
		t.Error("long value kept")
	}
	// The result never aliases the input.
	buf := []byte("vpc-123")
	s := in.Intern(buf)
	buf[0] = 'X'
	if s != "vpc-123" {
		t.Errorf("interned string changed with its input: %q", s)
	}
}

func TestInternerAllocs(t *testing.T) {
	var in Interner
	vals := make([][]byte, 300)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, "eni-0a1b2c3d4e5f%05d", i)
	}
	for _, v := range vals {
		in.Intern(v)
	}
	if n := testing.AllocsPerRun(10, func() {
		for _, v := range vals {
			in.Intern(v)
		}
	}); n != 0 {
		t.Errorf("%v allocations per 300 warm lookups", n)
	}
}
