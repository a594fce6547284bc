package window

import (
	"encoding/binary"
	"net/netip"
)

// Values of a DistinctSet are uint64s. Small values such as ports or IPv4
// addresses as integers can be added as they are (DistinctSet mixes them); strings
// and addresses are hashed with the functions below. They are deterministic
// (FNV-1a, then a 64-bit finaliser), unlike hash/maphash, whose random seed would
// make sketch estimates differ from run to run.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// HashString returns a deterministic 64-bit hash of s.
func HashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return mix(h)
}

// HashBytes returns a deterministic 64-bit hash of b, equal to HashString(string(b)).
func HashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return mix(h)
}

// HashAddr returns a deterministic 64-bit hash of an IP address. An IPv4 address
// and its IPv4-mapped IPv6 form hash alike. The zone is ignored.
func HashAddr(a netip.Addr) uint64 {
	b := a.Unmap().As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	return mix(hi ^ mix(lo))
}

// mix is the 64-bit finaliser of MurmurHash3 (fmix64): a bijection on uint64 that
// spreads every input bit over every output bit. The exact set and the sketch
// both need well-spread bits; because mix is a bijection, distinct values stay
// distinct, so exact counts are exact.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// floorDiv is t / d rounded towards minus infinity (d > 0), so that windows before
// the epoch are aligned like those after it.
func floorDiv(t, d int64) int64 {
	q := t / d
	if t%d < 0 {
		q--
	}
	return q
}
