package store

import "strings"

// MatchWildcard reports whether s matches pattern, a GuardDuty Matches or
// NotMatches pattern: '*' matches any run of characters, the empty one
// included; every other character, '?', '%', '_', '[' and '\' among them,
// matches itself, case-sensitively. Both are compared as the stores keep them
// (store.Text applied by the caller), byte by byte: for valid UTF-8 that is
// character by character, since a valid UTF-8 sequence found inside another
// starts on a character boundary.
//
// A finding that lacks the attribute has the empty string (AttributeValue), as
// for Equals and NotEquals: "*" matches it, "a*" does not, so NotMatches
// ["a*"] selects it. The SQL stores translate patterns to GLOB (SQLite) or LIKE
// (PostgreSQL) with the same semantics; TestMatchAgreesWithSQL in package
// suppress holds them to it.
func MatchWildcard(pattern, s string) bool {
	head, rest, wild := strings.Cut(pattern, "*")
	if !wild {
		return s == pattern
	}
	if !strings.HasPrefix(s, head) {
		return false
	}
	s = s[len(head):]
	for {
		seg, more, wild := strings.Cut(rest, "*")
		if !wild {
			// The last segment ends s; the leftmost placement of each middle
			// segment leaves it the most room.
			return strings.HasSuffix(s, seg)
		}
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s, rest = s[i+len(seg):], more
	}
}
