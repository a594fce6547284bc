package intel_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vigil-dev/vigil/internal/intel"
)

func Example() {
	threat, warns, _ := intel.Parse(strings.NewReader("# ours\n198.51.100.0/24\nbad.example.com\n10.0.0.300\n"),
		intel.Options{Name: "TeamThreatList", Kind: intel.Threat, Source: "lists/threat.txt"})
	for _, w := range warns {
		fmt.Println("warning:", w)
	}
	trusted, _, _ := intel.Parse(strings.NewReader("198.51.100.7\n"),
		intel.Options{Name: "Scanners", Kind: intel.Trusted, Source: "lists/trusted.txt"})
	set := intel.NewSet(append(intel.BuiltinLists(), threat, trusted)...)

	if e, ok := set.Match(netip.MustParseAddr("198.51.100.9")); ok {
		fmt.Println("198.51.100.9:", e.List, e.Value(), e.Where())
	}
	if _, ok := set.Match(netip.MustParseAddr("198.51.100.7")); !ok {
		fmt.Println("198.51.100.7: trusted, no finding")
	}
	if e, ok := set.MatchDomain("WWW.Bad.Example.com."); ok {
		fmt.Println("www.bad.example.com:", e.List, e.Value())
	}
	if e, ok := set.MatchDomain("c2.guarddutyc2activityb.com"); ok {
		fmt.Println("c2.guarddutyc2activityb.com:", e.Finding)
	}
	if e, ok := set.MatchDomain("xmr.pool.minergate.com"); ok {
		fmt.Println("xmr.pool.minergate.com:", e.Finding, "via", e.Domain)
	}
	// Output:
	// warning: lists/threat.txt:4: "10.0.0.300" is not an IP address, CIDR or domain
	// 198.51.100.9: TeamThreatList 198.51.100.0/24 lists/threat.txt:2
	// 198.51.100.7: trusted, no finding
	// www.bad.example.com: TeamThreatList bad.example.com
	// c2.guarddutyc2activityb.com: Backdoor:EC2/C&CActivity.B!DNS
	// xmr.pool.minergate.com: CryptoCurrency:EC2/BitcoinTool.B!DNS via minergate.com
}
