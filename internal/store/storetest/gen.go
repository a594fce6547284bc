package storetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Base is the event time the generated findings start at: 2026-01-01T10:00Z.
const Base finding.Time = 1767261600000

// NetFinding returns a completed flow-log finding of type typ against (or by) an
// instance, with a remote address, at event time at: what a detector emits.
func NetFinding(tb testing.TB, typ finding.Type, account, instance, remoteIP string, at finding.Time) finding.Finding {
	tb.Helper()
	ti, ok := finding.Lookup(typ)
	if !ok {
		tb.Fatalf("%s is not in the finding catalogue", typ)
	}
	f := ti.New(account, "eu-west-1", at)
	f.Resource.InstanceDetails = &finding.InstanceDetails{
		InstanceID:   instance,
		InstanceType: "t3.micro",
		NetworkInterfaces: []finding.NetworkInterface{{
			NetworkInterfaceID: "eni-" + instance, PrivateIPAddress: "10.0.1.5", SubnetID: "subnet-1", VpcID: "vpc-1",
		}},
		Tags: []finding.Tag{{Key: "Name", Value: "web " + instance}},
	}
	f.Service.Action.NetworkConnectionAction = &finding.NetworkConnectionAction{
		ConnectionDirection: finding.DirectionInbound,
		Protocol:            "TCP",
		LocalPortDetails:    &finding.PortDetails{Port: 22, PortName: "SSH"},
		RemotePortDetails:   &finding.PortDetails{Port: 40000 + int(at%1000), PortName: "Unknown"},
		LocalIPDetails:      &finding.LocalIPDetails{IPAddressV4: "10.0.1.5"},
		RemoteIPDetails: &finding.RemoteIPDetails{
			IPAddressV4:  remoteIP,
			Country:      &finding.Country{CountryCode: "NL", CountryName: "Netherlands"},
			Organization: &finding.Organization{ASN: "64500", ASNOrg: "Example Networks"},
		},
	}
	f.Service.AdditionalInfo = finding.AdditionalInfo{"inBytes": int64(1200), "packetsIn": int64(10), finding.KeyVigilEvents: int64(3)}
	f.AddEvidence(finding.NewEvidence(at, "flow", "flow.log:1",
		[]byte("2 111122223333 eni-1 "+remoteIP+" 10.0.1.5 40001 22 6 10 1200 1 2 ACCEPT OK")))
	if err := f.Complete(""); err != nil {
		tb.Fatal(err)
	}
	return *f
}

// APIFinding returns a completed CloudTrail finding about an access key called
// from ip.
func APIFinding(tb testing.TB, typ finding.Type, account, key, ip string, at finding.Time) finding.Finding {
	tb.Helper()
	ti, ok := finding.Lookup(typ)
	if !ok {
		tb.Fatalf("%s is not in the finding catalogue", typ)
	}
	f := ti.New(account, "us-east-1", at)
	f.Resource.AccessKeyDetails = &finding.AccessKeyDetails{AccessKeyID: key, PrincipalID: "AIDA" + key, UserName: "alice", UserType: "IAMUser"}
	f.Service.Action.AWSAPICallAction = &finding.AWSAPICallAction{
		API: "ListBuckets", ServiceName: "s3.amazonaws.com", CallerType: "Remote IP", UserAgent: "aws-cli/2",
		RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: ip},
	}
	if err := f.Complete(""); err != nil {
		tb.Fatal(err)
	}
	return *f
}

// DNSFinding returns a completed DNS finding: an instance querying domain.
func DNSFinding(tb testing.TB, typ finding.Type, account, instance, domain string, at finding.Time) finding.Finding {
	tb.Helper()
	ti, ok := finding.Lookup(typ)
	if !ok {
		tb.Fatalf("%s is not in the finding catalogue", typ)
	}
	f := ti.New(account, "eu-central-1", at)
	f.Resource.InstanceDetails = &finding.InstanceDetails{InstanceID: instance}
	f.Service.Action.DNSRequestAction = &finding.DNSRequestAction{Domain: domain, DomainWithSuffix: domain, Protocol: "UDP"}
	if err := f.Complete(""); err != nil {
		tb.Fatal(err)
	}
	return *f
}

// Corpus returns n varied findings with distinct IDs (the index, as 32 hex
// digits): several types, accounts, regions, instances, remote addresses,
// severities, times, counts, archived and feedback states, so that every
// attribute of store.Attributes has several values to filter and sort on. The
// same seed gives the same corpus.
func Corpus(tb testing.TB, n int, seed uint64) []finding.Finding {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	netTypes := []finding.Type{"UnauthorizedAccess:EC2/SSHBruteForce", "Recon:EC2/Portscan", "Backdoor:EC2/C&CActivity.B", "CryptoCurrency:EC2/BitcoinTool.B"}
	apiTypes := []finding.Type{"UnauthorizedAccess:IAMUser/MaliciousIPCaller", "Recon:IAMUser/TorIPCaller"}
	dnsTypes := []finding.Type{"Trojan:EC2/DNSDataExfiltration", "Backdoor:EC2/C&CActivity.B!DNS"}
	accounts := []string{"111122223333", "444455556666", "777788889999"}
	out := make([]finding.Finding, 0, n)
	for i := range n {
		at := Base + finding.Time(r.IntN(30*24*3600))*1000
		acct := accounts[r.IntN(len(accounts))]
		inst := "i-" + strconv.Itoa(r.IntN(8))
		ip := "198.51.100." + strconv.Itoa(r.IntN(12))
		var f finding.Finding
		switch k := r.IntN(10); {
		case k < 6:
			f = NetFinding(tb, netTypes[r.IntN(len(netTypes))], acct, inst, ip, at)
			if r.IntN(3) == 0 {
				f.Service.ResourceRole = finding.RoleActor
			}
		case k < 8:
			f = APIFinding(tb, apiTypes[r.IntN(len(apiTypes))], acct, "AKIA"+strconv.Itoa(r.IntN(5)), ip, at)
		default:
			f = DNSFinding(tb, dnsTypes[r.IntN(len(dnsTypes))], acct, inst, "x"+strconv.Itoa(r.IntN(6))+".example.org", at)
		}
		f.ID = fmt.Sprintf("%032x", i)
		f.Severity = []finding.Severity{2, 5, 5.5, 8, 9}[r.IntN(5)]
		f.Service.Count = int64(1 + r.IntN(20))
		f.Service.EventFirstSeen = at - finding.Time(r.IntN(3600))*1000
		f.Service.EventLastSeen = at
		f.CreatedAt = at - finding.Time(r.IntN(7*24*3600))*1000
		f.UpdatedAt = at
		f.Service.Archived = r.IntN(4) == 0
		switch r.IntN(4) {
		case 0:
			f.Service.UserFeedback = "USEFUL"
		case 1:
			f.Service.UserFeedback = "NOT_USEFUL"
		}
		out = append(out, f)
	}
	// A few exact ties on updatedAt, so that pages must break ties by ID.
	for i := 1; i < len(out); i += 17 {
		out[i].UpdatedAt = out[i-1].UpdatedAt
	}
	return out
}

// Clone returns a deep copy of f (through its JSON).
func Clone(tb testing.TB, f *finding.Finding) finding.Finding {
	tb.Helper()
	var c finding.Finding
	if err := json.Unmarshal(JSON(tb, f), &c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// JSON returns f's JSON.
func JSON(tb testing.TB, f *finding.Finding) []byte {
	tb.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
