package query

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/vigil-dev/vigil/internal/record"
)

// ParseStep is a compiled parse command: it sets the command's slots from
// its source field and passes the row on with next, once (or, for parse …
// multi, once per match). It never drops a row: when nothing matches, the
// slots are missing and the row goes on (§3.7).
type ParseStep func(r *Row, next func(*Row))

// Parse compiles a parse command whose extracted fields go to slots (one per
// name of cmd.Fields(), as Stage.Slots gives them).
func (c *Compiler) Parse(cmd *ParseCmd, slots []int) (ParseStep, error) {
	var srcExpr Expr = cmd.Source
	if cmd.Source == nil {
		srcExpr = &FieldRef{Path: []string{"@message"}, Pos: cmd.Pos}
	}
	src, err := c.Value(srcExpr)
	if err != nil {
		return nil, err
	}
	if len(slots) != len(cmd.Fields()) {
		return nil, fmt.Errorf("BUG: parse with %d fields given %d slots", len(cmd.Fields()), len(slots))
	}
	clearSlots := func(r *Row) {
		for _, s := range slots {
			r.Slots[s] = missing
		}
	}
	text := func(r *Row) (string, bool) { return strValue(src(r)) }
	switch cmd.Mode {
	case ParseGlob:
		lits := splitStars(cmd.Pattern.(*StringLit).Value)
		return func(r *Row, next func(*Row)) {
			if s, ok := text(r); !ok || !globMatch(s, lits, r.Slots, slots) {
				clearSlots(r)
			}
			next(r)
		}, nil
	case ParseRegex:
		re, err := regexp.Compile(cmd.Pattern.(*RegexLit).Pattern)
		if err != nil {
			return nil, c.errorf(cmd.Pattern, "invalid regex: %v", err)
		}
		// Group i of the regex goes to groupSlot[i] (-1: not extracted).
		groupSlot := make([]int, re.NumSubexp()+1)
		for i := range groupSlot {
			groupSlot[i] = -1
		}
		if cmd.As != nil {
			for i := range cmd.As {
				groupSlot[i+1] = slots[i]
			}
		} else {
			names := cmd.Fields()
			for i, n := range re.SubexpNames() {
				for j, f := range names {
					if n != "" && n == f {
						groupSlot[i] = slots[j]
					}
				}
			}
		}
		set := func(r *Row, s string, loc []int) {
			for g, slot := range groupSlot {
				if slot < 0 {
					continue
				}
				if loc[2*g] < 0 {
					r.Slots[slot] = missing
				} else {
					r.Slots[slot] = record.StringValue(s[loc[2*g]:loc[2*g+1]])
				}
			}
		}
		if cmd.Multi {
			return func(r *Row, next func(*Row)) {
				s, ok := text(r)
				var all [][]int
				if ok {
					all = re.FindAllStringSubmatchIndex(s, -1)
				}
				if len(all) == 0 {
					clearSlots(r)
					next(r)
					return
				}
				for _, loc := range all {
					set(r, s, loc)
					next(r)
				}
			}, nil
		}
		return func(r *Row, next func(*Row)) {
			s, ok := text(r)
			var loc []int
			if ok {
				loc = re.FindStringSubmatchIndex(s)
			}
			if loc == nil {
				clearSlots(r)
			} else {
				set(r, s, loc)
			}
			next(r)
		}, nil
	case ParseLogfmt:
		slot := slots[0]
		return func(r *Row, next func(*Row)) {
			r.Slots[slot] = missing
			if s, ok := text(r); ok {
				if m := logfmtJSON(s); m != "" {
					r.Slots[slot] = jsonValue(m)
				}
			}
			next(r)
		}, nil
	case ParseCSV:
		return func(r *Row, next func(*Row)) {
			clearSlots(r)
			if s, ok := text(r); ok {
				csvFields(s, func(i int, v string) {
					if i < len(slots) {
						r.Slots[slots[i]] = record.StringValue(v)
					}
				})
			}
			next(r)
		}, nil
	}
	return nil, c.errorf(cmd, "unsupported parse mode %s", cmd.Mode)
}

// splitStars splits a glob pattern at its * placeholders.
func splitStars(pattern string) []string { return strings.Split(pattern, "*") }

// globMatch matches a glob pattern, split at its * into lits, anywhere in s
// (the match is not anchored): each inner * takes the shortest text up to
// the next literal, a trailing * the rest of s, and the leftmost match wins.
// Taking the first occurrence of each literal in turn finds that match: if
// the rest cannot match after it, it cannot after a later one either. The
// captures go to r.Slots[slots[i]] and alias s.
func globMatch(s string, lits []string, out []record.Value, slots []int) bool {
	i := strings.Index(s, lits[0])
	if i < 0 {
		return false
	}
	pos := i + len(lits[0])
	for k := 1; k < len(lits); k++ {
		if k == len(lits)-1 && lits[k] == "" {
			out[slots[k-1]] = record.StringValue(s[pos:])
			return true
		}
		j := strings.Index(s[pos:], lits[k])
		if j < 0 {
			return false
		}
		out[slots[k-1]] = record.StringValue(s[pos : pos+j])
		pos += j + len(lits[k])
	}
	return true
}

// logfmtJSON turns key=value pairs (values optionally double-quoted) into a
// JSON object's text; "" when there are none.
func logfmtJSON(s string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[start:i]
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			if i < len(s) && s[i] == '"' {
				var v strings.Builder
				i++
				for i < len(s) && s[i] != '"' {
					if s[i] == '\\' && i+1 < len(s) {
						i++
					}
					v.WriteByte(s[i])
					i++
				}
				i++
				val = v.String()
			} else {
				vs := i
				for i < len(s) && s[i] != ' ' && s[i] != '\t' {
					i++
				}
				val = s[vs:i]
			}
		}
		if key == "" {
			if i == start {
				i++
			}
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		} else {
			b.WriteByte('{')
		}
		n++
		b.WriteString(jsonString(key))
		b.WriteByte(':')
		b.WriteString(jsonString(val))
	}
	if n == 0 {
		return ""
	}
	b.WriteByte('}')
	return b.String()
}

// csvFields splits one line of comma-separated values, with double quotes
// around values that hold commas or quotes ("" is a quote), calling f with
// each field's index and text.
func csvFields(s string, f func(int, string)) {
	idx := 0
	for i := 0; i <= len(s); {
		if i < len(s) && s[i] == '"' {
			var v strings.Builder
			i++
			for i < len(s) {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						v.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				v.WriteByte(s[i])
				i++
			}
			for i < len(s) && s[i] != ',' {
				i++
			}
			f(idx, v.String())
		} else {
			j := strings.IndexByte(s[i:], ',')
			if j < 0 {
				j = len(s) - i
			}
			f(idx, s[i:i+j])
			i += j
		}
		idx++
		i++ // the comma
	}
}
