package intel

import (
	"bytes"
	"strings"
)

// lines calls fn for each line of data with its 1-based number, without the line
// ending (LF or CRLF), until fn returns false.
func lines(data []byte, fn func(n int, line []byte) bool) {
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !fn(n, line) {
			return
		}
	}
}

// parseTXT reads GuardDuty's TXT format: one value per line. Lines starting with
// "#" or ";" are comments, as is anything after the value that starts with one
// (the style of most public blocklists); blank lines are skipped. A line with
// a second value is bad: TXT has one entry per line.
func parseTXT(b *builder, data []byte) error {
	lines(data, func(n int, raw []byte) bool {
		l := strings.TrimSpace(string(raw))
		if l == "" || l[0] == '#' || l[0] == ';' {
			return true
		}
		v, rest := l, ""
		if i := strings.IndexAny(l, " \t"); i >= 0 {
			v, rest = l[:i], strings.TrimSpace(l[i:])
		}
		if rest != "" && rest[0] != '#' && rest[0] != ';' {
			b.warn(n, quote(l)+" has more than one value: expected one IP address, CIDR or domain per line")
			return true
		}
		b.add(n, v, "")
		return !b.full()
	})
	return nil
}
