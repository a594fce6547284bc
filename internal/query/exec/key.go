package exec

import (
	"encoding/binary"
	"math"
	"math/bits"
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
		a := v.IP.As16()
		b = append(b, keyAddr)
		if v.IP.Is4() {
			b = append(b, 4)
		} else {
			b = append(b, 6)
		}
		return append(b, a[:]...)
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
