package respond

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
)

// probe is a PortProbe finding from 45.155.205.7 (Netherlands) on port 22.
func probe() *finding.Finding {
	f := &finding.Finding{Type: "Recon:EC2/PortProbeUnprotectedPort", Severity: 8, AccountID: "111122223333", Region: "eu-west-1"}
	f.Resource.ResourceType = finding.ResourceInstance
	f.Service.Count = 12
	f.Service.ResourceRole = finding.RoleTarget
	f.Service.Action = finding.Action{ActionType: finding.ActionPortProbe, PortProbeAction: &finding.PortProbeAction{
		PortProbeDetails: []finding.PortProbeDetail{{
			LocalPortDetails: &finding.PortDetails{Port: 22, PortName: "SSH"},
			RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: "45.155.205.7", Country: &finding.Country{CountryCode: "NL"},
				Organization: &finding.Organization{ASN: "49870", ASNOrg: "Alsycon B.V."}},
		}}}}
	f.Service.AdditionalInfo = finding.AdditionalInfo{"threatListName": "ProofPoint"}
	return f
}

func TestWhen(t *testing.T) {
	f := probe()
	c := &candidate{f: f, remote: netip.MustParseAddr("45.155.205.7"), details: f.Service.Action.PortProbeAction.PortProbeDetails[0].RemoteIPDetails, localPort: 22}
	private := &candidate{f: f, remote: netip.MustParseAddr("10.1.2.3"), localPort: 22}
	for _, tc := range []struct {
		src       string
		want      bool
		onPrivate bool
	}{
		{"", true, true},
		{"severity >= 8 and remote is public", true, false},
		{"severity>=8 and remote is public", true, false},
		{"SEVERITY >= high AND remote IS PUBLIC", true, false},
		{"severity >= CRITICAL", false, false},
		{"severity > 8", false, false},
		{"severity == 8.0", true, true},
		{"remote is private", false, true},
		{"remote is not public", false, true},
		{"not remote is public", false, true},
		{"type matches \"Recon:EC2/*\"", true, true},
		{"type matches recon:ec2/portprobe*", true, true},
		{"type == 'Recon:EC2/PortProbeUnprotectedPort'", true, true},
		{"type != Recon:EC2/Portscan", true, true},
		{"type in [UnauthorizedAccess:*, *Probe*]", true, true},
		{"local.port in [22, 3389] and direction == INBOUND", true, true},
		{"local.port == 80 or count > 10", true, true},
		{"(local.port == 80 or count > 100) and remote is public", false, false},
		{"remote in [45.155.205.0/24, 2a01:4f8::/32]", true, false},
		{"remote == 45.155.205.7", true, false},
		{"remote != 45.155.205.7", false, true},
		{"remote.country == nl and remote.asn == 49870", true, false},
		{"remote.country != NL", false, true},
		{"remote.org matches \"*alsycon*\"", true, false},
		{"threat_list == ProofPoint", true, true},
		{"not blocked", true, true},
		{"blocked == false", true, true},
		{"blocked", false, false},
		{"action == PORT_PROBE and role == TARGET and account == 111122223333 and region == eu-west-1", true, true},
		{"resource.type == Instance", true, true},
		{"true and not false", true, true},
		{"not not true", true, true},
		{"protocol == ''", true, true},
		{"remote.port == 0", true, true},
	} {
		w, err := parseWhen(tc.src)
		if err != nil {
			t.Errorf("parseWhen(%q): %v", tc.src, err)
			continue
		}
		if got := w(c); got != tc.want {
			t.Errorf("%q on 45.155.205.7 = %v, want %v", tc.src, got, tc.want)
		}
		if got := w(private); got != tc.onPrivate {
			t.Errorf("%q on 10.1.2.3 = %v, want %v", tc.src, got, tc.onPrivate)
		}
	}
}

func TestWhenErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"severity >= hihg", "column 13: expected a number or a severity band (LOW, MEDIUM, HIGH, CRITICAL) for severity, found \"hihg\""},
		{"sevrity >= 8", "column 1: unknown field \"sevrity\""},
		{"severity = 8", "column 10: \"=\" is not an operator (use == or !=, and \"not\")"},
		{"severity >= 8 and", "column 18: expected a condition (such as \"severity >= 8\"), found the end"},
		{"severity >= 8 remote is public", "column 15: expected \"and\", \"or\" or the end, found \"remote\""},
		{"(severity >= 8", "column 15: expected \")\" to close the \"(\" at column 1, found the end"},
		{"remote is publik", "column 11: expected public or private after \"remote is\", found \"publik\""},
		{"remote in [45.1.2.3/24]", "column 12: in the list of remote: \"45.1.2.3/24\": host bits set (did you mean 45.1.2.0/24?)"},
		{"remote in [45.1.2.3 45.1.2.4]", "column 21: expected \",\" or \"]\" in the list opened at column 11, found \"45.1.2.4\""},
		{"remote == example.org", "column 11: expected an address or CIDR after \"remote ==\", found \"example.org\""},
		{"type < 3", "column 6: type is text: use ==, !=, in or matches, not <"},
		{"count matches 3*", "column 7: count is a number: \"matches\" takes a text field"},
		{"count >= NaN", "column 10: expected a number for count, found \"NaN\""},
		{"type == \"Recon", "column 9: string not closed"},
		{"blocked == maybe", "column 12: expected true or false after \"blocked ==\", found \"maybe\""},
		{"severity >= 8 and \xff", "column 19: invalid UTF-8"},
		{"type == é and ", "column 15: expected a condition"},
		{strings.Repeat("(", 100) + "true" + strings.Repeat(")", 100), "nested more than 64 deep"},
		{strings.Repeat("x", maxWhenLen+1), "at most 4096"},
	} {
		_, err := parseWhen(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseWhen(%.40q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestGlobFold(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"Recon:EC2/*", "Recon:EC2/Portscan", true},
		{"*Tor*", "UnauthorizedAccess:EC2/TorClient", true},
		{"*:EC2/*", "Recon:IAMUser/TorIPCaller", false},
		{"Backdoor:EC2/C&CActivity.?", "Backdoor:EC2/C&CActivity.B", true},
		{"Backdoor:EC2/C&CActivity.?", "Backdoor:EC2/C&CActivity.B!DNS", false},
		{"*", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{strings.Repeat("*a", 30), strings.Repeat("a", 100) + "b", false},
	} {
		if got := globFold(tc.pat, tc.s); got != tc.want {
			t.Errorf("globFold(%q, %q) = %v", tc.pat, tc.s, got)
		}
	}
}

// FuzzParseWhen checks that no input makes the parser panic or hang, that an
// accepted expression evaluates without panicking on sparse and full findings,
// and that a rejected one says where.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{
		"severity >= 8 and remote is public",
		"severity >= HIGH and type matches \"Recon:EC2/*\" and not blocked",
		"direction == INBOUND and local.port in [22, 3389] and remote.country != 'NL'",
		"remote in [45.155.205.0/24, 2a01:4f8::/32] or count > 100",
		"(((true)))", "not not false", "remote == ::ffff:1.2.3.4", "type in [\"a\\\"b\", c]",
		"severity >= ", "remote is", "[", "\"", "= =", "remote in [", "((((((",
	} {
		f.Add(s)
	}
	full := probe()
	sparse := &finding.Finding{}
	f.Fuzz(func(t *testing.T, src string) {
		w, err := parseWhen(src)
		if err != nil {
			var we *WhenError
			if e, ok := err.(*WhenError); !ok || e.Col < 1 {
				t.Fatalf("error %v (%T) has no column", err, err)
			} else {
				we = e
			}
			_ = we.Error()
			return
		}
		w(&candidate{f: full, remote: netip.MustParseAddr("45.155.205.7"), details: full.Service.Action.PortProbeAction.PortProbeDetails[0].RemoteIPDetails})
		w(&candidate{f: sparse, remote: netip.MustParseAddr("2a01:4f8::1")})
	})
}
