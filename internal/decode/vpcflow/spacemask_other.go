//go:build !amd64 || purego

package vpcflow

// haveSpaceMask is false: there is no vector spaceMask on this architecture,
// and fieldEnds counts spaces eight bytes at a time instead.
const haveSpaceMask = false

// spaceMask is the vector version's meaning, a byte at a time, for tests.
func spaceMask(line []byte, mask *[maskWords]uint64) {
	for i, c := range line {
		if c == ' ' {
			mask[i>>6] |= 1 << (i & 63)
		}
	}
}
