package intel

import (
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
)

// testerDomains are the domains AWS's GuardDuty tester looks up and the finding
// type GuardDuty raises for each (shared/reference/guardduty.md §3.2, §3.5).
var testerDomains = map[string]finding.Type{
	"guarddutyc2activityb.com":                "Backdoor:EC2/C&CActivity.B!DNS",
	"c2.guarddutyc2activityb.com":             "Backdoor:EC2/C&CActivity.B!DNS",
	"crypto.guarddutyc2activityb.com":         "CryptoCurrency:EC2/BitcoinTool.B!DNS",
	"abused-rep.guarddutyc2activityb.com":     "Impact:EC2/AbusedDomainRequest.Reputation",
	"crypto-rep.guarddutyc2activityb.com":     "Impact:EC2/BitcoinDomainRequest.Reputation",
	"malicious-rep.guarddutyc2activityb.com":  "Impact:EC2/MaliciousDomainRequest.Reputation",
	"suspicious-rep.guarddutyc2activityb.com": "Impact:EC2/SuspiciousDomainRequest.Reputation",
	"guarddutydroppointactivity.com":          "Trojan:EC2/DropPoint!DNS",
	"guarddutyblackholeactivity.com":          "Trojan:EC2/BlackholeTraffic!DNS",
	"guarddutyphishingactivity.com":           "Trojan:EC2/PhishingDomainRequest!DNS",
	"guarddutydrivebyactivity.com":            "Trojan:EC2/DriveBySourceTraffic!DNS",
	"guarddutydgaactivity.com":                "Trojan:EC2/DGADomainRequest.C!DNS",
	// The 2018 tester's mining-pool lookups.
	"pool.minergate.com":     "CryptoCurrency:EC2/BitcoinTool.B!DNS",
	"xmr.pool.minergate.com": "CryptoCurrency:EC2/BitcoinTool.B!DNS",
}

func TestBuiltinTesterDomains(t *testing.T) {
	s := NewSet(BuiltinLists()...)
	for name, typ := range testerDomains {
		// As the tester's dig/curl send them, and as a resolver log writes them.
		for _, q := range []string{name, strings.ToUpper(name), name + "."} {
			e, ok := s.MatchDomain(q)
			if !ok || e.Finding != typ {
				t.Errorf("%s: %v %q, want %s", q, ok, e.Finding, typ)
				continue
			}
			if e.Source == "" || e.Threat == "" || e.List == "" {
				t.Errorf("%s: entry without source, threat or list: %+v", q, e)
			}
		}
	}
	// GuardDutyC2ActivityB.com as the AWS documentation writes it.
	if e, ok := s.MatchDomain("GuardDutyC2ActivityB.com"); !ok || e.Finding != "Backdoor:EC2/C&CActivity.B!DNS" {
		t.Errorf("GuardDutyC2ActivityB.com: %v %v", ok, e.Finding)
	}
	// The tester's exfiltration names under the C&C domain are the DNS
	// exfiltration detector's to judge, not a C&C lookup each.
	exfil := strings.Repeat("QUFBQUFB", 8)[:62] + ".MTIzNDU2.Nzg5.guarddutyc2activityb.com"
	if e, ok := s.MatchDomain(exfil); ok {
		t.Errorf("exfiltration name matched %s (%s)", e.Value(), e.Finding)
	}
	e, _ := s.MatchDomain("guarddutyc2activityb.com")
	if e.Match != ExactOnly || !strings.Contains(e.Note, "exfiltration detector") {
		t.Errorf("the bare tester domain must be exact-only and say why: %+v", e)
	}
	// Other subdomains of the per-type tester names still match theirs.
	if e, ok := s.MatchDomain("x.c2.guarddutyc2activityb.com"); !ok || e.Finding != "Backdoor:EC2/C&CActivity.B!DNS" {
		t.Errorf("under c2.: %v %v", ok, e.Finding)
	}
}

func TestBuiltinMiningPools(t *testing.T) {
	var pools []Entry
	for _, e := range BuiltinDomains() {
		if e.List == BuiltinMiningList {
			pools = append(pools, e)
		}
	}
	if len(pools) < 40 {
		t.Errorf("%d mining pools, want about forty", len(pools))
	}
	s := NewSet(BuiltinLists()...)
	seen := map[string]bool{}
	for _, e := range pools {
		if seen[e.Domain] {
			t.Errorf("%s listed twice", e.Domain)
		}
		seen[e.Domain] = true
		if RegisteredDomain(e.Domain) != e.Domain {
			t.Errorf("%s is not a registered domain (that is %q)", e.Domain, RegisteredDomain(e.Domain))
		}
		if e.Finding != "CryptoCurrency:EC2/BitcoinTool.B!DNS" || e.Match != DomainAndSubdomains {
			t.Errorf("%s: %s %v", e.Domain, e.Finding, e.Match)
		}
		if !strings.HasPrefix(e.Source, "https://") {
			t.Errorf("%s: source %q, want the pool's website", e.Domain, e.Source)
		}
		for _, q := range []string{e.Domain, "stratum." + e.Domain, "xmr-eu1." + e.Domain + "."} {
			if m, ok := s.MatchDomain(q); !ok || m.Domain != e.Domain {
				t.Errorf("MatchDomain(%s) = %v %q", q, ok, m.Domain)
			}
		}
	}
	for _, d := range []string{"minergate.com", "nanopool.org", "2miners.com", "f2pool.com", "ethermine.org", "supportxmr.com",
		"moneroocean.stream", "hashvault.pro", "nicehash.com", "viabtc.com", "antpool.com"} {
		if !seen[d] {
			t.Errorf("%s missing", d)
		}
	}
	for _, q := range []string{"minergate.com.evil.example", "notminergate.com", "example.com"} {
		if e, ok := s.MatchDomain(q); ok {
			t.Errorf("%s matched %s", q, e.Domain)
		}
	}
}

// TestBuiltinFile: every finding type exists in the catalogue, every line has
// its source, and a malformed file is refused with file:line.
func TestBuiltinFile(t *testing.T) {
	for _, e := range BuiltinDomains() {
		ti, ok := finding.Lookup(e.Finding)
		if !ok || ti.Source != finding.SourceDNSLogs {
			t.Errorf("%s: finding type %q is not a DNS finding of the catalogue", e.Domain, e.Finding)
		}
		if e.Kind != Threat || e.Source == "" {
			t.Errorf("%s: kind %v source %q", e.Domain, e.Kind, e.Source)
		}
	}
	for in, want := range map[string]string{
		"a | b":                                         "builtin/domains.txt:1: 2 fields",
		"l | Example.com | domain | X | t | s":          "builtin/domains.txt:1: domain \"Example.com\"",
		"l | example.com | fuzzy | X | t | s":           "builtin/domains.txt:1: match \"fuzzy\"",
		"l | example.com | domain | Nope:EC2/X | t | s": "builtin/domains.txt:1: \"Nope:EC2/X\" is not a finding type",
	} {
		if _, err := parseBuiltin(in); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %s", in, err, want)
		}
	}
}
