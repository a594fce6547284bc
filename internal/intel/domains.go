package intel

import "strings"

// domainIndex answers "which entry matches this query name": the entry for the
// name itself (unless it is SubdomainsOnly), else the entry of the nearest parent
// domain that matches its subdomains. The most specific entry wins, so
// "c2.guarddutyc2activityb.com" finds its own entry rather than the one for
// "guarddutyc2activityb.com".
//
// A lookup is at most one map probe per label of the name, on a stack copy of
// the name lower-cased: no allocation. Suffixes with a number of labels that no
// entry has are not probed at all, so a six-label query against lists of
// registered domains costs one or two probes. Entries that are bare public suffixes ("com") are
// refused when lists are parsed, so walking up to the top-level label is safe
// and needs no public suffix lookup per query; entries that are private suffixes
// (such as a dynamic-DNS zone a threat list names on purpose) keep matching
// every name under them.
type domainIndex struct {
	m      map[string]domainSlot
	labels [2]uint64 // bit k: some entry has k labels (k < 128)
}

func (d *domainIndex) hasLabels(k int) bool { return k < 128 && d.labels[k>>6]&(1<<(k&63)) != 0 }

// domainSlot holds, for one domain, the entry matching the name itself and the
// entry matching names under it (indexes into the refs slice; -1 for none).
type domainSlot struct {
	self, sub int32
}

// newDomainIndex builds the index over the domain entries of refs. For the same
// domain and role, the earlier entry wins.
func newDomainIndex(refs []*Entry) domainIndex {
	n := 0
	for _, e := range refs {
		if e.Domain != "" {
			n++
		}
	}
	d := domainIndex{m: make(map[string]domainSlot, n)}
	for i, e := range refs {
		if e.Domain == "" {
			continue
		}
		s, ok := d.m[e.Domain]
		if !ok {
			s = domainSlot{-1, -1}
			k := strings.Count(e.Domain, ".") + 1
			if k < 128 {
				d.labels[k>>6] |= 1 << (k & 63)
			}
		}
		if e.Match != SubdomainsOnly && s.self < 0 {
			s.self = int32(i)
		}
		if e.Match != ExactOnly && s.sub < 0 {
			s.sub = int32(i)
		}
		d.m[e.Domain] = s
	}
	return d
}

// lookup returns the index of the matching entry for name, or -1. Case is
// ignored and one trailing dot is dropped, as DNS does.
func (d *domainIndex) lookup(name string) int32 {
	if len(d.m) == 0 {
		return -1
	}
	var buf [maxDomainLen]byte
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	if len(name) == 0 || len(name) > len(buf) {
		return -1
	}
	labels := 1
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '.' {
			labels++
		}
		buf[i] = c
	}
	b := buf[:len(name)]
	if d.hasLabels(labels) {
		if s, ok := d.m[string(b)]; ok && s.self >= 0 {
			return s.self
		}
	}
	for i := 0; i < len(b) && labels > 1; i++ {
		if b[i] != '.' {
			continue
		}
		labels--
		if !d.hasLabels(labels) {
			continue
		}
		if s, ok := d.m[string(b[i+1:])]; ok && s.sub >= 0 {
			return s.sub
		}
	}
	return -1
}
