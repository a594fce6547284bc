package finding

import (
	"slices"
	"strings"
)

// Type is a GuardDuty finding type name,
// ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact,
// such as "UnauthorizedAccess:EC2/SSHBruteForce".
type Type string

// DataSource is the log a finding type is detected from.
type DataSource uint8

// The data sources of vigil's finding types.
const (
	SourceFlowLogs   DataSource = iota + 1 // VPC Flow Logs
	SourceDNSLogs                          // Route 53 Resolver query logs
	SourceCloudTrail                       // CloudTrail management events
	SourceAudit                            // vigil's own audit log (vigil-specific types)
)

// String returns the data source as GuardDuty's documentation (and the finding-type
// catalogue) names it.
func (d DataSource) String() string {
	switch d {
	case SourceFlowLogs:
		return "VPC flow logs"
	case SourceDNSLogs:
		return "DNS logs"
	case SourceCloudTrail:
		return "CloudTrail management events"
	case SourceAudit:
		return "vigil audit log"
	}
	return "unknown"
}

// ActionKey says which attribute of a finding's action is part of its Fingerprint,
// and so separates one finding from another of the same type on the same resource.
type ActionKey uint8

// The action keys. KeyDefault resolves by action type: NETWORK_CONNECTION →
// KeyRemoteIP, PORT_PROBE → KeyLocalPort, DNS_REQUEST → KeyDomain, AWS_API_CALL →
// KeyAPI.
const (
	KeyDefault          ActionKey = iota
	KeyNone                       // one finding per type and resource
	KeyRemoteIP                   // remote address (network) or API caller address
	KeyRemotePort                 // remote port of a connection
	KeyLocalPort                  // probed local port (first probe detail)
	KeyDomain                     // full queried domain
	KeyDomainWithSuffix           // registrable domain (eTLD+1)
	KeyAPI                        // serviceName/api of the call
)

// String names the key as it appears in a Fingerprint.
func (k ActionKey) String() string {
	switch k {
	case KeyNone:
		return "none"
	case KeyRemoteIP:
		return "remoteIp"
	case KeyRemotePort:
		return "remotePort"
	case KeyLocalPort:
		return "localPort"
	case KeyDomain:
		return "domain"
	case KeyDomainWithSuffix:
		return "domainWithSuffix"
	case KeyAPI:
		return "api"
	}
	return "default"
}

// SeverityRuleKind says how a type's severity depends on the finding.
type SeverityRuleKind uint8

// The severity rules GuardDuty documents (an asterisk in its tables).
const (
	// SevFixed: always TypeInfo.Severity.
	SevFixed SeverityRuleKind = iota
	// SevActor: Rule.Severity when resourceRole is ACTOR (the brute-force types:
	// Low when the instance is attacked, High when it attacks).
	SevActor
	// SevLocalPort: Rule.Severity when a probed local port is in Rule.Ports
	// (PortProbeUnprotectedPort: High for Elasticsearch 9200/9300).
	SevLocalPort
	// SevRemotePort: Rule.Severity when the remote port is in Rule.Ports
	// (NetworkPortUnusual: High for LDAP 389/1389, a possible log4j callback).
	SevRemotePort
	// SevAffiliated: Rule.Severity when the calling account is affiliated
	// (InstanceCredentialExfiltration.InsideAWS: Medium instead of High).
	SevAffiliated
	// SevVariable: the detector decides within Low..Rule.Severity
	// (PasswordPolicyChange: by how much the policy was weakened); a finding whose
	// severity is unset gets TypeInfo.Severity.
	SevVariable
)

// SeverityRule is a type's context-dependent severity.
type SeverityRule struct {
	Kind     SeverityRuleKind
	Severity Severity // severity when the condition holds (SevVariable: the maximum)
	Ports    []int    // for SevLocalPort and SevRemotePort
}

// TypeInfo describes one finding type vigil raises.
type TypeInfo struct {
	Type         Type
	Source       DataSource
	ResourceType ResourceType
	ActionType   ActionType
	// Role is the usual resource role; detectors set the actual one.
	Role ResourceRole
	// Severity is the default severity; its band is the one GuardDuty's catalogue
	// gives the type.
	Severity Severity
	Rule     SeverityRule
	// Key is the action attribute in the Fingerprint (KeyDefault: by action type).
	Key ActionKey
	// Title and Description are templates with {placeholders} filled from the
	// finding (see Render).
	Title       string
	Description string
}

// ActionKey returns the effective action key of the type.
func (ti *TypeInfo) ActionKey() ActionKey { return resolveKey(ti.Key, ti.ActionType) }

func resolveKey(k ActionKey, at ActionType) ActionKey {
	if k != KeyDefault {
		return k
	}
	switch at {
	case ActionNetworkConnection:
		return KeyRemoteIP
	case ActionPortProbe:
		return KeyLocalPort
	case ActionDNSRequest:
		return KeyDomain
	case ActionAWSAPICall:
		return KeyAPI
	}
	return KeyNone
}

// SeverityFor returns the severity of f under the type's rule. f.Severity is
// used for SevVariable types when the detector set it (clamped to the rule's
// maximum).
func (ti *TypeInfo) SeverityFor(f *Finding) Severity {
	r := ti.Rule
	switch r.Kind {
	case SevActor:
		if f.Service.ResourceRole == RoleActor {
			return r.Severity
		}
	case SevLocalPort:
		if pp := f.Service.Action.PortProbeAction; pp != nil {
			for _, d := range pp.PortProbeDetails {
				if d.LocalPortDetails != nil && slices.Contains(r.Ports, d.LocalPortDetails.Port) {
					return r.Severity
				}
			}
		}
		if nc := f.Service.Action.NetworkConnectionAction; nc != nil && nc.LocalPortDetails != nil &&
			slices.Contains(r.Ports, nc.LocalPortDetails.Port) {
			return r.Severity
		}
	case SevRemotePort:
		if nc := f.Service.Action.NetworkConnectionAction; nc != nil && nc.RemotePortDetails != nil &&
			slices.Contains(r.Ports, nc.RemotePortDetails.Port) {
			return r.Severity
		}
	case SevAffiliated:
		if a := f.Service.Action.AWSAPICallAction; a != nil && a.RemoteAccountDetails != nil && a.RemoteAccountDetails.Affiliated {
			return r.Severity
		}
	case SevVariable:
		if f.Severity.Band() != BandNone {
			return min(f.Severity, r.Severity)
		}
	}
	return ti.Severity
}

// Lookup returns the catalogue entry of t.
func Lookup(t Type) (*TypeInfo, bool) {
	i, ok := slices.BinarySearchFunc(catalogue, t, func(ti TypeInfo, t Type) int { return strings.Compare(string(ti.Type), string(t)) })
	if !ok {
		return nil, false
	}
	return &catalogue[i], true
}

// Types returns the catalogue, sorted by type name. The caller must not modify it.
func Types() []TypeInfo { return catalogue }

func init() {
	catalogue = append(catalogue, auditTypes...)
	slices.SortFunc(catalogue, func(a, b TypeInfo) int { return strings.Compare(string(a.Type), string(b.Type)) })
}

// Shorthands for the catalogue table.
const (
	low, medium, high = SeverityLow, SeverityMedium, SeverityHigh
	flow, dns, trail  = SourceFlowLogs, SourceDNSLogs, SourceCloudTrail
)

var (
	byActor       = SeverityRule{Kind: SevActor, Severity: SeverityHigh}
	elasticsearch = SeverityRule{Kind: SevLocalPort, Severity: SeverityHigh, Ports: []int{9200, 9300}}
	ldapCallback  = SeverityRule{Kind: SevRemotePort, Severity: SeverityHigh, Ports: []int{389, 1389}}
	affiliated    = SeverityRule{Kind: SevAffiliated, Severity: SeverityMedium}
	upToHigh      = SeverityRule{Kind: SevVariable, Severity: SeverityHigh}
)

// Template helpers: EC2 flow-log findings (ec2), DNS findings (dnsq), IAM and S3
// API findings (api).
func ec2(t Type, sev Severity, role ResourceRole, key ActionKey, title, desc string) TypeInfo {
	return TypeInfo{Type: t, Source: flow, ResourceType: ResourceInstance, ActionType: ActionNetworkConnection,
		Role: role, Severity: sev, Key: key, Title: title, Description: desc}
}

func dnsq(t Type, sev Severity, key ActionKey, title, desc string) TypeInfo {
	return TypeInfo{Type: t, Source: dns, ResourceType: ResourceInstance, ActionType: ActionDNSRequest,
		Role: RoleActor, Severity: sev, Key: key, Title: title, Description: desc}
}

func api(t Type, rt ResourceType, sev Severity, key ActionKey, title, desc string) TypeInfo {
	return TypeInfo{Type: t, Source: trail, ResourceType: rt, ActionType: ActionAWSAPICall,
		Role: RoleTarget, Severity: sev, Key: key, Title: title, Description: desc}
}

func with(ti TypeInfo, f func(*TypeInfo)) TypeInfo { f(&ti); return ti }

// catalogue is every finding type vigil raises: GuardDuty's foundational types from
// VPC Flow Logs, DNS logs and CloudTrail management events for EC2, IAMUser and S3
// (guardduty.md §3), less the ML-only AnomalousBehavior family. Severities are
// GuardDuty's defaults; a test checks each type and band against GuardDuty's
// published catalogue.
var catalogue = []TypeInfo{
	// EC2, from VPC Flow Logs. Fingerprint: instance, role and the remote IP;
	// the probed local port for the PortProbe types; the remote port for
	// PortSweep, Spambot and NetworkPortUnusual (many hosts, one issue); nothing
	// for TorRelay (one finding per relaying instance).
	ec2("Recon:EC2/Portscan", medium, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is performing outbound port scans against remote host {remoteIp}.",
		"EC2 instance {resource} is connecting to many ports of remote host {remoteIp} over a short period, as a port scanner does. It may be compromised and used for reconnaissance, or run an authorised vulnerability scanner."),
	with(ec2("Recon:EC2/PortProbeUnprotectedPort", low, RoleTarget, KeyLocalPort,
		"Unprotected port on EC2 instance {resource} is being probed.",
		"Port {localPort} of EC2 instance {resource} is not blocked by a security group, network ACL or firewall, and known scanners such as {remoteIp} are probing it."),
		func(ti *TypeInfo) { ti.ActionType, ti.Rule = ActionPortProbe, elasticsearch }),
	with(ec2("Recon:EC2/PortProbeEMRUnprotectedPort", high, RoleTarget, KeyLocalPort,
		"Unprotected EMR-related port on EC2 instance {resource} is being probed.",
		"EMR-related port {localPort} of EC2 instance {resource} is not blocked, and known scanners such as {remoteIp} are probing it."),
		func(ti *TypeInfo) { ti.ActionType = ActionPortProbe }),
	with(ec2("UnauthorizedAccess:EC2/SSHBruteForce", low, RoleTarget, KeyRemoteIP,
		"{actor} is performing SSH brute force attacks against {target}.",
		"{actor} is performing SSH brute force attacks against {target}. Brute force attacks try to gain access by guessing SSH credentials."),
		func(ti *TypeInfo) { ti.Rule = byActor }),
	with(ec2("UnauthorizedAccess:EC2/RDPBruteForce", low, RoleTarget, KeyRemoteIP,
		"{actor} is performing RDP brute force attacks against {target}.",
		"{actor} is performing RDP brute force attacks against {target}. Brute force attacks try to gain access by guessing RDP credentials."),
		func(ti *TypeInfo) { ti.Rule = byActor }),
	with(ec2("Impact:EC2/WinRMBruteForce", low, RoleTarget, KeyRemoteIP,
		"{actor} is performing WinRM brute force attacks against {target}.",
		"{actor} is performing WinRM brute force attacks against {target}. Brute force attacks try to gain access by guessing Windows Remote Management credentials."),
		func(ti *TypeInfo) { ti.Rule = byActor }),
	ec2("Impact:EC2/PortSweep", high, RoleActor, KeyRemotePort,
		"EC2 instance {resource} is performing a port sweep on port {remotePort}.",
		"EC2 instance {resource} is probing port {remotePort} on many publicly routable addresses (the latest {remoteIp}). It may be compromised and looking for vulnerable hosts."),
	ec2("Backdoor:EC2/DenialOfService.Tcp", high, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using the TCP protocol.",
		"EC2 instance {resource} is sending a large volume of outbound TCP traffic to {remoteIp}."),
	ec2("Backdoor:EC2/DenialOfService.Udp", high, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using the UDP protocol.",
		"EC2 instance {resource} is sending a large volume of outbound UDP traffic to {remoteIp}."),
	ec2("Backdoor:EC2/DenialOfService.Dns", high, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using the DNS protocol.",
		"EC2 instance {resource} is sending a large volume of outbound DNS traffic to {remoteIp}."),
	ec2("Backdoor:EC2/DenialOfService.UdpOnTcpPorts", high, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using the UDP protocol on a TCP port.",
		"EC2 instance {resource} is sending a large volume of outbound UDP traffic to port {remotePort}, usually a TCP port, of {remoteIp}."),
	ec2("Backdoor:EC2/DenialOfService.UnusualProtocol", high, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using an unusual protocol.",
		"EC2 instance {resource} is sending a large volume of outbound {protocol} traffic to {remoteIp}."),
	ec2("Backdoor:EC2/Spambot", medium, RoleActor, KeyRemotePort,
		"EC2 instance {resource} is behaving in a manner that may indicate it is being used to send spam.",
		"EC2 instance {resource} is communicating with remote hosts on port 25 (the latest {remoteIp}) without a history of doing so."),
	ec2("Backdoor:EC2/C&CActivity.B", high, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is communicating with a command and control server {remoteIp}.",
		"EC2 instance {resource} is communicating with {remoteIp}, a known command and control server."),
	ec2("CryptoCurrency:EC2/BitcoinTool.B", high, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is communicating with a cryptocurrency-related IP address {remoteIp}.",
		"EC2 instance {resource} is communicating with {remoteIp}, an address associated with cryptocurrency mining or trading."),
	ec2("Trojan:EC2/BlackholeTraffic", medium, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is attempting to communicate with a black hole IP address {remoteIp}.",
		"EC2 instance {resource} is trying to communicate with {remoteIp}, a known black hole (sinkhole) address."),
	ec2("Trojan:EC2/DropPoint", medium, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is communicating with a drop point IP address {remoteIp}.",
		"EC2 instance {resource} is communicating with {remoteIp}, an address known to hold data stolen by malware."),
	ec2("UnauthorizedAccess:EC2/TorClient", high, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is communicating with a Tor entry node {remoteIp}.",
		"EC2 instance {resource} is connecting to {remoteIp}, a Tor guard or directory authority node."),
	ec2("UnauthorizedAccess:EC2/TorRelay", high, RoleActor, KeyNone,
		"EC2 instance {resource} is communicating with Tor nodes as a Tor relay.",
		"EC2 instance {resource} is exchanging traffic with Tor nodes (the latest {remoteIp}) in the pattern of a Tor relay."),
	ec2("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", medium, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is communicating with a disallowed IP address {remoteIp} on the custom threat list {threatListName}.",
		"EC2 instance {resource} is communicating with {remoteIp}, which is on the threat list {threatListName}."),
	with(ec2("Behavior:EC2/NetworkPortUnusual", medium, RoleActor, KeyRemotePort,
		"EC2 instance {resource} is communicating on an unusual server port {remotePort}.",
		"EC2 instance {resource} is communicating with {remoteIp} on port {remotePort}, which it has no history of using."),
		func(ti *TypeInfo) { ti.Rule = ldapCallback }),
	ec2("Behavior:EC2/TrafficVolumeUnusual", medium, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is generating unusually large amounts of network traffic to remote host {remoteIp}.",
		"EC2 instance {resource} is sending far more traffic to {remoteIp} than it usually does."),
	ec2("DefenseEvasion:EC2/UnusualDNSResolver", medium, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is communicating with an unusual public DNS resolver {remoteIp}.",
		"EC2 instance {resource} is sending DNS queries to the public resolver {remoteIp}, which it has no recent history of using. Queries to a third-party resolver bypass the VPC's DNS logs."),
	ec2("DefenseEvasion:EC2/UnusualDoHActivity", medium, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is performing unusual DNS over HTTPS (DoH) communication with {remoteIp}.",
		"EC2 instance {resource} is communicating with the DNS-over-HTTPS server {remoteIp}, which it has no recent history of using. DoH bypasses the VPC's DNS logs."),
	ec2("DefenseEvasion:EC2/UnusualDoTActivity", medium, RoleActor, KeyRemoteIP,
		"EC2 instance {resource} is performing unusual DNS over TLS (DoT) communication with {remoteIp}.",
		"EC2 instance {resource} is communicating with the DNS-over-TLS server {remoteIp}, which it has no recent history of using. DoT bypasses the VPC's DNS logs."),

	// EC2, from DNS query logs. Fingerprint: instance, role and the queried
	// domain; the registrable domain for DNSDataExfiltration (every query name is
	// new); nothing for DGADomainRequest.B (every generated domain is new).
	dnsq("Backdoor:EC2/C&CActivity.B!DNS", high, KeyDomain,
		"EC2 instance {resource} is querying a domain name associated with a known command and control server.",
		"EC2 instance {resource} is querying {domain}, a domain associated with a known command and control server."),
	dnsq("CryptoCurrency:EC2/BitcoinTool.B!DNS", high, KeyDomain,
		"EC2 instance {resource} is querying a domain name that is associated with cryptocurrency-related activity.",
		"EC2 instance {resource} is querying {domain}, a domain associated with cryptocurrency mining or trading."),
	dnsq("Trojan:EC2/DNSDataExfiltration", high, KeyDomainWithSuffix,
		"Data exfiltration through DNS queries from EC2 instance {resource}.",
		"EC2 instance {resource} is sending many long, high-entropy DNS queries under {domainWithSuffix}, a way malware encodes data into DNS to exfiltrate it."),
	dnsq("Trojan:EC2/DGADomainRequest.B", high, KeyNone,
		"EC2 instance {resource} is querying algorithmically generated domains.",
		"EC2 instance {resource} is querying names that look algorithmically generated (the latest {domain}), as malware does to find its command and control server."),
	dnsq("Trojan:EC2/DGADomainRequest.C!DNS", high, KeyDomain,
		"EC2 instance {resource} is querying algorithmically generated domains.",
		"EC2 instance {resource} is querying {domain}, a known algorithmically generated domain used by malware."),
	dnsq("Trojan:EC2/BlackholeTraffic!DNS", medium, KeyDomain,
		"EC2 instance {resource} is querying a domain name that is being redirected to a black hole IP address.",
		"EC2 instance {resource} is querying {domain}, a domain that resolves to a known black hole address."),
	dnsq("Trojan:EC2/DropPoint!DNS", medium, KeyDomain,
		"EC2 instance {resource} is querying a domain name of a remote host that is known to hold data captured by malware.",
		"EC2 instance {resource} is querying {domain}, a domain known to hold data stolen by malware."),
	dnsq("Trojan:EC2/DriveBySourceTraffic!DNS", high, KeyDomain,
		"EC2 instance {resource} is querying a domain name of a remote host that is a known source of Drive-By download attacks.",
		"EC2 instance {resource} is querying {domain}, a domain known for drive-by downloads."),
	dnsq("Trojan:EC2/PhishingDomainRequest!DNS", high, KeyDomain,
		"EC2 instance {resource} is querying domains involved in phishing attacks.",
		"EC2 instance {resource} is querying {domain}, a domain known for phishing."),
	dnsq("UnauthorizedAccess:EC2/MetadataDNSRebind", high, KeyDomain,
		"EC2 instance {resource} is performing DNS lookups that resolve to the instance metadata service.",
		"EC2 instance {resource} queried {domain}, which resolves to the instance metadata address 169.254.169.254: a DNS rebinding attempt to reach the metadata service."),
	dnsq("Impact:EC2/AbusedDomainRequest.Reputation", medium, KeyDomain,
		"EC2 instance {resource} is querying a low reputation domain name that is associated with known abused domains.",
		"EC2 instance {resource} is querying {domain}, a low-reputation domain in infrastructure commonly abused by attackers."),
	dnsq("Impact:EC2/BitcoinDomainRequest.Reputation", high, KeyDomain,
		"EC2 instance {resource} is querying a low reputation domain name that is associated with cryptocurrency-related activity.",
		"EC2 instance {resource} is querying {domain}, a low-reputation domain associated with cryptocurrency."),
	dnsq("Impact:EC2/MaliciousDomainRequest.Reputation", high, KeyDomain,
		"EC2 instance {resource} is querying a low reputation domain name that is associated with known malicious domains.",
		"EC2 instance {resource} is querying {domain}, a low-reputation domain tied to known malicious infrastructure."),
	dnsq("Impact:EC2/SuspiciousDomainRequest.Reputation", low, KeyDomain,
		"EC2 instance {resource} is querying a low reputation domain name that is suspicious in nature due to its age, or its low popularity.",
		"EC2 instance {resource} is querying {domain}, a domain that is suspicious for its age or low popularity."),
	dnsq("Impact:EC2/MaliciousDomainRequest.Custom", medium, KeyDomain,
		"EC2 instance {resource} is querying a domain on the custom threat list {threatListName}.",
		"EC2 instance {resource} is querying {domain}, which is on the threat list {threatListName}."),

	// IAM, from CloudTrail management events. Fingerprint: access key (else
	// principal, else user name), role and serviceName/api for changes and
	// root or console use; the caller's remote IP for the bad-caller types
	// (…IPCaller, PenTest:*, InstanceCredentialExfiltration.*), whatever API
	// they call.
	api("Stealth:IAMUser/CloudTrailLoggingDisabled", ResourceAccessKey, low, KeyAPI,
		"AWS CloudTrail trail was disabled by {principal}.",
		"{principal} called {api} and turned off CloudTrail logging, which removes the audit trail of activity in the account."),
	with(api("Stealth:IAMUser/PasswordPolicyChange", ResourceAccessKey, low, KeyAPI,
		"Account password policy was weakened by {principal}.",
		"{principal} called {api} and weakened the account's password policy."),
		func(ti *TypeInfo) { ti.Rule = upToHigh }),
	api("Policy:IAMUser/RootCredentialUsage", ResourceAccessKey, low, KeyAPI,
		"API {api} was invoked using root credentials.",
		"API {api} of {serviceName} was invoked with the account's root credentials from {remoteIp}. AWS recommends not using root credentials for everyday tasks."),
	api("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", ResourceAccessKey, medium, KeyAPI,
		"Multiple worldwide successful console logins for {principal}.",
		"{principal} logged in to the console successfully from distant places at about the same time (the latest from {remoteIp})."),
	api("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", ResourceAccessKey, high, KeyRemoteIP,
		"Credentials for instance role {principal} used from external IP address {remoteIp}.",
		"Temporary credentials issued to an EC2 instance role ({principal}) were used from {remoteIp}, an address outside AWS, to call {api}."),
	with(api("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", ResourceAccessKey, high, KeyRemoteIP,
		"Credentials for instance role {principal} used from a remote AWS account.",
		"Temporary credentials issued to an EC2 instance role ({principal}) were used from {remoteIp} in another AWS account to call {api}."),
		func(ti *TypeInfo) { ti.Rule = affiliated }),
	api("UnauthorizedAccess:IAMUser/MaliciousIPCaller", ResourceAccessKey, medium, KeyRemoteIP,
		"API {api} was invoked from a known malicious IP address {remoteIp}.",
		"API {api} of {serviceName} was invoked by {principal} from {remoteIp}, an address on a threat intelligence list."),
	api("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", ResourceAccessKey, medium, KeyRemoteIP,
		"API {api} was invoked from an IP address {remoteIp} on the custom threat list {threatListName}.",
		"API {api} of {serviceName} was invoked by {principal} from {remoteIp}, which is on the threat list {threatListName}."),
	api("UnauthorizedAccess:IAMUser/TorIPCaller", ResourceAccessKey, medium, KeyRemoteIP,
		"API {api} was invoked from a Tor exit node IP address {remoteIp}.",
		"API {api} of {serviceName} was invoked by {principal} from {remoteIp}, a Tor exit node."),
	api("Recon:IAMUser/MaliciousIPCaller", ResourceAccessKey, medium, KeyRemoteIP,
		"Reconnaissance API {api} was invoked from a known malicious IP address {remoteIp}.",
		"Reconnaissance API {api} of {serviceName} was invoked by {principal} from {remoteIp}, an address on a threat intelligence list."),
	api("Recon:IAMUser/MaliciousIPCaller.Custom", ResourceAccessKey, medium, KeyRemoteIP,
		"Reconnaissance API {api} was invoked from an IP address {remoteIp} on the custom threat list {threatListName}.",
		"Reconnaissance API {api} of {serviceName} was invoked by {principal} from {remoteIp}, which is on the threat list {threatListName}."),
	api("Recon:IAMUser/TorIPCaller", ResourceAccessKey, medium, KeyRemoteIP,
		"Reconnaissance API {api} was invoked from a Tor exit node IP address {remoteIp}.",
		"Reconnaissance API {api} of {serviceName} was invoked by {principal} from {remoteIp}, a Tor exit node."),
	api("PenTest:IAMUser/KaliLinux", ResourceAccessKey, medium, KeyRemoteIP,
		"API {api} was invoked from a Kali Linux computer.",
		"API {api} of {serviceName} was invoked by {principal} from {remoteIp}, with a user agent of Kali Linux, a penetration testing distribution."),
	api("PenTest:IAMUser/ParrotLinux", ResourceAccessKey, medium, KeyRemoteIP,
		"API {api} was invoked from a Parrot Security Linux computer.",
		"API {api} of {serviceName} was invoked by {principal} from {remoteIp}, with a user agent of Parrot Security Linux, a penetration testing distribution."),
	api("PenTest:IAMUser/PentooLinux", ResourceAccessKey, medium, KeyRemoteIP,
		"API {api} was invoked from a Pentoo Linux computer.",
		"API {api} of {serviceName} was invoked by {principal} from {remoteIp}, with a user agent of Pentoo Linux, a penetration testing distribution."),

	// S3, from CloudTrail management events. Fingerprint: bucket (else the
	// access key, for the account-level type), role and serviceName/api.
	api("Policy:S3/AccountBlockPublicAccessDisabled", ResourceS3Bucket, low, KeyAPI,
		"Amazon S3 Block Public Access was disabled for the account by {principal}.",
		"{principal} called {api} and turned off S3 Block Public Access for the whole account."),
	api("Policy:S3/BucketBlockPublicAccessDisabled", ResourceS3Bucket, low, KeyAPI,
		"Amazon S3 Block Public Access was disabled for bucket {bucket}.",
		"{principal} called {api} and turned off S3 Block Public Access for bucket {bucket}."),
	api("Policy:S3/BucketAnonymousAccessGranted", ResourceS3Bucket, high, KeyAPI,
		"Amazon S3 bucket {bucket} was granted anonymous access.",
		"{principal} called {api} and made bucket {bucket} readable or writable by anyone on the internet."),
	api("Policy:S3/BucketPublicAccessGranted", ResourceS3Bucket, high, KeyAPI,
		"Amazon S3 bucket {bucket} was granted access to all authenticated AWS users.",
		"{principal} called {api} and made bucket {bucket} accessible to every authenticated AWS user."),
	api("Stealth:S3/ServerAccessLoggingDisabled", ResourceS3Bucket, low, KeyAPI,
		"Amazon S3 server access logging was disabled for bucket {bucket}.",
		"{principal} called {api} and turned off server access logging for bucket {bucket}."),
}
