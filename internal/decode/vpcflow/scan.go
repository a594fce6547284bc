package vpcflow

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"unsafe"
)

// The scanners below read a field at the start of a slice and return its length
// without allocating. Fields are short and their lengths vary from line to line,
// so a byte loop would mispredict its exit once per field; most scanners look at
// several bytes at once instead (SWAR: SIMD within a register), using masks that
// flag bytes exactly, with no borrow from one byte into the next.

// Masks for looking at eight bytes at a time.
const (
	lo7    = 0x7f7f7f7f7f7f7f7f
	hi1    = 0x8080808080808080
	spaces = 0x2020202020202020
)

// byteFlags returns the top bit of each byte of w equal to the byte that rep
// repeats (spaces, colons), and no other bit: exact, with no borrow from one
// byte into the next.
func byteFlags(w, rep uint64) uint64 {
	x := w ^ rep // zero bytes where w has rep's byte
	return ^((x&lo7 + lo7) | x | lo7)
}

// scanField returns the length of the field at the start of b (up to the first
// space) and whether it is plain ASCII.
func scanField(b []byte) (n int, ascii bool) {
	var or uint64
	for ; n+8 <= len(b); n += 8 {
		w := binary.LittleEndian.Uint64(b[n:])
		if m := byteFlags(w, spaces); m != 0 {
			k := bits.TrailingZeros64(m) >> 3
			or |= w & (1<<(8*k) - 1) // the bytes before the space
			return n + k, or&hi1 == 0
		}
		or |= w
	}
	for ; n < len(b) && b[n] != ' '; n++ {
		or |= uint64(b[n])
	}
	return n, or&hi1 == 0
}

// fieldLen returns the length of the field at the start of b (up to the first
// space), for fields stepped over unread.
func fieldLen(b []byte) int {
	n := 0
	for ; n+8 <= len(b); n += 8 {
		if m := byteFlags(binary.LittleEndian.Uint64(b[n:]), spaces); m != 0 {
			return n + bits.TrailingZeros64(m)>>3
		}
	}
	for n < len(b) && b[n] != ' ' {
		n++
	}
	return n
}

// hasColon reports whether b holds a ':', eight bytes at a time: b is a
// field, most often an IPv4 address of one or two words.
func hasColon(b []byte) bool {
	const colons = 0x3a3a3a3a3a3a3a3a
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if byteFlags(binary.LittleEndian.Uint64(b[i:]), colons) != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] == ':' {
			return true
		}
	}
	return false
}

// wordLen returns the length of the field at the start of b, for short fields.
func wordLen(b []byte) int {
	for i, c := range b {
		if c == ' ' {
			return i
		}
	}
	return len(b)
}

// countFields returns the number of space-separated fields of a line.
func countFields(line []byte) int {
	return bytes.Count(line, []byte{' '}) + 1
}

// scanUint returns the value of the decimal digits at the start of b and how many
// there are, up to 19 (which cannot overflow); the caller checks that a space or
// the end of b follows. Leading zeros are accepted.
func scanUint(b []byte) (v uint64, n int) {
	if len(b) >= 16 {
		v, n = digits8(binary.LittleEndian.Uint64(b))
		if n < 8 {
			return v, n
		}
		v2, n2 := digits8(binary.LittleEndian.Uint64(b[8:]))
		v, n = v*pow10[n2&15]+v2, 8+n2
		if n < 16 {
			return v, n
		}
	}
	for ; n < len(b) && n < 19; n++ { // short buffers, long numbers
		d := b[n] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
	return v, n
}

var pow10 = [16]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// digits8 returns the value and count (0–8) of the leading decimal digits of w,
// eight bytes of text loaded little-endian.
func digits8(w uint64) (v uint64, n int) {
	x := w ^ 0x3030303030303030 // digits become 0–9, every other byte more
	// Flag the bytes that are not 0–9: a high nibble, or a low one that carries
	// when 6 is added. A carry out of a byte comes only from a non-digit, so it can
	// spoil only bytes after the first non-digit, which do not count.
	notDigit := ((x + 0x0606060606060606) | x) & 0xf0f0f0f0f0f0f0f0
	n = bits.TrailingZeros64((notDigit>>4+lo7)&hi1) >> 3 // 8 if all are digits
	// Move the digits to the top, dropping what follows them (two shifts, so that
	// n == 0 drops everything), then combine pairs, quads and halves.
	shift := 4 * (8 - n) & 63
	d := x << shift << shift
	d = d * (10<<8 + 1) >> 8
	d = (d & 0x00ff00ff00ff00ff) * (100<<16 + 1) >> 16
	d = (d & 0x0000ffff0000ffff) * (10000<<32 + 1) >> 32
	return d, n
}

// parseAddr parses the IPv4 or IPv6 address at the start of b, followed by a space
// or the end of b, and returns it and its length.
//
// Dotted IPv4, nearly every address in flow logs, takes a fast path with the
// rules of netip.ParseAddr (four decimal octets of at most 255, no leading
// zeros), reading each octet four bytes at a time when the line has room to.
// The rest goes to netip.ParseAddr, viewed as a string without copying. Zones
// ("fe80::1%eth0") are refused: flow logs never carry them, and netip keeps every
// zone it sees in a process-wide table, which hostile input should not grow.
func parseAddr(b []byte) (netip.Addr, int, bool) {
	if len(b) < 20 { // room for the reads below whatever the octets' lengths
		return parseAddrSlow(b)
	}
	// Four octets, each followed by a dot or (the last) a space, read without a
	// loop: the checks are branches the CPU predicts, the lengths are not.
	v0, n0 := octet(binary.LittleEndian.Uint32(b))
	i := n0 + 1
	v1, n1 := octet(binary.LittleEndian.Uint32(b[i:]))
	i += n1 + 1
	v2, n2 := octet(binary.LittleEndian.Uint32(b[i:]))
	i += n2 + 1
	v3, n3 := octet(binary.LittleEndian.Uint32(b[i:]))
	i += n3
	if !validOctet(b, 0, v0, n0) || !validOctet(b, n0+1, v1, n1) || !validOctet(b, n0+n1+2, v2, n2) ||
		!validOctet(b, i-n3, v3, n3) || b[n0] != '.' || b[n0+n1+1] != '.' || b[i-n3-1] != '.' || b[i] != ' ' {
		return parseAddrSlow(b)
	}
	return netip.AddrFrom4([4]byte{byte(v0), byte(v1), byte(v2), byte(v3)}), i, true
}

// validOctet reports whether the octet of value v and length n at b[i] is one
// netip accepts: 1–3 digits, at most 255, no leading zero.
func validOctet(b []byte, i int, v uint32, n int) bool {
	return uint(n-1) < 3 && v <= 255 && (n == 1 || b[i] != '0')
}

// octet returns the value and count (0–4) of the leading decimal digits of w, four
// bytes of text loaded little-endian, as digits8 does; the value is meaningful
// for counts 1–3.
func octet(w uint32) (v uint32, n int) {
	x := w ^ 0x30303030
	notDigit := ((x + 0x06060606) | x) & 0xf0f0f0f0
	n = bits.TrailingZeros32((notDigit>>4+0x7f7f7f7f)&0x80808080) >> 3
	d := x << (8 * (3 - n) & 31) // the digits at the top of three bytes
	return (d&0xff)*100 + (d>>8&0xff)*10 + (d >> 16 & 0xff), n
}

// parseAddrSlow parses an address with netip.ParseAddr: IPv6, and IPv4 at the end
// of a line.
func parseAddrSlow(b []byte) (netip.Addr, int, bool) {
	n := wordLen(b)
	if n == 0 || bytes.IndexByte(b[:n], '%') >= 0 {
		return netip.Addr{}, n, false
	}
	a, err := netip.ParseAddr(unsafe.String(&b[0], n))
	return a, n, err == nil
}
