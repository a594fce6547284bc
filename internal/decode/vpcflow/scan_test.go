package vpcflow

import (
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestDigits8(t *testing.T) {
	cases := []string{"", "0", "7", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "99999999",
		"00000001", "1 ", "12 3", "1/", "1:", "9\xff", "\x00", "-1", "42abcdef", "1234567\xb9", "0\xc0", "5\x3a"}
	for _, s := range cases {
		var buf [8]byte
		copy(buf[:], s)
		for i := len(s); i < 8; i++ {
			buf[i] = ' '
		}
		v, n := digits8(binary.LittleEndian.Uint64(buf[:]))
		wantN := 0
		for wantN < 8 && buf[wantN] >= '0' && buf[wantN] <= '9' {
			wantN++
		}
		var wantV uint64
		if wantN > 0 {
			wantV, _ = strconv.ParseUint(string(buf[:wantN]), 10, 64)
		}
		if n != wantN || v != wantV {
			t.Errorf("digits8(%q) = %d, %d; want %d, %d", buf, v, n, wantV, wantN)
		}
	}
}

func TestOctet(t *testing.T) {
	for i := range 1000 {
		s := strconv.Itoa(i)
		for _, tail := range []string{".", " ", "x", "0000"} {
			var buf [4]byte
			copy(buf[:], s+tail+"....")
			v, n := octet(binary.LittleEndian.Uint32(buf[:]))
			wantN := min(len(s)+len(tail)*btoi(tail == "0000"), 4)
			if n != wantN || n <= 3 && v != uint32(i) {
				t.Fatalf("octet(%q) = %d, %d; want %d, %d", buf, v, n, i, wantN)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanUint, read through isUint as parseLine does, agrees with strconv on every
// input (up to its 19-digit limit), on short and long buffers.
func FuzzScanUint(f *testing.F) {
	f.Add([]byte("1418530010 ACCEPT"))
	f.Add([]byte("9223372036854775807"))
	f.Add([]byte("12345678901234567890"))
	f.Add([]byte("0000000000000000001"))
	f.Add([]byte("1234567812345678 x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok := b[:wordLen(b)]
		want, werr := strconv.ParseUint(string(tok), 10, 63)
		if len(tok) > 19 || len(tok) > 0 && tok[0] == '+' {
			werr = strconv.ErrRange // scanUint stops at 19 digits and refuses signs
		}
		for _, in := range [][]byte{b, append(append([]byte(nil), b...), " 1234567890123456"...)} {
			v, n := scanUint(in)
			ok := isUint(in, n, v, math.MaxInt64)
			if ok != (werr == nil) || ok && (v != want || n != len(tok)) {
				t.Fatalf("scanUint(%q) = %d, %d (ok %v); strconv: %d, %v", in, v, n, ok, want, werr)
			}
		}
	})
}

// parseAddr agrees with netip.ParseAddr (zones aside) on every input, on short
// and long buffers, so both its paths are compared.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "255.255.255.255", "0.0.0.0", "1.2.3.04", "1.2.3", "1.2.3.4.5", "256.1.1.1",
		"1..2.3", "1.2.3.4x", "01.2.3.4", "1.2.3.4 ", "::1", "2001:db8::1 x", "::ffff:1.2.3.4", "fe80::1%eth0", "1.2.3.4444",
		"1111.1111.1111.1", "1111.1111.1111.1111", "1111.1111.1111.11111", "9.9.9.9 123456789012"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok := b[:wordLen(b)]
		want, err := netip.ParseAddr(string(tok))
		wantOK := err == nil && want.Zone() == ""
		for _, in := range [][]byte{b, append(append([]byte(nil), b...), " 12345678901234567890123"...)} {
			a, n, ok := parseAddr(in)
			if ok != wantOK || ok && (a != want || n != len(tok)) {
				t.Fatalf("parseAddr(%q) = %v, %d, %v; netip: %v, %v", in, a, n, ok, want, err)
			}
		}
	})
}

// fieldEndsImpls are the implementations of fieldEnds this machine runs:
// eight bytes at a time, and from the space mask where there is a vector one
// (the portable spaceMask is a test's, not used by fieldEnds).
func fieldEndsImpls() []struct {
	name string
	f    func([]byte, int, []int32) bool
} {
	impls := []struct {
		name string
		f    func([]byte, int, []int32) bool
	}{{"swar", fieldEndsSWAR}, {"mask", fieldEndsMask}}
	if !haveSpaceMask {
		impls = impls[:1]
	}
	return impls
}

// TestFieldEnds checks the shape test and the field ends against a plain
// split, on lines whose spaces fall at every offset of an eight-byte word and
// of a 32-byte vector, and on lines long enough to need the per-lane counts
// folded more than once, by every implementation.
func TestFieldEnds(t *testing.T) {
	lines := []string{"", " ", "a", "a ", " a", "a b", "a  b", "ab cd ef g", "abcdefg h", "abcdefgh i",
		"abcdefg  h", "abcdefgh  i", "1234567 12345678 1", strings.Repeat("a ", 3000) + "a",
		strings.Repeat("abc ", 700) + "z", strings.Repeat("a ", 1500) + " a"}
	for w := 1; w < 70; w++ {
		for _, n := range []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 300} {
			lines = append(lines, strings.TrimSpace(strings.Repeat(strings.Repeat("x", w)+" ", n)))
		}
	}
	for _, line := range lines {
		parts := strings.Split(line, " ")
		shapeOK := !slices.Contains(parts, "")
		want := make([]int32, len(parts))
		at := 0
		for i, p := range parts {
			at += len(p)
			want[i] = int32(at)
			at++
		}
		for _, n := range []int{len(parts) - 1, len(parts), len(parts) + 1} {
			for _, need := range []int{0, 1, len(parts) / 2, len(parts)} {
				if need > n || n <= 0 {
					continue
				}
				for _, impl := range fieldEndsImpls() {
					if impl.name == "mask" && (len(line) < 32 || len(line) > maskBytes) {
						continue
					}
					ends := make([]int32, need)
					got := impl.f([]byte(line), n, ends)
					if got != (shapeOK && n == len(parts)) {
						t.Fatalf("%s(%.40q…, %d) = %v; %d fields, none empty: %v", impl.name, line, n, got, len(parts), shapeOK)
					}
					if got && !slices.Equal(ends, want[:need]) {
						t.Fatalf("%s(%.40q…): ends %v, want %v", impl.name, line, ends, want[:need])
					}
				}
			}
		}
	}
}

// TestMayMatchMask: mayMatch from the space mask agrees with stepping over
// fields eight bytes at a time, for one and two needles in every column of
// lines whose fields have every length, including doubled, leading and
// trailing spaces and lines with fewer fields than a needle's column.
func TestMayMatchMask(t *testing.T) {
	if !haveSpaceMask {
		t.Skip("no vector spaceMask on this CPU: mayMatch steps over fields eight bytes at a time only")
	}
	var lines []string
	for w := 1; w < 40; w++ {
		for _, n := range []int{1, 2, 3, 5, 8, 14, 20} {
			fields := make([]string, n)
			for i := range fields {
				fields[i] = strings.Repeat(string(rune('a'+i%26)), w)
			}
			line := strings.Join(fields, " ")
			lines = append(lines, line, strings.Replace(line, " ", "  ", 1), " "+line, line+" ")
		}
	}
	checked := 0
	for _, line := range lines {
		if len(line) < 32 || len(line) > maskBytes {
			continue
		}
		for c := range 22 {
			for _, text := range []string{string(rune('a' + c%26)), string(rune('a'+c%26)) + " ", "b", "zz", ""} {
				for _, second := range []int{-1, c, c + 2} {
					pl := &layoutPlan{needles: []columnNeedle{{needle: needle{text: []byte(text)}, col: c}}}
					if second >= 0 {
						pl.needles = append(pl.needles, columnNeedle{needle: needle{text: []byte("c")}, col: second})
					}
					swar, mask := pl.mayMatchSWAR([]byte(line)), pl.mayMatchMask([]byte(line))
					if swar != mask {
						t.Fatalf("%q, needles %+v: mayMatchSWAR %v, mayMatchMask %v", line, pl.needles, swar, mask)
					}
					checked++
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d cases checked", checked)
	}
}
