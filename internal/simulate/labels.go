package simulate

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Labels is the content of labels.json: what a detector should find in the
// corpus, and what it must not. Tests and benchmarks across vigil read it with
// ReadLabels.
type Labels struct {
	Seed       uint64        `json:"seed"`
	Start      string        `json:"start"` // RFC 3339, UTC: the window is [start, end)
	End        string        `json:"end"`
	Records    RecordCounts  `json:"records"`
	Expect     []Expected    `json:"expect"`
	ExpectNone []NotExpected `json:"expectNone"`
}

// RecordCounts is how many records of each stream the corpus holds.
type RecordCounts struct {
	Flow       int64 `json:"flow"`
	DNS        int64 `json:"dns"`
	CloudTrail int64 `json:"cloudtrail"`
}

// Expected is a finding the corpus must raise.
type Expected struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description"`
	// Type is the exact GuardDuty finding type, e.g. "Recon:EC2/Portscan".
	Type string `json:"type"`
	// Severity is the band GuardDuty gives by default: Low, Medium or High.
	Severity string `json:"severity,omitempty"`
	// ResourceType is Instance, AccessKey or S3Bucket, as in GuardDuty's
	// resource.resourceType; Resource is the instance id, access key id or bucket.
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
	// Role is ACTOR or TARGET for the network findings that have one.
	Role string `json:"role,omitempty"`
	// RemoteIP is the other side (the attacker, victim or caller); Domain the
	// queried domain for DNS findings.
	RemoteIP string `json:"remoteIp,omitempty"`
	Domain   string `json:"domain,omitempty"`
	// PublicIP is the address the remote side saw when it is not the resource's
	// own: the NAT gateway's Elastic IP, what an abuse report would name.
	PublicIP  string `json:"publicIp,omitempty"`
	AccountID string `json:"accountId"`
	Region    string `json:"region"`
	// FirstSeen and LastSeen (RFC 3339) bound the scenario's evidence in the logs.
	FirstSeen string `json:"firstSeen"`
	LastSeen  string `json:"lastSeen"`
}

// NotExpected lists finding types a benign look-alike must not raise for a
// resource.
type NotExpected struct {
	Scenario     string   `json:"scenario"`
	Description  string   `json:"description"`
	ResourceType string   `json:"resourceType"` // Instance, NetworkInterface, IAMUser
	Resource     string   `json:"resource"`
	PrivateIP    string   `json:"privateIp,omitempty"`
	AccountID    string   `json:"accountId"`
	Region       string   `json:"region"`
	Types        []string `json:"types"`
	FirstSeen    string   `json:"firstSeen"`
	LastSeen     string   `json:"lastSeen"`
}

// ReadLabels reads a labels.json file.
func ReadLabels(path string) (*Labels, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read labels: %w", err)
	}
	var l Labels
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("read labels %s: %w", path, err)
	}
	return &l, nil
}

// labels assembles the labels document from measured scenarios.
func (s *Simulator) labels() *Labels {
	l := &Labels{
		Seed:    s.cfg.Seed,
		Start:   isoTime(s.cfg.Start),
		End:     isoTime(s.cfg.Start.Add(s.cfg.Duration)),
		Records: RecordCounts{Flow: s.totals.Flow, DNS: s.totals.DNS, CloudTrail: s.totals.CloudTrail},
	}
	for _, sc := range s.scenarios {
		first, last := isoTime(time.Unix(sc.first, 0)), isoTime(time.Unix(sc.last, 0))
		for _, e := range sc.expect {
			e.Scenario, e.Description, e.FirstSeen, e.LastSeen = sc.name, sc.description, first, last
			l.Expect = append(l.Expect, e)
		}
		for _, e := range sc.expectNone {
			e.Scenario, e.Description, e.FirstSeen, e.LastSeen = sc.name, sc.description, first, last
			l.ExpectNone = append(l.ExpectNone, e)
		}
	}
	return l
}

// The GuardDuty finding types the corpus is labelled with.
const (
	typePortscan          = "Recon:EC2/Portscan"
	typePortProbe         = "Recon:EC2/PortProbeUnprotectedPort"
	typePortSweep         = "Impact:EC2/PortSweep"
	typeSSHBruteForce     = "UnauthorizedAccess:EC2/SSHBruteForce"
	typeRDPBruteForce     = "UnauthorizedAccess:EC2/RDPBruteForce"
	typeDoSUDP            = "Backdoor:EC2/DenialOfService.Udp"
	typeDoSDNS            = "Backdoor:EC2/DenialOfService.Dns"
	typeDoSTCP            = "Backdoor:EC2/DenialOfService.Tcp"
	typeDNSExfiltration   = "Trojan:EC2/DNSDataExfiltration"
	typeBitcoinDNS        = "CryptoCurrency:EC2/BitcoinTool.B!DNS"
	typeDGA               = "Trojan:EC2/DGADomainRequest.B"
	typeSpambot           = "Backdoor:EC2/Spambot"
	typeTrafficVolume     = "Behavior:EC2/TrafficVolumeUnusual"
	typeTrailDisabled     = "Stealth:IAMUser/CloudTrailLoggingDisabled"
	typePasswordPolicy    = "Stealth:IAMUser/PasswordPolicyChange"
	typeRootUsage         = "Policy:IAMUser/RootCredentialUsage"
	typeKali              = "PenTest:IAMUser/KaliLinux"
	typeAccountBPA        = "Policy:S3/AccountBlockPublicAccessDisabled"
	typeBucketBPA         = "Policy:S3/BucketBlockPublicAccessDisabled"
	typeCredentialOutside = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
	typeConsoleLoginB     = "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"
)

// Severity bands.
const (
	sevLow    = "Low"
	sevMedium = "Medium"
	sevHigh   = "High"
)

// onInstance returns an Expected for an instance resource.
func onInstance(typ, sev string, in *instance, role string) Expected {
	return Expected{Type: typ, Severity: sev, ResourceType: "Instance", Resource: in.id, Role: role,
		AccountID: in.vpc.account.id, Region: in.vpc.region}
}

// notOnInstance returns a NotExpected for an instance resource.
func notOnInstance(in *instance, types ...string) NotExpected {
	return NotExpected{ResourceType: "Instance", Resource: in.id, PrivateIP: in.privIP.String(),
		AccountID: in.vpc.account.id, Region: in.vpc.region, Types: types}
}
