package decode

import "encoding/binary"

// Interning limits. Log string fields have few distinct values per file (one
// account, a few hundred interfaces, a handful of VPCs, query types and response
// codes), so a small table per field turns nearly every value into a shared string
// without an allocation. The limits bound the memory a hostile or very diverse input can pin:
// when a table is full it is cleared and refilled with the values seen next,
// which keeps the current working set rather than the first one.
const (
	internMaxEntries = 4096      // distinct values kept per field
	internMaxBytes   = 256 << 10 // bytes of values kept per field
	internMaxLen     = 256       // longer values are copied, not kept
	internCacheSize  = 1024      // slots of the direct-mapped cache (a power of 2)
)

// Interner returns a shared string for a byte slice. Decoders use one per string
// field, so that the records they emit hold heap strings (consumers may keep
// them past the batch) without an allocation per value. It is not safe for
// concurrent use; each Decoder has its own. The zero Interner is ready to use.
//
// Lookups go from cheap to dear: a direct-mapped cache indexed by a cheap hash
// (most fields repeat from line to line, and interface ids vary among a few
// hundred), then the map, whose hashing costs as much as decoding two numbers.
type Interner struct {
	cache *[internCacheSize]string
	m     map[string]string
	bytes int
}

// Intern returns b as a string, allocating only the first time a value is seen
// (and after the table was cleared). The string never aliases b.
func (in *Interner) Intern(b []byte) string {
	if in.cache == nil {
		in.cache = new([internCacheSize]string)
		in.m = make(map[string]string, 64)
	}
	slot := &in.cache[cacheSlot(b)]
	if *slot == string(b) {
		return *slot
	}
	s, ok := in.m[string(b)] // a map lookup with string(b) does not allocate
	if !ok {
		s = string(b)
		if len(b) > internMaxLen {
			return s
		}
		if len(in.m) >= internMaxEntries || in.bytes+len(s) > internMaxBytes {
			clear(in.m)
			clear(in.cache[:])
			in.bytes = 0
		}
		in.m[s] = s
		in.bytes += len(s)
	}
	*slot = s
	return s
}

// cacheSlot hashes b's length and first and last eight bytes, where ids differ.
func cacheSlot(b []byte) uint64 {
	x := uint64(len(b))
	if len(b) >= 8 {
		x ^= binary.LittleEndian.Uint64(b[len(b)-8:]) ^ binary.LittleEndian.Uint64(b)<<1
	} else {
		for _, c := range b {
			x = x<<8 | uint64(c)
		}
	}
	return (x * 0x9e3779b97f4a7c15) >> (64 - 10) // top 10 bits: internCacheSize slots
}
