package store

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WhereAliases are short names the shorthand accepts for long attribute
// names.
var WhereAliases = map[string]string{
	"account":   "accountId",
	"instance":  "resource.instanceDetails.instanceId",
	"accessKey": "resource.accessKeyDetails.accessKeyId",
	"remoteIp":  "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
	"callerIp":  "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4",
	"domain":    "service.action.dnsRequestAction.domain",
	"archived":  "service.archived",
	"count":     "service.count",
	"role":      "service.resourceRole",
	"feedback":  "service.userFeedback",
}

// MaxWhere bounds the length of one shorthand condition.
const MaxWhere = 4096

// ParseWhere reads criteria in the command line's shorthand, one condition per
// string, and returns them checked (Criteria.Terms):
//
//	type=Recon:EC2/Portscan                    Equals (values OR-ed, comma-separated)
//	type!=Recon:EC2/Portscan,Trojan:EC2/DropPoint  NotEquals
//	severity>=7   severity<4   service.count>10    the range operators, integer values
//	updatedAt>=2026-11-01   createdAt<2026-11-01T10:00:00Z   times as dates, RFC 3339 or epoch ms
//	severity>=high                             a severity band's floor (low 1, medium 4, high 7, critical 9)
//	domain~*.example.com,*.example.org         Matches: wildcard patterns, '*' any run (filters only)
//	instance!~i-0scan*                         NotMatches
//
// Attribute names are GuardDuty's (store.Attributes) or a short alias
// (WhereAliases: instance, remoteIp, archived, …). A comma inside a value is
// written "\,". Conditions on one attribute combine (severity>=4 with
// severity<7); one operator given twice for an attribute is an error. Errors
// wrap ErrInvalidCriteria and quote the condition.
func ParseWhere(conds []string) (Criteria, error) {
	c := Criteria{Criterion: map[string]Condition{}}
	for _, s := range conds {
		if len(s) > MaxWhere {
			return Criteria{}, fmt.Errorf("%w: condition of %d bytes: at most %d", ErrInvalidCriteria, len(s), MaxWhere)
		}
		attr, op, val, err := splitWhere(s)
		if err != nil {
			return Criteria{}, err
		}
		kind := Attributes[attr]
		cond := c.Criterion[attr]
		dup := func() error {
			return fmt.Errorf("%w: %q: %s %s is given twice (list values with commas: %s%sa,b)", ErrInvalidCriteria, s, attr, op, attr, op)
		}
		switch op {
		case "~", "!~":
			if kind != KindString {
				return Criteria{}, fmt.Errorf("%w: %q: %s is a %s; %s takes wildcard patterns for string attributes", ErrInvalidCriteria, s, attr, kind, op)
			}
			slot := &cond.Matches
			if op == "!~" {
				slot = &cond.NotMatches
			}
			if *slot != nil {
				return Criteria{}, dup()
			}
			*slot = splitValues(val)
		case "=", "!=":
			vals := splitValues(val)
			if kind == KindTime {
				for i, v := range vals {
					ms, err := parseWhereTime(v)
					if err != nil {
						return Criteria{}, fmt.Errorf("%w: %q: %v", ErrInvalidCriteria, s, err)
					}
					vals[i] = strconv.FormatInt(ms, 10)
				}
			}
			if op == "=" {
				if cond.Equals != nil {
					return Criteria{}, dup()
				}
				cond.Equals = vals
			} else {
				if cond.NotEquals != nil {
					return Criteria{}, dup()
				}
				cond.NotEquals = vals
			}
		default:
			n, err := parseWhereNumber(kind, attr, strings.TrimSpace(val))
			if err != nil {
				return Criteria{}, fmt.Errorf("%w: %q: %v", ErrInvalidCriteria, s, err)
			}
			slot := map[string]**int64{">": &cond.GreaterThan, ">=": &cond.GreaterThanOrEqual, "<": &cond.LessThan, "<=": &cond.LessThanOrEqual}[op]
			if *slot != nil {
				return Criteria{}, dup()
			}
			*slot = &n
		}
		c.Criterion[attr] = cond
	}
	if len(c.Criterion) == 0 {
		c.Criterion = nil
	}
	if err := CheckCriteriaBounds(c); err != nil {
		return Criteria{}, err
	}
	if _, err := c.Terms(); err != nil {
		return Criteria{}, err
	}
	return c, nil
}

// splitWhere cuts "attr op value" at the first operator.
func splitWhere(s string) (attr, op, val string, err error) {
	i := strings.IndexAny(s, "=!<>~")
	if i <= 0 {
		return "", "", "", fmt.Errorf("%w: %q: want ATTRIBUTE OP VALUE with OP one of = != > >= < <= ~ !~ (e.g. severity>=7)", ErrInvalidCriteria, s)
	}
	name := strings.TrimSpace(s[:i])
	rest := s[i:]
	for _, o := range []string{"!=", "!~", ">=", "<=", "=", ">", "<", "~"} {
		if strings.HasPrefix(rest, o) {
			op, val = o, rest[len(o):]
			break
		}
	}
	if op == "" {
		return "", "", "", fmt.Errorf("%w: %q: %q is not an operator (want = != > >= < <= ~ !~)", ErrInvalidCriteria, s, rest[:1])
	}
	if strings.TrimSpace(val) == "" {
		return "", "", "", fmt.Errorf("%w: %q: no value after %s", ErrInvalidCriteria, s, op)
	}
	attr, err = whereAttribute(name)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: %q: %v", ErrInvalidCriteria, s, err)
	}
	return attr, op, val, nil
}

// whereAttribute resolves a name or alias, suggesting the names that match
// case-insensitively or end like it.
func whereAttribute(name string) (string, error) {
	if a, ok := WhereAliases[name]; ok {
		return a, nil
	}
	if _, ok := Attributes[name]; ok {
		return name, nil
	}
	var near []string
	low := strings.ToLower(name)
	for _, a := range slices.Sorted(maps.Keys(Attributes)) {
		la := strings.ToLower(a)
		if la == low || strings.HasSuffix(la, "."+low) {
			near = append(near, a)
		}
	}
	for alias, a := range WhereAliases {
		if strings.EqualFold(alias, name) {
			near = append(near, alias+" ("+a+")")
		}
	}
	if len(near) > 0 {
		return "", fmt.Errorf("attribute %q is not supported; did you mean %s?", name, strings.Join(near, " or "))
	}
	return "", fmt.Errorf("attribute %q is not supported (supported: %s; aliases: %s)", name,
		strings.Join(slices.Sorted(maps.Keys(Attributes)), ", "), strings.Join(slices.Sorted(maps.Keys(WhereAliases)), ", "))
}

// splitValues splits at commas not escaped as "\,", trimming spaces.
func splitValues(s string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == ',':
			b.WriteByte(',')
			i++
		case s[i] == ',':
			out = append(out, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(out, strings.TrimSpace(b.String()))
}

// parseWhereNumber reads the value of a range condition.
func parseWhereNumber(kind Kind, attr, s string) (int64, error) {
	switch kind {
	case KindTime:
		return parseWhereTime(s)
	case KindNumber:
		switch strings.ToLower(s) {
		case "low":
			return 1, nil
		case "medium":
			return 4, nil
		case "high":
			return 7, nil
		case "critical":
			return 9, nil
		}
		fallthrough
	case KindInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: range values are integers (GuardDuty's criteria), not %q", attr, s)
		}
		return n, nil
	}
	if kind == KindString {
		return 0, fmt.Errorf("%s is a string: compare it with =, !=, ~ or !~", attr)
	}
	return 0, fmt.Errorf("%s is a %s: compare it with = or !=", attr, kind)
}

// parseWhereTime reads a time as epoch milliseconds, an RFC 3339 time or a
// date (UTC midnight).
func parseWhereTime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("time %q: want epoch milliseconds, 2026-11-01 or 2026-11-01T10:00:00Z", s)
}
