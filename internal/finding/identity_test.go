package finding

import (
	"testing"
)

// netFinding is a network finding of type typ on instance against remote.
func netFinding(t *testing.T, typ Type, instance, remote string, remotePort int, role ResourceRole) *Finding {
	t.Helper()
	ti, ok := Lookup(typ)
	if !ok {
		t.Fatalf("%s not in catalogue", typ)
	}
	f := ti.New("111122223333", "eu-west-1", 1767261600000)
	f.Resource.InstanceDetails = &InstanceDetails{InstanceID: instance}
	f.Service.ResourceRole = role
	f.Service.Action.NetworkConnectionAction = &NetworkConnectionAction{
		Protocol:          "TCP",
		LocalPortDetails:  &PortDetails{Port: 22, PortName: "SSH"},
		RemotePortDetails: &PortDetails{Port: remotePort},
		RemoteIPDetails:   &RemoteIPDetails{IPAddressV4: remote},
	}
	if err := f.Complete(""); err != nil {
		t.Fatal(err)
	}
	return f
}

func dnsFinding(t *testing.T, typ Type, instance, domain, suffix string) *Finding {
	t.Helper()
	ti, _ := Lookup(typ)
	f := ti.New("111122223333", "eu-west-1", 1767261600000)
	f.Resource.InstanceDetails = &InstanceDetails{InstanceID: instance}
	f.Service.Action.DNSRequestAction = &DNSRequestAction{Domain: domain, DomainWithSuffix: suffix, Protocol: "UDP"}
	if err := f.Complete(""); err != nil {
		t.Fatal(err)
	}
	return f
}

func apiFinding(t *testing.T, typ Type, key, service, api, ip string) *Finding {
	t.Helper()
	ti, _ := Lookup(typ)
	f := ti.New("111122223333", "eu-west-1", 1767261600000)
	f.Resource.AccessKeyDetails = &AccessKeyDetails{AccessKeyID: key, UserName: "alice", UserType: "IAMUser"}
	f.Service.Action.AWSAPICallAction = &AWSAPICallAction{API: api, ServiceName: service, RemoteIPDetails: &RemoteIPDetails{IPAddressV4: ip}}
	if err := f.Complete(""); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFingerprintStable pins one ID: a change here changes every finding ID users
// have (suppression rules, tickets, Slack threads), so it must be deliberate and
// come with a new fingerprintVersion.
func TestFingerprintStable(t *testing.T) {
	f := netFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "i-0123456789abcdef0", "198.51.100.7", 40112, RoleTarget)
	fp := FingerprintOf(f)
	want := Fingerprint{Type: "UnauthorizedAccess:EC2/SSHBruteForce", AccountID: "111122223333", Region: "eu-west-1",
		ResourceID: "i-0123456789abcdef0", Role: RoleTarget, Key: KeyRemoteIP, ActionValue: "198.51.100.7"}
	if fp != want {
		t.Fatalf("fingerprint %v, want %v", fp, want)
	}
	const wantID = "dba788ac8cc838a5d17324c415e986e3"
	if f.ID != wantID {
		t.Errorf("ID %s, want %s (if the fingerprint changed on purpose, bump fingerprintVersion and update)", f.ID, wantID)
	}
	if got := fp.String(); got != `type="UnauthorizedAccess:EC2/SSHBruteForce" account="111122223333" region="eu-west-1" resource="i-0123456789abcdef0" role="TARGET" remoteIp="198.51.100.7"` {
		t.Errorf("String() = %s", got)
	}
	if got := DetectorID("111122223333"); got != "a8bdf9aa3f2307900fa89487c84a7d59" || got == DetectorID("444455556666") {
		t.Errorf("DetectorID(111122223333) = %s: not the pinned value, or not distinct", got)
	}
}

func TestFingerprintDistinctness(t *testing.T) {
	const ssh = "UnauthorizedAccess:EC2/SSHBruteForce"
	base := netFinding(t, ssh, "i-1", "198.51.100.7", 40112, RoleTarget)
	for _, c := range []struct {
		name string
		f    *Finding
		same bool
	}{
		{"repeat (other source port)", netFinding(t, ssh, "i-1", "198.51.100.7", 50000, RoleTarget), true},
		{"IPv4-mapped form of the same address", netFinding(t, ssh, "i-1", "::ffff:198.51.100.7", 1, RoleTarget), true},
		{"other remote IP", netFinding(t, ssh, "i-1", "198.51.100.8", 40112, RoleTarget), false},
		{"other instance", netFinding(t, ssh, "i-2", "198.51.100.7", 40112, RoleTarget), false},
		{"other role", netFinding(t, ssh, "i-1", "198.51.100.7", 40112, RoleActor), false},
		{"other type", netFinding(t, "UnauthorizedAccess:EC2/RDPBruteForce", "i-1", "198.51.100.7", 40112, RoleTarget), false},
	} {
		if got := c.f.ID == base.ID; got != c.same {
			t.Errorf("%s: same finding = %v, want %v", c.name, got, c.same)
		}
	}
	other := *base
	other.Region = "us-east-1"
	other.SetIdentity("")
	if other.ID == base.ID {
		t.Error("other region gave the same ID")
	}
	other = *base
	other.AccountID = "444455556666"
	other.SetIdentity("")
	if other.ID == base.ID {
		t.Error("other account gave the same ID")
	}

	// PortSweep keys on the swept port: many remote hosts, one finding.
	const sweep = "Impact:EC2/PortSweep"
	a := netFinding(t, sweep, "i-1", "203.0.113.1", 445, RoleActor)
	if b := netFinding(t, sweep, "i-1", "203.0.113.2", 445, RoleActor); a.ID != b.ID {
		t.Error("PortSweep: other remote host made a new finding")
	}
	if b := netFinding(t, sweep, "i-1", "203.0.113.1", 3389, RoleActor); a.ID == b.ID {
		t.Error("PortSweep: other port aggregated")
	}

	// DNS: the domain, case-insensitive and without the root dot.
	const cc = "Backdoor:EC2/C&CActivity.B!DNS"
	d := dnsFinding(t, cc, "i-1", "c2.guarddutyc2activityb.com", "guarddutyc2activityb.com")
	if e := dnsFinding(t, cc, "i-1", "C2.GuardDutyC2ActivityB.com.", ""); e.ID != d.ID {
		t.Error("DNS: case or trailing dot made a new finding")
	}
	if e := dnsFinding(t, cc, "i-1", "other.guarddutyc2activityb.com", "guarddutyc2activityb.com"); e.ID == d.ID {
		t.Error("DNS: other domain aggregated")
	}
	// Exfiltration keys on the registrable domain: every query name is new.
	const exfil = "Trojan:EC2/DNSDataExfiltration"
	x := dnsFinding(t, exfil, "i-1", "aGVsbG8.guarddutyc2activityb.com", "guarddutyc2activityb.com")
	if y := dnsFinding(t, exfil, "i-1", "d29ybGQ.guarddutyc2activityb.com", "guarddutyc2activityb.com"); x.ID != y.ID {
		t.Error("DNSDataExfiltration: other label made a new finding")
	}

	// API calls: service and API name.
	const trail = "Stealth:IAMUser/CloudTrailLoggingDisabled"
	p := apiFinding(t, trail, "AKIAEXAMPLE", "cloudtrail.amazonaws.com", "StopLogging", "198.51.100.1")
	if q := apiFinding(t, trail, "AKIAEXAMPLE", "cloudtrail.amazonaws.com", "StopLogging", "198.51.100.2"); p.ID != q.ID {
		t.Error("API: other caller IP made a new CloudTrailLoggingDisabled finding")
	}
	if q := apiFinding(t, trail, "AKIAEXAMPLE", "cloudtrail.amazonaws.com", "DeleteTrail", "198.51.100.1"); p.ID == q.ID {
		t.Error("API: other API aggregated")
	}
	if q := apiFinding(t, trail, "AKIAOTHER", "cloudtrail.amazonaws.com", "StopLogging", "198.51.100.1"); p.ID == q.ID {
		t.Error("API: other access key aggregated")
	}
	// Bad-caller types key on the caller's address.
	const tor = "Recon:IAMUser/TorIPCaller"
	r := apiFinding(t, tor, "AKIAEXAMPLE", "s3.amazonaws.com", "ListBuckets", "192.0.2.9")
	if s := apiFinding(t, tor, "AKIAEXAMPLE", "iam.amazonaws.com", "GetUser", "192.0.2.9"); r.ID != s.ID {
		t.Error("TorIPCaller: other API made a new finding")
	}
}

func TestResourceIDFallbacks(t *testing.T) {
	for _, c := range []struct {
		r    Resource
		want string
	}{
		{Resource{ResourceType: ResourceInstance, InstanceDetails: &InstanceDetails{InstanceID: "i-1",
			NetworkInterfaces: []NetworkInterface{{NetworkInterfaceID: "eni-1"}}}}, "i-1"},
		{Resource{ResourceType: ResourceInstance, InstanceDetails: &InstanceDetails{
			NetworkInterfaces: []NetworkInterface{{NetworkInterfaceID: "eni-1", PrivateIPAddress: "10.0.0.1"}}}}, "eni-1"},
		{Resource{ResourceType: ResourceInstance, InstanceDetails: &InstanceDetails{
			NetworkInterfaces: []NetworkInterface{{PrivateIPAddress: "10.0.0.1"}}}}, "10.0.0.1"},
		{Resource{ResourceType: ResourceInstance}, ""},
		{Resource{ResourceType: ResourceAccessKey, AccessKeyDetails: &AccessKeyDetails{PrincipalID: "AIDA1", UserName: "bob"}}, "AIDA1"},
		{Resource{ResourceType: ResourceAccessKey, AccessKeyDetails: &AccessKeyDetails{UserName: "bob"}}, "bob"},
		{Resource{ResourceType: ResourceS3Bucket, S3BucketDetails: []S3BucketDetail{{Name: "logs"}},
			AccessKeyDetails: &AccessKeyDetails{AccessKeyID: "AKIA1"}}, "logs"},
		{Resource{ResourceType: ResourceS3Bucket, AccessKeyDetails: &AccessKeyDetails{AccessKeyID: "AKIA1"}}, "AKIA1"},
	} {
		if got := ResourceID(&c.r); got != c.want {
			t.Errorf("ResourceID(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
}

func TestARN(t *testing.T) {
	if got := ARN("", "eu-west-1", "111122223333", "d", "f"); got != "arn:aws:guardduty:eu-west-1:111122223333:detector/d/finding/f" {
		t.Error(got)
	}
	if got := ARN("aws-cn", "cn-north-1", "1", "d", "f"); got != "arn:aws-cn:guardduty:cn-north-1:1:detector/d/finding/f" {
		t.Error(got)
	}
}

// TestActionKeysAsDocumented pins every type's action key to the list in the
// package documentation: a change here is a change of finding identity and must be
// documented there too.
func TestActionKeysAsDocumented(t *testing.T) {
	override := map[Type]ActionKey{
		"Impact:EC2/PortSweep":                                                 KeyRemotePort,
		"Backdoor:EC2/Spambot":                                                 KeyRemotePort,
		"Behavior:EC2/NetworkPortUnusual":                                      KeyRemotePort,
		"Trojan:EC2/DNSDataExfiltration":                                       KeyDomainWithSuffix,
		"Trojan:EC2/DGADomainRequest.B":                                        KeyNone,
		"UnauthorizedAccess:EC2/TorRelay":                                      KeyNone,
		"Recon:IAMUser/MaliciousIPCaller":                                      KeyRemoteIP,
		"Recon:IAMUser/MaliciousIPCaller.Custom":                               KeyRemoteIP,
		"Recon:IAMUser/TorIPCaller":                                            KeyRemoteIP,
		"UnauthorizedAccess:IAMUser/MaliciousIPCaller":                         KeyRemoteIP,
		"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom":                  KeyRemoteIP,
		"UnauthorizedAccess:IAMUser/TorIPCaller":                               KeyRemoteIP,
		"PenTest:IAMUser/KaliLinux":                                            KeyRemoteIP,
		"PenTest:IAMUser/ParrotLinux":                                          KeyRemoteIP,
		"PenTest:IAMUser/PentooLinux":                                          KeyRemoteIP,
		"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS":  KeyRemoteIP,
		"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": KeyRemoteIP,
	}
	for _, ti := range Types() {
		want, ok := override[ti.Type]
		if !ok {
			want = resolveKey(KeyDefault, ti.ActionType)
		}
		if got := ti.ActionKey(); got != want {
			t.Errorf("%s: action key %v, documented %v", ti.Type, got, want)
		}
	}
}
