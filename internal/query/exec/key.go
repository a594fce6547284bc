package exec

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
	"strings"
	"unsafe"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// appendKey appends an encoding of v that is equal for values that group
// together and different otherwise: the key of stats groups, dedup and
// count_distinct. Whole numbers are one class whatever their kind (an Int 1,
// a Bool true and a Float 1.0 print alike as 1), timestamps another, text
// another (strings and addresses are kept apart: they come from different
// fields).
//
// The encoding also preserves order, so that sorting groups by their keys'
// bytes gives the default order of stats output (see sortGroups): text in
// code-point order (bytes escaped so that no text is a prefix of another's
// encoding), then addresses numerically, then whole numbers, other numbers
// and timestamps, newest first (their bits inverted), missing values last.
func appendKey(b []byte, v record.Value) []byte {
	switch v.Kind {
	case record.Missing:
		return append(b, keyMissing)
	case record.Int, record.Bool:
		return binary.BigEndian.AppendUint64(append(b, keyInt), uint64(v.Int)^1<<63)
	case record.Float:
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1<<63 {
			return binary.BigEndian.AppendUint64(append(b, keyInt), uint64(int64(v.F))^1<<63)
		}
		bits := math.Float64bits(v.F)
		if bits&(1<<63) != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(append(b, keyFloat), bits)
	case record.Time:
		return binary.BigEndian.AppendUint64(append(b, keyTime), ^(uint64(v.Int) ^ 1<<63))
	case record.Addr:
		// IPv4 before IPv6, each in numeric order; the version byte fixes
		// the length, so the encoding stays prefix-free.
		if v.IP.Is4() {
			a := v.IP.As4()
			return append(append(b, keyAddr, 4), a[:]...)
		}
		a := v.IP.As16()
		return append(append(b, keyAddr, 6), a[:]...)
	case record.String:
		return appendEscaped(append(b, keyString), v.Str)
	case query.JSONValue:
		return appendEscaped(append(b, keyJSON), v.Str)
	}
	return append(b, keyMissing)
}

// The classes of keys, in the default order.
const (
	keyString byte = 0x10 + iota
	keyAddr
	keyInt
	keyFloat
	keyTime
	keyJSON
	keyMissing = 0xff
)

// appendEscaped appends s with 0x00 written 0x00 0xff, then 0x00 0x00: an
// order-preserving, prefix-free encoding.
func appendEscaped(b []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		b = append(append(b, s[:i]...), 0, 0xff)
		s = s[i+1:]
	}
	return append(append(b, s...), 0, 0)
}

// hashKey hashes an encoded key to 64 bits for count_distinct. The function
// is fixed (no random seed), so that the estimate of a query over the same
// input is the same at every run, whatever the number of workers: vigil's
// output is deterministic.
func hashKey(b []byte) uint64 {
	const m = 0x9E3779B97F4A7C15
	h := uint64(len(b)) * m
	for len(b) >= 8 {
		h = bits.RotateLeft64(h^mix64(binary.LittleEndian.Uint64(b)), 29) * m
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * i)
	}
	return mix64(h ^ mix64(tail^0xA5))
}

// mix64 is the finaliser of SplitMix64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ x>>31
}

// held is a value an aggregate keeps past the row it came from. Its string,
// if any, is copied into a buffer the held value owns and reuses, so that
// replacing a kept minimum or latest value does not allocate once the buffer
// is large enough.
type held struct {
	v   record.Value
	buf []byte
}

// set replaces the held value with a copy of v.
func (h *held) set(v record.Value) {
	if v.Str != "" {
		h.buf = append(h.buf[:0], v.Str...)
		v.Str = unsafe.String(&h.buf[0], len(h.buf))
	}
	h.v = v
}

// own returns the value for a result row, which outlives the aggregate.
func (h *held) own() record.Value { return query.CloneValue(h.v) }

// arena copies the strings of buffered rows into memory the row owns and
// reuses when the row's slot in a heap is taken by a better one.
type arena struct{ buf []byte }

// reset prepares the arena for values whose strings add up to n bytes.
func (a *arena) reset(n int) {
	if cap(a.buf) < n {
		a.buf = make([]byte, 0, n)
	}
	a.buf = a.buf[:0]
}

// copy returns v with its string moved into the arena; reset must have made
// room for it.
func (a *arena) copy(v record.Value) record.Value {
	if v.Str == "" {
		return v
	}
	start := len(a.buf)
	a.buf = append(a.buf, v.Str...)
	v.Str = unsafe.String(&a.buf[start], len(v.Str))
	return v
}

// strLen returns the bytes the strings of vs need.
func strLen(vs []record.Value) int {
	n := 0
	for i := range vs {
		n += len(vs[i].Str)
	}
	return n
}

// decodeKey fills vals with the values an encoded key was made from, as
// they group: a whole number of any kind comes back an Int, which prints as
// the original did. Strings without a 0x00 byte view the key's memory; the
// key must outlive them. It returns false for a key appendKey did not make.
func decodeKey(key string, vals []record.Value) bool {
	for i := range vals {
		if key == "" {
			return false
		}
		class := key[0]
		key = key[1:]
		var v record.Value
		switch class {
		case keyMissing:
		case keyInt, keyFloat, keyTime:
			if len(key) < 8 {
				return false
			}
			u := binary.BigEndian.Uint64([]byte(key[:8]))
			key = key[8:]
			switch class {
			case keyInt:
				v = record.IntValue(int64(u ^ 1<<63))
			case keyFloat:
				if u&(1<<63) != 0 {
					u &^= 1 << 63
				} else {
					u = ^u
				}
				v = record.FloatValue(math.Float64frombits(u))
			default:
				v = record.TimeValue(int64(^u ^ 1<<63))
			}
		case keyAddr:
			if len(key) < 5 {
				return false
			}
			switch {
			case key[0] == 4:
				v = record.AddrValue(netip.AddrFrom4([4]byte([]byte(key[1:5]))))
				key = key[5:]
			case key[0] == 6 && len(key) >= 17:
				v = record.AddrValue(netip.AddrFrom16([16]byte([]byte(key[1:17]))))
				key = key[17:]
			default:
				return false
			}
		case keyString, keyJSON:
			s, rest, ok := cutEscaped(key)
			if !ok {
				return false
			}
			key = rest
			v = record.StringValue(s)
			if class == keyJSON {
				v.Kind = query.JSONValue
			}
		default:
			return false
		}
		vals[i] = v
	}
	return key == ""
}

// cutEscaped undoes appendEscaped at the start of k.
func cutEscaped(k string) (s, rest string, ok bool) {
	end := strings.Index(k, "\x00\x00")
	esc := strings.Index(k, "\x00\xff")
	if end < 0 {
		return "", "", false
	}
	if esc < 0 || esc > end {
		return k[:end], k[end+2:], true
	}
	var b []byte
	for {
		i := strings.IndexByte(k, 0)
		if i < 0 || i+1 >= len(k) {
			return "", "", false
		}
		b = append(b, k[:i]...)
		if k[i+1] == 0 {
			return string(b), k[i+2:], true
		}
		if k[i+1] != 0xff {
			return "", "", false
		}
		b = append(b, 0)
		k = k[i+2:]
	}
}
