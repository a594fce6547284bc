package intel

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/vigil-dev/vigil/internal/finding"
)

// builtinFile is vigil's built-in domain lists: the GuardDuty tester's domains
// and public cryptocurrency mining pools, each line with its source. The file
// documents itself; read it at internal/intel/builtin/domains.txt.
//
//go:embed builtin/domains.txt
var builtinFile string

// builtinSource names the embedded file in entries and errors.
const builtinSource = "builtin/domains.txt"

// The built-in list names, reported as threatListName.
const (
	BuiltinTesterList = "vigil-guardduty-tester"
	BuiltinMiningList = "vigil-mining-pools"
)

var builtinLists = sync.OnceValue(func() []*List {
	ls, err := parseBuiltin(builtinFile)
	if err != nil {
		panic("intel: " + err.Error()) // the embedded file is checked by tests
	}
	return ls
})

// parseBuiltin reads the built-in file: "list | domain | match | finding type |
// threat name | source [| note]" lines. Every finding type must be one of the
// catalogue's.
func parseBuiltin(text string) ([]*List, error) {
	var lists []*List
	byName := map[string]*List{}
	var err error
	lines([]byte(text), func(n int, raw []byte) bool {
		l := strings.TrimSpace(string(raw))
		if l == "" || l[0] == '#' {
			return true
		}
		f := strings.Split(l, " | ")
		if len(f) < 6 || len(f) > 7 {
			err = fmt.Errorf("%s:%d: %d fields: expected list | domain | match | finding type | threat name | source [| note]", builtinSource, n, len(f))
			return false
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		d, m, msg := parseDomain(f[1])
		if msg != "" || m != DomainAndSubdomains || d != f[1] {
			err = fmt.Errorf("%s:%d: domain %q: want a normalized domain (%s)", builtinSource, n, f[1], msg)
			return false
		}
		switch f[2] {
		case "domain":
		case "exact":
			m = ExactOnly
		default:
			err = fmt.Errorf("%s:%d: match %q: want domain or exact", builtinSource, n, f[2])
			return false
		}
		t := finding.Type(f[3])
		if _, ok := finding.Lookup(t); !ok {
			err = fmt.Errorf("%s:%d: %q is not a finding type of the catalogue", builtinSource, n, f[3])
			return false
		}
		list := byName[f[0]]
		if list == nil {
			list = &List{Name: f[0], Kind: Threat, Format: FormatTXT, Source: builtinSource}
			byName[f[0]] = list
			lists = append(lists, list)
		}
		e := Entry{Domain: d, Match: m, Kind: Threat, List: f[0], Threat: f[4], Finding: t, Source: f[5], Line: 0}
		if len(f) == 7 {
			e.Note = f[6]
		}
		list.Entries = append(list.Entries, e)
		return true
	})
	return lists, err
}

// BuiltinLists returns vigil's built-in threat lists, embedded in the binary:
//
//   - vigil-guardduty-tester: the domains AWS's GuardDuty tester looks up, each
//     with the finding type GuardDuty raises for it (c2.guarddutyc2activityb.com
//     → Backdoor:EC2/C&CActivity.B!DNS, guarddutydgaactivity.com →
//     Trojan:EC2/DGADomainRequest.C!DNS, …), so that AWS's own tester triggers
//     vigil as it triggers GuardDuty;
//   - vigil-mining-pools: about forty public cryptocurrency mining pools by
//     registered domain (minergate.com, nanopool.org, supportxmr.com, …) →
//     CryptoCurrency:EC2/BitcoinTool.B!DNS.
//
// Every entry carries its Finding type and its Source. The lists are shared and
// must not be modified.
func BuiltinLists() []*List { return builtinLists() }

// BuiltinDomains returns a copy of every built-in entry, with the finding type
// each implies.
func BuiltinDomains() []Entry {
	var out []Entry
	for _, l := range builtinLists() {
		out = append(out, l.Entries...)
	}
	return out
}
