package vpcflow

import (
	"fmt"
	"sort"
	"strings"
	"unsafe"

	"github.com/vigil-dev/vigil/internal/record"
)

// DefaultFormat is AWS's default flow-log format: the version 2 fields in their
// fixed order. Files and streams without a header and without a configured
// format are read with it.
const DefaultFormat = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// extraField marks a column whose name vigil does not know; its values go to
// Flow.Extra as text. It is the last ID a FieldSet can hold, above every flow
// field, and small, so that the switch in parseLine stays a jump table.
const extraField = record.FieldID(63)

// column is one position of a format: the field it fills and the name the
// format spells it with (for messages and Extra).
type column struct {
	id    record.FieldID
	name  string
	extra *interner // unknown fields only: the interner for their values
}

// knownColumn returns the column of a catalogued field.
func knownColumn(id record.FieldID, name string) column {
	return column{id: id, name: name}
}

// init checks that parseLine has a rule for every flow field: each is either
// in its switch or a string field that record.Flow.StringField locates. A field
// added to the catalogue without a rule here fails every test at once.
func init() {
	special := map[record.FieldID]bool{
		record.FlowVersion: true, record.FlowSrcAddr: true, record.FlowDstAddr: true, record.FlowPktSrcAddr: true,
		record.FlowPktDstAddr: true, record.FlowSrcPort: true, record.FlowDstPort: true, record.FlowProtocol: true,
		record.FlowTCPFlags: true, record.FlowTrafficPath: true, record.FlowPackets: true, record.FlowBytes: true,
		record.FlowStart: true, record.FlowEnd: true, record.FlowPacketsLostNoRoute: true,
		record.FlowPacketsLostBlackhole: true, record.FlowPacketsLostMTUExceeded: true,
		record.FlowPacketsLostTTLExpired: true, record.FlowAction: true, record.FlowLogStatus: true,
		record.FlowFlowDirection: true,
	}
	var f record.Flow
	for _, fd := range record.FlowCatalogue.Fields {
		if fd.Version == 0 || special[fd.ID] {
			continue
		}
		if fd.Type != record.TypeString || f.StringField(fd.ID) == nil {
			panic(fmt.Sprintf("BUG: vpcflow: no rule for flow field %s", fd.Name))
		}
	}
	if int(extraField) < len(record.FlowCatalogue.Fields) {
		panic("BUG: vpcflow: extraField is a catalogued field")
	}
}

// layout is the field order of one input: from its header, the configured
// format, or the default.
type layout struct {
	cols    []column
	unknown []string // names of the unknown columns, in order
	// isDefault is set when cols are the default format's fields in its order:
	// lines take parseDefault's fast path (fastv2.go).
	isDefault bool
}

// parseFormat parses a configured format: AWS's "${version} ${account-id} …"
// or plain field names ("version account-id …", also with underscores as in
// Parquet and Athena). Unlike a header, which AWS writes and which may name fields
// newer than vigil, a configured format is typed by a person, so an unknown name
// is an error (with a suggestion) rather than a silently text-typed column.
func parseFormat(s string) (*layout, error) {
	words := strings.Fields(s)
	if len(words) == 0 {
		return nil, fmt.Errorf("empty flow-log format")
	}
	lay := &layout{cols: make([]column, 0, len(words))}
	seen := make(map[record.FieldID]bool, len(words))
	for _, w := range words {
		name := w
		if strings.HasPrefix(w, "${") || strings.HasSuffix(w, "}") {
			if !strings.HasPrefix(w, "${") || !strings.HasSuffix(w, "}") || len(w) < 4 {
				return nil, fmt.Errorf("flow-log format: malformed field %q: want ${name}", w)
			}
			name = w[2 : len(w)-1]
		}
		if !isFieldName(name) {
			return nil, fmt.Errorf("flow-log format: malformed field %q: want ${name} or a name of lower-case letters, digits and hyphens", w)
		}
		id, ok := record.FlowFieldByLogName(name)
		if !ok {
			if sug := suggest(name); sug != "" {
				return nil, fmt.Errorf("flow-log format: unknown field %q (did you mean %q?)", name, sug)
			}
			return nil, fmt.Errorf("flow-log format: unknown field %q", name)
		}
		if seen[id] {
			return nil, fmt.Errorf("flow-log format: field %q appears twice", name)
		}
		seen[id] = true
		lay.cols = append(lay.cols, knownColumn(id, name))
	}
	lay.isDefault = isDefaultOrder(lay.cols)
	return lay, nil
}

// mustParseFormat is parseFormat for formats known to be good.
func mustParseFormat(s string) *layout {
	lay, err := parseFormat(s)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return lay
}

// headerLayout builds the layout a header line names; the line must satisfy
// IsHeader. Unknown names become Extra columns with an interner from extras.
func headerLayout(line []byte, extras func(name string) *interner) *layout {
	lay := &layout{}
	for len(line) > 0 {
		tok := line
		if i := indexSpace(line); i >= 0 {
			tok, line = line[:i], line[i+1:]
		} else {
			line = nil
		}
		if len(tok) == 0 {
			continue
		}
		name := string(tok)
		if id, ok := record.FlowFieldByLogName(name); ok {
			lay.cols = append(lay.cols, knownColumn(id, name))
		} else {
			lay.cols = append(lay.cols, column{id: extraField, name: name, extra: extras(name)})
			lay.unknown = append(lay.unknown, name)
		}
	}
	lay.isDefault = isDefaultOrder(lay.cols)
	return lay
}

// IsHeader reports whether line is a flow-log header: space-separated field
// names (lower-case letters, digits, '-' and '_', starting with a letter), at
// least one of which vigil knows. Data lines never qualify: their first fields are
// numbers, addresses or ids with digits, and placeholders are '-'.
func IsHeader(line []byte) bool {
	known := false
	n := 0
	for len(line) > 0 {
		tok := line
		if i := indexSpace(line); i >= 0 {
			tok, line = line[:i], line[i+1:]
		} else {
			line = nil
		}
		if len(tok) == 0 {
			continue // tolerate doubled or trailing spaces
		}
		if !isFieldNameBytes(tok) {
			return false
		}
		n++
		if !known {
			_, known = record.FlowFieldByLogName(unsafe.String(&tok[0], len(tok)))
		}
	}
	return n > 0 && known
}

func indexSpace(b []byte) int {
	for i, c := range b {
		if c == ' ' || c == '\t' {
			return i
		}
	}
	return -1
}

func isFieldName(s string) bool {
	return isFieldNameBytes(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func isFieldNameBytes(b []byte) bool {
	if len(b) == 0 || b[0] < 'a' || b[0] > 'z' {
		return false
	}
	for _, c := range b[1:] {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// suggest returns the known field name closest to name, if it is close enough
// to be a typo.
func suggest(name string) string {
	var names []string
	for _, f := range record.FlowCatalogue.Fields {
		if f.Version == 0 {
			continue
		}
		n := f.LogName
		if n == "" {
			n = f.Name
		}
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(strings.ReplaceAll(name, "_", "-"), n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
