package sqlstore

import (
	"strings"

	"github.com/vigil-dev/vigil/internal/store"
)

// Dialect is the database a statement is written for. The stores share their
// SQL except where the databases differ: only in wildcard matching, so far.
type Dialect uint8

// The dialects.
const (
	SQLite Dialect = iota + 1
	PostgreSQL
)

// matchSQL returns the condition "col matches pattern" (store.MatchWildcard)
// with the pattern translated and added to args, or its negation.
//
// SQLite compares with GLOB, PostgreSQL with LIKE, each exact and case-sensitive
// on its own database, so the stores agree with MatchWildcard:
//
//   - SQLite's LIKE folds ASCII case, and making it case-sensitive takes PRAGMA
//     case_sensitive_like, a deprecated per-connection switch that would also
//     change every other LIKE on the connection. GLOB is case-sensitive, and its
//     only metacharacters are '*', '?' and '['; a bracket expression of one
//     character ("[?]", "[[]") matches that character literally, so the
//     translation keeps '*' and brackets the other two.
//   - PostgreSQL has no GLOB, and its LIKE is case-sensitive (ILIKE is the
//     folding one). '%' and '_' are its metacharacters; with ESCAPE '\', "\%",
//     "\_" and "\\" match '%', '_' and '\', and '*' becomes '%'. The escape
//     string is written E'\\', which means one backslash whatever the server's
//     standard_conforming_strings.
//
// Both compare characters of UTF-8 text; store.Text made column values and
// patterns valid UTF-8 without NUL, where that is the byte comparison
// MatchWildcard does. The pattern travels as a parameter, never in the SQL text.
func (d Dialect) matchSQL(col, pattern string, not bool, args *Args) string {
	if d == PostgreSQL {
		op := " LIKE "
		if not {
			op = " NOT LIKE "
		}
		return col + op + args.Add(LikePattern(pattern)) + ` ESCAPE E'\\'`
	}
	op := " GLOB "
	if not {
		op = " NOT GLOB "
	}
	return col + op + args.Add(GlobPattern(pattern))
}

// GlobPattern translates a wildcard pattern to SQLite's GLOB: '*' stays (runs
// of them become one), '?' and '[' become the one-character bracket
// expressions "[?]" and "[[]"; the rest is literal in GLOB already.
func GlobPattern(p string) string {
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			if i == 0 || p[i-1] != '*' {
				b.WriteByte('*')
			}
		case '?', '[':
			b.WriteByte('[')
			b.WriteByte(c)
			b.WriteByte(']')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// LikePattern translates a wildcard pattern to LIKE with ESCAPE '\': '*'
// becomes '%' (runs of them one), and '%', '_' and '\' are escaped.
func LikePattern(p string) string {
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			if i == 0 || p[i-1] != '*' {
				b.WriteByte('%')
			}
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// patternTerm writes the condition of a Match or NotMatch term on col: the
// value matches one of the patterns (OR), or none of them (AND of the
// negations). Columns are NOT NULL, so NOT needs no NULL handling.
func (d Dialect) patternTerm(b *strings.Builder, col string, t store.Term, args *Args) {
	not := t.Op == store.OpNotMatch
	join := " OR "
	if not {
		join = " AND "
	}
	b.WriteByte('(')
	for i, v := range t.Values {
		if i > 0 {
			b.WriteString(join)
		}
		b.WriteString(d.matchSQL(col, v.(string), not, args))
	}
	b.WriteByte(')')
}
