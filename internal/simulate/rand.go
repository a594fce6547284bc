package simulate

import (
	"encoding/hex"
	"math/bits"
)

// rng is the simulator's only source of randomness: wyrand, a tiny 64-bit generator.
// It is written out here rather than taken from math/rand/v2 so that the byte-exact
// output of a seed can never change with a Go release, and because it is cheap
// enough (~1 ns a draw) to call a dozen times for every flow record.
//
// Every independent piece of output (one file, one scenario) gets its own rng,
// derived from the seed and the piece's identity with derive, so pieces can be
// generated in any order, in parallel, and still produce the same bytes.
type rng struct{ s uint64 }

// derive returns an rng for the stream named by parts under seed.
func derive(seed uint64, parts ...uint64) rng {
	h := splitmix(seed ^ 0x76a1d1b2c3e4f500)
	for _, p := range parts {
		h = splitmix(h ^ p)
	}
	return rng{s: h}
}

// splitmix is SplitMix64's finaliser: a bijective mix of 64 bits.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// tag turns a short ASCII label into a stream identifier for derive.
func tag(s string) uint64 {
	h := uint64(0xcbf29ce484222325) // FNV-1a
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

func (r *rng) u64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a number in [0, n) (Lemire's multiply-shift; the bias is far below
// anything a log reader could notice).
func (r *rng) intn(n int) int {
	if n <= 1 {
		return 0
	}
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// between64 is between for int64 ranges.
func (r *rng) between64(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	h, _ := bits.Mul64(r.u64(), uint64(hi-lo+1))
	return lo + int64(h)
}

// chance reports true with probability num/den.
func (r *rng) chance(num, den int) bool { return r.intn(den) < num }

// hexString returns n random lowercase hex digits.
func (r *rng) hexString(n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(r.u64())
	}
	return hex.EncodeToString(b)[:n]
}

// fromAlphabet returns n characters drawn from alphabet.
func (r *rng) fromAlphabet(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.intn(len(alphabet))]
	}
	return string(b)
}

// uuid returns a random (version 4) UUID in its canonical text form.
func (r *rng) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.u64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// awsID returns an EC2-style resource id: prefix, a dash and 17 hex digits
// starting with 0 (i-0c1d…, eni-0a2b…), the form current EC2 ids take.
func (r *rng) awsID(prefix string) string {
	return prefix + "-0" + r.hexString(16)
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // the alphabet of IAM unique ids
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)
