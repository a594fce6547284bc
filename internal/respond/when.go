package respond

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/respond/cidr"
)

// A rule's "when" is a small boolean language over one finding and one of its
// remote addresses:
//
//	severity >= 8 and remote is public
//	severity >= HIGH and type matches "Recon:EC2/*" and not blocked
//	direction == INBOUND and local.port in [22, 3389] and remote.country != "NL"
//	remote in [45.155.205.0/24, 2a01:4f8::/32] or count > 100
//
// Grammar (keywords and field names are case-insensitive):
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | "(" expr ")" | "true" | "false" | cond
//	cond    = field op value | field "in" "[" value { "," value } "]"
//	        | field "matches" value | "remote" "is" ["not"] ("public" | "private")
//	        | boolfield
//	op      = "==" | "!=" | "<" | "<=" | ">" | ">="
//	value   = a word (8, HIGH, INBOUND, 45.155.205.0/24, Recon:EC2/*) or a quoted string
//
// String comparisons ignore case; "matches" and "in" on strings take globs
// ("*" any run, "?" one character). A field the finding lacks compares as ""
// or 0, so "remote.country != NL" holds for an address without GeoIP data.

// maxWhenLen and maxWhenDepth bound what one expression may cost to parse.
const (
	maxWhenLen   = 4096
	maxWhenDepth = 64
)

// candidate is what a "when" expression is evaluated on: a finding and one of
// its remote addresses, with the details that came with that address.
type candidate struct {
	f         *finding.Finding
	remote    netip.Addr
	details   *finding.RemoteIPDetails
	localPort int
}

// when is a compiled expression.
type when func(*candidate) bool

// WhenError is a syntax or type error in a "when" expression, at a 1-based
// column (in characters).
type WhenError struct {
	Col int
	Msg string
}

func (e *WhenError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokOp
)

type token struct {
	kind tokKind
	text string
	col  int // 1-based, in characters
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "the end"
	case tokString:
		return strconv.Quote(t.text)
	}
	return "\"" + t.text + "\""
}

// lex splits src into tokens.
func lex(src string) ([]token, error) {
	var toks []token
	col := 1
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		start := col
		switch {
		case r == utf8.RuneError && size == 1:
			return nil, &WhenError{col, "invalid UTF-8"}
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i += size
			col++
			continue
		case r == '"' || r == '\'':
			var b strings.Builder
			j := i + size
			col++
			closed := false
			for j < len(src) {
				c, n := utf8.DecodeRuneInString(src[j:])
				j += n
				col++
				if c == r {
					closed = true
					break
				}
				if c == '\\' && j < len(src) {
					c, n = utf8.DecodeRuneInString(src[j:])
					j += n
					col++
				}
				b.WriteRune(c)
			}
			if !closed {
				return nil, &WhenError{start, "string not closed"}
			}
			toks = append(toks, token{tokString, b.String(), start})
			i = j
			continue
		case strings.ContainsRune("()[],", r):
			toks = append(toks, token{tokOp, string(r), start})
			i += size
			col++
			continue
		case strings.ContainsRune("=!<>", r):
			op := string(r)
			if i+1 < len(src) && src[i+1] == '=' {
				op += "="
			}
			switch op {
			case "=", "!":
				return nil, &WhenError{start, fmt.Sprintf("%q is not an operator (use == or !=, and \"not\")", op)}
			}
			toks = append(toks, token{tokOp, op, start})
			i += len(op)
			col += len(op)
			continue
		}
		j := i
		for j < len(src) {
			c, n := utf8.DecodeRuneInString(src[j:])
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || strings.ContainsRune("()[],=!<>\"'", c) || (c == utf8.RuneError && n == 1) {
				break
			}
			j += n
			col++
		}
		toks = append(toks, token{tokWord, src[i:j], start})
		i = j
	}
	return append(toks, token{tokEOF, "", col}), nil
}

type parser struct {
	toks  []token
	pos   int
	depth int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) isKeyword(t token, kw string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &WhenError{t.col, fmt.Sprintf(format, args...)}
}

// parseWhen compiles a "when" expression. The empty expression is always true.
func parseWhen(src string) (when, error) {
	if len(src) > maxWhenLen {
		return nil, &WhenError{1, fmt.Sprintf("expression of %d bytes, at most %d", len(src), maxWhenLen)}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return func(*candidate) bool { return true }, nil
	}
	p := &parser{toks: toks}
	w, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t, "expected \"and\", \"or\" or the end, found %s", t.describe())
	}
	return w, nil
}

func (p *parser) or() (when, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKeyword(p.peek(), "or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a := l
		l = func(c *candidate) bool { return a(c) || r(c) }
	}
	return l, nil
}

func (p *parser) and() (when, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isKeyword(p.peek(), "and") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		a := l
		l = func(c *candidate) bool { return a(c) && r(c) }
	}
	return l, nil
}

func (p *parser) unary() (when, error) {
	p.depth++
	defer func() { p.depth-- }()
	t := p.peek()
	if p.depth > maxWhenDepth {
		return nil, p.errorf(t, "nested more than %d deep", maxWhenDepth)
	}
	switch {
	case p.isKeyword(t, "not"):
		p.next()
		w, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(c *candidate) bool { return !w(c) }, nil
	case t.kind == tokOp && t.text == "(":
		p.next()
		w, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokOp || c.text != ")" {
			return nil, p.errorf(c, "expected \")\" to close the \"(\" at column %d, found %s", t.col, c.describe())
		}
		return w, nil
	case p.isKeyword(t, "true"):
		p.next()
		return func(*candidate) bool { return true }, nil
	case p.isKeyword(t, "false"):
		p.next()
		return func(*candidate) bool { return false }, nil
	case t.kind == tokWord:
		return p.cond()
	}
	return nil, p.errorf(t, "expected a condition (such as \"severity >= 8\"), found %s", t.describe())
}

// fieldKind is the type of a field.
type fieldKind uint8

const (
	kindNumber fieldKind = iota
	kindString
	kindBool
	kindAddr
)

type field struct {
	kind fieldKind
	num  func(*candidate) float64
	str  func(*candidate) string
	bool func(*candidate) bool
}

// fields are the names a "when" expression may use.
var fields = map[string]field{
	"severity":      {kind: kindNumber, num: func(c *candidate) float64 { return float64(c.f.Severity) }},
	"count":         {kind: kindNumber, num: func(c *candidate) float64 { return float64(c.f.Service.Count) }},
	"local.port":    {kind: kindNumber, num: func(c *candidate) float64 { return float64(c.localPort) }},
	"remote.port":   {kind: kindNumber, num: remotePort},
	"type":          {kind: kindString, str: func(c *candidate) string { return string(c.f.Type) }},
	"action":        {kind: kindString, str: func(c *candidate) string { return string(c.f.Service.Action.ActionType) }},
	"direction":     {kind: kindString, str: direction},
	"role":          {kind: kindString, str: func(c *candidate) string { return string(c.f.Service.ResourceRole) }},
	"protocol":      {kind: kindString, str: protocol},
	"account":       {kind: kindString, str: func(c *candidate) string { return c.f.AccountID }},
	"region":        {kind: kindString, str: func(c *candidate) string { return c.f.Region }},
	"resource.type": {kind: kindString, str: func(c *candidate) string { return string(c.f.Resource.ResourceType) }},
	"threat_list":   {kind: kindString, str: threatList},
	"remote.country": {kind: kindString, str: func(c *candidate) string {
		if c.details == nil || c.details.Country == nil {
			return ""
		}
		return c.details.Country.CountryCode
	}},
	"remote.asn": {kind: kindString, str: func(c *candidate) string {
		if c.details == nil || c.details.Organization == nil {
			return ""
		}
		return c.details.Organization.ASN
	}},
	"remote.org": {kind: kindString, str: func(c *candidate) string {
		if c.details == nil || c.details.Organization == nil {
			return ""
		}
		return c.details.Organization.ASNOrg
	}},
	"blocked": {kind: kindBool, bool: blocked},
	"remote":  {kind: kindAddr},
}

// fieldNames lists the fields for error messages.
const fieldNames = "severity, count, type, action, direction, role, protocol, account, region, resource.type, threat_list, " +
	"local.port, remote, remote.port, remote.country, remote.asn, remote.org, blocked"

func remotePort(c *candidate) float64 {
	if n := c.f.Service.Action.NetworkConnectionAction; n != nil && n.RemotePortDetails != nil {
		return float64(n.RemotePortDetails.Port)
	}
	return 0
}

func direction(c *candidate) string {
	if n := c.f.Service.Action.NetworkConnectionAction; n != nil {
		return n.ConnectionDirection
	}
	if c.f.Service.Action.PortProbeAction != nil {
		return finding.DirectionInbound // a probe comes in
	}
	return ""
}

func protocol(c *candidate) string {
	if n := c.f.Service.Action.NetworkConnectionAction; n != nil {
		return n.Protocol
	}
	return ""
}

func blocked(c *candidate) bool {
	a := &c.f.Service.Action
	switch {
	case a.NetworkConnectionAction != nil:
		return a.NetworkConnectionAction.Blocked
	case a.PortProbeAction != nil:
		return a.PortProbeAction.Blocked
	case a.DNSRequestAction != nil:
		return a.DNSRequestAction.Blocked
	}
	return false
}

func threatList(c *candidate) string {
	if v, ok := c.f.Service.AdditionalInfo["threatListName"].(string); ok {
		return v
	}
	if e := c.f.Service.Evidence; e != nil && len(e.ThreatIntelligenceDetails) > 0 {
		return e.ThreatIntelligenceDetails[0].ThreatListName
	}
	return ""
}

func (p *parser) cond() (when, error) {
	name := p.next()
	f, ok := fields[strings.ToLower(name.text)]
	if !ok {
		return nil, p.errorf(name, "unknown field %s (fields: %s)", name.describe(), fieldNames)
	}
	if f.kind == kindBool {
		return p.boolCond(name, f)
	}
	if f.kind == kindAddr {
		return p.addrCond(name)
	}
	op := p.next()
	switch {
	case p.isKeyword(op, "in"):
		return p.inList(name, f)
	case p.isKeyword(op, "matches"):
		if f.kind != kindString {
			return nil, p.errorf(op, "%s is a number: \"matches\" takes a text field", name.text)
		}
		v := p.next()
		if v.kind != tokWord && v.kind != tokString {
			return nil, p.errorf(v, "expected a pattern after \"matches\", found %s", v.describe())
		}
		pat := v.text
		return func(c *candidate) bool { return globFold(pat, f.str(c)) }, nil
	case op.kind != tokOp || op.text == "(" || op.text == ")" || op.text == "[" || op.text == "]" || op.text == ",":
		return nil, p.errorf(op, "expected an operator (==, !=, <, <=, >, >=, in, matches) after %s, found %s", name.text, op.describe())
	}
	v := p.next()
	if v.kind != tokWord && v.kind != tokString {
		return nil, p.errorf(v, "expected a value after \"%s %s\", found %s", name.text, op.text, v.describe())
	}
	if f.kind == kindNumber {
		n, err := p.number(name, v)
		if err != nil {
			return nil, err
		}
		get := f.num
		switch op.text {
		case "==":
			return func(c *candidate) bool { return get(c) == n }, nil
		case "!=":
			return func(c *candidate) bool { return get(c) != n }, nil
		case "<":
			return func(c *candidate) bool { return get(c) < n }, nil
		case "<=":
			return func(c *candidate) bool { return get(c) <= n }, nil
		case ">":
			return func(c *candidate) bool { return get(c) > n }, nil
		default: // ">="
			return func(c *candidate) bool { return get(c) >= n }, nil
		}
	}
	s, get := v.text, f.str
	switch op.text {
	case "==":
		return func(c *candidate) bool { return strings.EqualFold(get(c), s) }, nil
	case "!=":
		return func(c *candidate) bool { return !strings.EqualFold(get(c), s) }, nil
	}
	return nil, p.errorf(op, "%s is text: use ==, !=, in or matches, not %s", name.text, op.text)
}

// number reads a number, or for severity a band name (its lower bound).
func (p *parser) number(name, v token) (float64, error) {
	if strings.EqualFold(name.text, "severity") {
		switch strings.ToUpper(v.text) {
		case "LOW":
			return 1, nil
		case "MEDIUM":
			return 4, nil
		case "HIGH":
			return 7, nil
		case "CRITICAL":
			return 9, nil
		}
	}
	n, err := strconv.ParseFloat(v.text, 64)
	if err != nil || n != n { // NaN compares false with everything
		if strings.EqualFold(name.text, "severity") {
			return 0, p.errorf(v, "expected a number or a severity band (LOW, MEDIUM, HIGH, CRITICAL) for severity, found %s", v.describe())
		}
		return 0, p.errorf(v, "expected a number for %s, found %s", name.text, v.describe())
	}
	return n, nil
}

func (p *parser) boolCond(name token, f field) (when, error) {
	t := p.peek()
	if t.kind != tokOp || (t.text != "==" && t.text != "!=") {
		return f.bool, nil
	}
	p.next()
	v := p.next()
	var want bool
	switch {
	case p.isKeyword(v, "true"):
		want = true
	case p.isKeyword(v, "false"):
	default:
		return nil, p.errorf(v, "expected true or false after \"%s %s\", found %s", name.text, t.text, v.describe())
	}
	if t.text == "!=" {
		want = !want
	}
	return func(c *candidate) bool { return f.bool(c) == want }, nil
}

func (p *parser) addrCond(name token) (when, error) {
	op := p.next()
	switch {
	case p.isKeyword(op, "is"):
		neg := false
		if p.isKeyword(p.peek(), "not") {
			p.next()
			neg = true
		}
		cls := p.next()
		var public bool
		switch {
		case p.isKeyword(cls, "public"):
			public = true
		case p.isKeyword(cls, "private"), p.isKeyword(cls, "reserved"):
		default:
			return nil, p.errorf(cls, "expected public or private after \"remote is\", found %s", cls.describe())
		}
		return func(c *candidate) bool {
			_, special := cidr.Reserved(cidr.Host(c.remote))
			return (public != special) != neg
		}, nil
	case p.isKeyword(op, "in"):
		ps, err := p.prefixList(name)
		if err != nil {
			return nil, err
		}
		return func(c *candidate) bool {
			for _, q := range ps {
				if q.Contains(c.remote.Unmap()) {
					return true
				}
			}
			return false
		}, nil
	case op.kind == tokOp && (op.text == "==" || op.text == "!="):
		v := p.next()
		q, err := cidr.Parse(v.text)
		if err != nil || (v.kind != tokWord && v.kind != tokString) {
			return nil, p.errorf(v, "expected an address or CIDR after \"remote %s\", found %s", op.text, v.describe())
		}
		eq := op.text == "=="
		return func(c *candidate) bool { return q.Contains(c.remote.Unmap()) == eq }, nil
	}
	return nil, p.errorf(op, "expected \"is public\", \"is private\", \"in [...]\", == or != after remote, found %s", op.describe())
}

// values reads "[" value { "," value } "]".
func (p *parser) values() ([]token, error) {
	open := p.next()
	if open.kind != tokOp || open.text != "[" {
		return nil, p.errorf(open, "expected \"[\" after \"in\", found %s", open.describe())
	}
	var vs []token
	for {
		v := p.next()
		if v.kind != tokWord && v.kind != tokString {
			return nil, p.errorf(v, "expected a value in the list, found %s", v.describe())
		}
		vs = append(vs, v)
		sep := p.next()
		if sep.kind == tokOp && sep.text == "]" {
			return vs, nil
		}
		if sep.kind != tokOp || sep.text != "," {
			return nil, p.errorf(sep, "expected \",\" or \"]\" in the list opened at column %d, found %s", open.col, sep.describe())
		}
	}
}

func (p *parser) prefixList(name token) ([]netip.Prefix, error) {
	vs, err := p.values()
	if err != nil {
		return nil, err
	}
	ps := make([]netip.Prefix, len(vs))
	for i, v := range vs {
		if ps[i], err = cidr.Parse(v.text); err != nil {
			return nil, p.errorf(v, "in the list of %s: %v", name.text, err)
		}
	}
	return ps, nil
}

func (p *parser) inList(name token, f field) (when, error) {
	vs, err := p.values()
	if err != nil {
		return nil, err
	}
	if f.kind == kindNumber {
		ns := make([]float64, len(vs))
		for i, v := range vs {
			if ns[i], err = p.number(name, v); err != nil {
				return nil, err
			}
		}
		return func(c *candidate) bool {
			x := f.num(c)
			for _, n := range ns {
				if x == n {
					return true
				}
			}
			return false
		}, nil
	}
	pats := make([]string, len(vs))
	for i, v := range vs {
		pats[i] = v.text
	}
	return func(c *candidate) bool {
		s := f.str(c)
		for _, pat := range pats {
			if globFold(pat, s) {
				return true
			}
		}
		return false
	}, nil
}

// globFold reports whether s matches pattern, ignoring case: "*" matches any
// run of characters ("/" included, unlike path.Match), "?" one character.
func globFold(pattern, s string) bool {
	// Iterative matching with one backtrack point: linear in practice, and
	// never exponential.
	p, str := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(s))
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
