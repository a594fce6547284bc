package intel

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
)

// List is one loaded list: its entries in file order and what was skipped. A
// List is immutable once returned; all its methods are safe for concurrent use.
type List struct {
	Name     string // the list's name (threatListName)
	Kind     Kind
	Format   Format // the format it was read in (detected, if it was not given)
	Source   string // the path or URL it was read from
	Entries  []Entry
	Bad      int       // lines that were not loaded (Warnings holds the first ones)
	Skipped  int       // rows that are not network indicators (hashes, e-mails) and were left out
	Warnings []Warning // the bad lines, as Parse returned them

	once sync.Once
	idx  *index
}

// Len returns the number of entries.
func (l *List) Len() int { return len(l.Entries) }

// index is the lookup structure over the entries of one or more lists. The
// tables hold entry numbers, counted across the lists in order; entry resolves
// one to the entry in its list, so that a hit reads the entry itself and no
// array of pointers to it (one memory access less on a large list).
type index struct {
	parts [][]Entry // the lists' entries
	ends  []int32   // ends[i]: number of entries in parts[:i+1]
	ip    ipIndex
	dom   domainIndex
}

func newIndex(parts [][]Entry) *index {
	x := &index{parts: parts}
	var refs []*Entry // for building only
	for _, p := range parts {
		for i := range p {
			refs = append(refs, &p[i])
		}
		x.ends = append(x.ends, int32(len(refs)))
	}
	x.ip, x.dom = newIPIndex(refs), newDomainIndex(refs)
	return x
}

// entry returns entry number i.
func (x *index) entry(i int32) *Entry {
	p, start := 0, int32(0)
	for i >= x.ends[p] {
		start = x.ends[p]
		p++
	}
	return &x.parts[p][i-start]
}

// find returns the most specific entry containing the address, or nil.
func (x *index) find(k ipKey) *Entry {
	if x == nil {
		return nil
	}
	if i := x.ip.lookup(k); i >= 0 {
		return x.entry(i)
	}
	return nil
}

// findDomain returns the entry matching name, or nil.
func (x *index) findDomain(name string) *Entry {
	if x == nil {
		return nil
	}
	if i := x.dom.lookup(name); i >= 0 {
		return x.entry(i)
	}
	return nil
}

// found turns a find result into the (Entry, bool) of the API.
func found(e *Entry) (Entry, bool) {
	if e == nil {
		return Entry{}, false
	}
	return *e, true
}

func (l *List) index() *index {
	l.once.Do(func() {
		l.idx = newIndex([][]Entry{l.Entries})
	})
	return l.idx
}

// Match returns the entry of this list with the longest prefix containing addr
// (IPv4 or IPv6; IPv4-mapped IPv6 addresses match IPv4 entries). The first lookup
// builds the list's index; a Set does not use it, so a list loaded for a Set
// costs no second index.
func (l *List) Match(addr netip.Addr) (Entry, bool) { return found(l.index().find(keyOf(addr))) }

// MatchDomain returns the entry of this list matching name: the name itself, or
// the nearest parent domain whose entry covers its subdomains. Case and a
// trailing dot are ignored.
func (l *List) MatchDomain(name string) (Entry, bool) { return found(l.index().findDomain(name)) }

// Set is every list in effect: threat lists and trusted lists, user lists and
// built-in ones, indexed together so that a lookup costs the same for one list or
// twenty. A Set is immutable; all its methods are safe for concurrent use, and a
// nil *Set matches nothing.
//
// Precedence, as in GuardDuty: a trusted entry stops findings. Match and
// MatchDomain never return a threat entry for an address or name that a trusted
// list covers; Trusted and TrustedDomain say whether one does, so that the
// detection engine can check them first for every detection, not only the
// threat-list ones. Among threat entries the most specific wins (longest prefix,
// nearest domain); for the same prefix or domain, the list given first to NewSet
// wins, then the earlier line.
//
// A live set (NewLiveSet) is the one exception to immutability: it answers
// from whichever set was last given to Replace, so that lists changed while
// the detection engine runs take effect without a restart. Each lookup reads
// the set in effect with one atomic load — no lock — and a lookup that has
// begun finishes on the set it started with.
type Set struct {
	// live, on a live set, is the set in effect; nil on any other set.
	live    atomic.Pointer[Set]
	lists   []*List
	threat  *index
	trusted *index
	nThreat int
	nTrust  int
}

// NewSet indexes the lists (nil lists are skipped). A list's entries count as
// its Kind. The entries stay in the lists, which must not be modified after.
func NewSet(lists ...*List) *Set {
	s := &Set{}
	var threat, trusted [][]Entry
	for _, l := range lists {
		if l == nil {
			continue
		}
		s.lists = append(s.lists, l)
		if l.Kind == Trusted {
			trusted = append(trusted, l.Entries)
			s.nTrust += len(l.Entries)
		} else {
			threat = append(threat, l.Entries)
			s.nThreat += len(l.Entries)
		}
	}
	s.threat = newIndex(threat)
	s.trusted = newIndex(trusted)
	return s
}

// NewLiveSet returns a live set answering from initial (nil: no lists) until
// Replace gives it another.
func NewLiveSet(initial *Set) *Set {
	l := &Set{}
	if err := l.Replace(initial); err != nil {
		panic("BUG: intel: " + err.Error())
	}
	return l
}

// errNotLive is Replace on a set not made by NewLiveSet.
var errNotLive = errors.New("intel: Replace on a set that is not live (NewLiveSet)")

// Replace makes next the set a live set answers from (nil: no lists); a live
// set given as next counts as the set it answers from now. Lookups that began
// before finish on the previous set. It is safe for concurrent use with
// lookups and other Replace calls (the last one wins).
func (s *Set) Replace(next *Set) error {
	if s == nil || s.lists != nil || s.threat != nil {
		return errNotLive
	}
	if next == nil {
		next = NewSet()
	}
	s.live.Store(next.now())
	return nil
}

// now returns the set lookups answer from: the set in effect of a live set,
// the set itself otherwise.
func (s *Set) now() *Set {
	if s != nil {
		if cur := s.live.Load(); cur != nil {
			return cur
		}
	}
	return s
}

// Lists returns the lists of the set, in the order given to NewSet. The slice
// must not be modified.
func (s *Set) Lists() []*List {
	s = s.now()
	if s == nil {
		return nil
	}
	return s.lists
}

// Len returns the number of threat and trusted entries.
func (s *Set) Len() (threat, trusted int) {
	s = s.now()
	if s == nil {
		return 0, 0
	}
	return s.nThreat, s.nTrust
}

// Trusted returns the trusted entry with the longest prefix containing addr.
func (s *Set) Trusted(addr netip.Addr) (Entry, bool) {
	s = s.now()
	if s == nil {
		return Entry{}, false
	}
	return found(s.trusted.find(keyOf(addr)))
}

// TrustedDomain returns the trusted entry matching name.
func (s *Set) TrustedDomain(name string) (Entry, bool) {
	s = s.now()
	if s == nil {
		return Entry{}, false
	}
	return found(s.trusted.findDomain(name))
}

// Match returns the threat entry with the longest prefix containing addr, unless
// a trusted entry contains it (then false: trusted wins).
func (s *Set) Match(addr netip.Addr) (Entry, bool) {
	s = s.now()
	if s == nil {
		return Entry{}, false
	}
	k := keyOf(addr)
	if s.nTrust > 0 && s.trusted.find(k) != nil {
		return Entry{}, false
	}
	return found(s.threat.find(k))
}

// MatchDomain returns the threat entry matching name, unless a trusted entry
// matches it (then false: trusted wins, even when the trusted entry is a parent
// domain of the threat entry).
func (s *Set) MatchDomain(name string) (Entry, bool) {
	s = s.now()
	if s == nil {
		return Entry{}, false
	}
	if s.nTrust > 0 && s.trusted.findDomain(name) != nil {
		return Entry{}, false
	}
	return found(s.threat.findDomain(name))
}

// Verdict is the full answer for one address or name: the threat entry that
// matches, if any, and the trusted entry that matches, if any. It is for
// explaining a decision ("threat list X matched, trusted list Y stopped it");
// Match and Trusted are the fast paths.
type Verdict struct {
	Threat    Entry
	Trusted   Entry
	IsThreat  bool // a threat entry matches
	IsTrusted bool // a trusted entry matches
}

// Finding reports whether the verdict raises a finding: a threat entry matches
// and no trusted entry does.
func (v Verdict) Finding() bool { return v.IsThreat && !v.IsTrusted }

// Check returns both lookups for addr.
func (s *Set) Check(addr netip.Addr) Verdict {
	var v Verdict
	s = s.now()
	if s == nil {
		return v
	}
	k := keyOf(addr)
	v.Threat, v.IsThreat = found(s.threat.find(k))
	v.Trusted, v.IsTrusted = found(s.trusted.find(k))
	return v
}

// CheckDomain returns both lookups for name.
func (s *Set) CheckDomain(name string) Verdict {
	var v Verdict
	s = s.now()
	if s == nil {
		return v
	}
	v.Threat, v.IsThreat = found(s.threat.findDomain(name))
	v.Trusted, v.IsTrusted = found(s.trusted.findDomain(name))
	return v
}
