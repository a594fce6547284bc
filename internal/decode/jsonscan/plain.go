package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// PlainRun returns the length of the run of bytes at the start of b that can
// sit in a JSON string as they are: neither '"', '\\' nor a control character.
// Log strings are long runs of such bytes (names, ARNs, user agents), so it
// tests eight bytes at a time.
func PlainRun(b []byte) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ ('"' * ones)
		s := x ^ ('\\' * ones)
		// A byte is flagged when it is zero in q or s (a quote or a backslash),
		// or below 0x20 in x; bytes of 0x80 and above never are (^x clears their
		// high bit). Borrows can flag bytes after a flagged one, never before,
		// so the lowest flag is exact.
		if m := ((q-ones)&^q | (s-ones)&^s | (x-0x20*ones)&^x) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}
