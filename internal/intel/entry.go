package intel

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Kind says what a list is for: a threat list adds findings, a trusted list stops
// them.
type Kind uint8

// The list kinds.
const (
	// Threat lists name addresses and domains that are bad: traffic to or from
	// them, or a query for them, raises a finding (GuardDuty's ThreatIntelSet and
	// ThreatEntitySet).
	Threat Kind = iota + 1
	// Trusted lists name addresses and domains that are known good: a trusted
	// entry stops every finding about it, threat-list matches included (GuardDuty's
	// IPSet and TrustedEntitySet).
	Trusted
)

// String returns "threat" or "trusted".
func (k Kind) String() string {
	switch k {
	case Threat:
		return "threat"
	case Trusted:
		return "trusted"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind parses "threat" or "trusted" (as String writes them).
func ParseKind(s string) (Kind, error) {
	switch s {
	case "threat":
		return Threat, nil
	case "trusted":
		return Trusted, nil
	}
	return 0, fmt.Errorf("list kind %q: want threat or trusted", s)
}

// DomainMatch says which names a domain entry matches.
type DomainMatch uint8

// The domain match modes.
const (
	// DomainAndSubdomains matches the domain itself and every name under it:
	// "example.org" matches "example.org" and "a.b.example.org". A plain domain in
	// a list means this, so that listing a C&C domain also catches the random
	// host names malware puts under it.
	DomainAndSubdomains DomainMatch = iota
	// SubdomainsOnly matches names under the domain but not the domain itself:
	// the "*.example.org" wildcard of GuardDuty's TXT entity lists.
	SubdomainsOnly
	// ExactOnly matches the name itself and nothing under it. The built-in
	// tester domain guarddutyc2activityb.com uses it: names under it are DNS
	// exfiltration traffic, which the exfiltration detector judges on its own.
	ExactOnly
)

// String returns "domain+subdomains", "subdomains" or "exact".
func (m DomainMatch) String() string {
	switch m {
	case DomainAndSubdomains:
		return "domain+subdomains"
	case SubdomainsOnly:
		return "subdomains"
	case ExactOnly:
		return "exact"
	}
	return "match(" + strconv.Itoa(int(m)) + ")"
}

// Entry is one indicator of a list: an address or network (Prefix) or a domain
// (Domain), with what the list says about it. Entries are values; the strings in
// them are shared with the list and must not be modified.
type Entry struct {
	// Prefix is the network of an IP entry: a /32 or /128 for a single address,
	// the CIDR as written (masked) otherwise. IPv4-mapped IPv6 entries are stored
	// as IPv4. Invalid (the zero Prefix) for a domain entry.
	Prefix netip.Prefix
	// Domain is the name of a domain entry: lower case, ASCII (internationalized
	// names are stored in their xn-- form), no trailing dot, no "*." wildcard
	// (see Match). Empty for an IP entry.
	Domain string
	// Match says which names a domain entry matches.
	Match DomainMatch
	// Kind is the kind of the list the entry comes from.
	Kind Kind
	// List is the list's name: GuardDuty's threatListName, which findings report
	// in service.additionalInfo.threatListName and evidence.
	List string
	// Threat is the threat name or category the list gives the entry, where its
	// format has one: the activity of an AlienVault reputation line, the
	// description of an OTX row, the category of a Proofpoint ET row, the
	// malware family of an iSIGHT row, the indicator title in STIX, the SBL id of
	// a Spamhaus DROP line. Empty where the format has none (TXT).
	Threat string
	// Finding is the finding type the entry implies, for lists that know it (the
	// built-in lists). Empty for user lists: a match on a user threat list raises
	// the detector's .Custom type, as in GuardDuty.
	Finding finding.Type
	// Source is where the entry was read: a file path, a URL or, for built-in
	// entries, the public reference the entry is taken from.
	Source string
	// Line is the 1-based line of the entry in Source (0 when unknown).
	Line int
	// Note explains a built-in entry when its effect needs explaining; empty
	// otherwise.
	Note string
}

// IsIP reports whether the entry is an address or network entry.
func (e *Entry) IsIP() bool { return e.Prefix.IsValid() }

// Value returns the indicator as a list would write it: "192.0.2.1",
// "192.0.2.0/24", "example.org" or "*.example.org" (for SubdomainsOnly).
func (e *Entry) Value() string {
	if e.Prefix.IsValid() {
		if e.Prefix.IsSingleIP() {
			return e.Prefix.Addr().String()
		}
		return e.Prefix.String()
	}
	if e.Match == SubdomainsOnly {
		return "*." + e.Domain
	}
	return e.Domain
}

// Where returns "source:line", or the source alone when the line is unknown.
func (e *Entry) Where() string {
	if e.Line > 0 {
		return e.Source + ":" + strconv.Itoa(e.Line)
	}
	return e.Source
}

// Warning is a line of a list that was not loaded, and why. The lines around it
// are loaded.
type Warning struct {
	File string // the file path, URL or name the list was read from
	Line int    // 1-based; 0 when the warning concerns the whole file
	Msg  string // what was found and what was expected
}

// String renders the warning as "file:line: message".
func (w Warning) String() string {
	if w.Line > 0 {
		return w.File + ":" + strconv.Itoa(w.Line) + ": " + w.Msg
	}
	return w.File + ": " + w.Msg
}

// Errors a list can fail with, for errors.Is. The error returned wraps one of them
// and names the file and, where it applies, the line.
var (
	// ErrTooManyEntries: the list has more entries than its limit
	// (Options.MaxEntries).
	ErrTooManyEntries = errors.New("too many entries")
	// ErrTooLarge: the file is larger than its limit (Options.MaxBytes).
	ErrTooLarge = errors.New("file too large")
	// ErrFormat: the content is not in the list's format (a STIX file that is not
	// XML, an HTML page where a list was expected, a list whose every line is
	// bad).
	ErrFormat = errors.New("not a valid list")
)
