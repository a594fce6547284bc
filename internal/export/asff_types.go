package export

import (
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
)

// asffTypes maps GuardDuty finding types to the ASFF Types value Security Hub
// shows for them, as the GuardDuty User Guide lists them ("Interpreting
// GuardDuty finding names in AWS Security Hub"): namespace/category/classifier,
// where the classifier is the GuardDuty type with '/' written '-' (the path
// separator of ASFF types). AWS's table is irregular (some types lack a
// category, a few keep their '/'), so it is copied, not derived; every type in
// vigil's catalogue is listed (TestASFFTypesCoverCatalogue).
var asffTypes = map[finding.Type]string{
	"Backdoor:EC2/C&CActivity.B":                                           "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B",
	"Backdoor:EC2/C&CActivity.B!DNS":                                       "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS",
	"Backdoor:EC2/DenialOfService.Dns":                                     "TTPs/Command and Control/Backdoor:EC2-DenialOfService.Dns",
	"Backdoor:EC2/DenialOfService.Tcp":                                     "TTPs/Command and Control/Backdoor:EC2-DenialOfService.Tcp",
	"Backdoor:EC2/DenialOfService.Udp":                                     "TTPs/Command and Control/Backdoor:EC2-DenialOfService.Udp",
	"Backdoor:EC2/DenialOfService.UdpOnTcpPorts":                           "TTPs/Command and Control/Backdoor:EC2-DenialOfService.UdpOnTcpPorts",
	"Backdoor:EC2/DenialOfService.UnusualProtocol":                         "TTPs/Command and Control/Backdoor:EC2-DenialOfService.UnusualProtocol",
	"Backdoor:EC2/Spambot":                                                 "TTPs/Command and Control/Backdoor:EC2-Spambot",
	"Behavior:EC2/NetworkPortUnusual":                                      "Unusual Behaviors/VM/Behavior:EC2-NetworkPortUnusual",
	"Behavior:EC2/TrafficVolumeUnusual":                                    "Unusual Behaviors/VM/Behavior:EC2-TrafficVolumeUnusual",
	"CryptoCurrency:EC2/BitcoinTool.B":                                     "TTPs/Command and Control/CryptoCurrency:EC2-BitcoinTool.B",
	"CryptoCurrency:EC2/BitcoinTool.B!DNS":                                 "TTPs/Command and Control/CryptoCurrency:EC2-BitcoinTool.B!DNS",
	"DefenseEvasion:EC2/UnusualDNSResolver":                                "TTPs/DefenseEvasion/EC2:Unusual-DNS-Resolver",
	"DefenseEvasion:EC2/UnusualDoHActivity":                                "TTPs/DefenseEvasion/EC2:Unusual-DoH-Activity",
	"DefenseEvasion:EC2/UnusualDoTActivity":                                "TTPs/DefenseEvasion/EC2:Unusual-DoT-Activity",
	"Impact:EC2/AbusedDomainRequest.Reputation":                            "TTPs/Impact:EC2-AbusedDomainRequest.Reputation",
	"Impact:EC2/BitcoinDomainRequest.Reputation":                           "TTPs/Impact:EC2-BitcoinDomainRequest.Reputation",
	"Impact:EC2/MaliciousDomainRequest.Custom":                             "TTPs/Impact/Impact:EC2-MaliciousDomainRequest.Custom",
	"Impact:EC2/MaliciousDomainRequest.Reputation":                         "TTPs/Impact:EC2-MaliciousDomainRequest.Reputation",
	"Impact:EC2/PortSweep":                                                 "TTPs/Impact/Impact:EC2-PortSweep",
	"Impact:EC2/SuspiciousDomainRequest.Reputation":                        "TTPs/Impact:EC2-SuspiciousDomainRequest.Reputation",
	"Impact:EC2/WinRMBruteForce":                                           "TTPs/Impact/Impact:EC2-WinRMBruteForce",
	"PenTest:IAMUser/KaliLinux":                                            "TTPs/PenTest:IAMUser/KaliLinux",
	"PenTest:IAMUser/ParrotLinux":                                          "TTPs/PenTest:IAMUser/ParrotLinux",
	"PenTest:IAMUser/PentooLinux":                                          "TTPs/PenTest:IAMUser/PentooLinux",
	"Policy:IAMUser/RootCredentialUsage":                                   "TTPs/Policy:IAMUser-RootCredentialUsage",
	"Policy:S3/AccountBlockPublicAccessDisabled":                           "TTPs/Policy:S3-AccountBlockPublicAccessDisabled",
	"Policy:S3/BucketAnonymousAccessGranted":                               "TTPs/Policy:S3-BucketAnonymousAccessGranted",
	"Policy:S3/BucketBlockPublicAccessDisabled":                            "Effects/Data Exposure/Policy:S3-BucketBlockPublicAccessDisabled",
	"Policy:S3/BucketPublicAccessGranted":                                  "TTPs/Policy:S3-BucketPublicAccessGranted",
	"Recon:EC2/PortProbeEMRUnprotectedPort":                                "TTPs/Discovery/Recon:EC2-PortProbeEMRUnprotectedPort",
	"Recon:EC2/PortProbeUnprotectedPort":                                   "TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort",
	"Recon:EC2/Portscan":                                                   "TTPs/Discovery/Recon:EC2-Portscan",
	"Recon:IAMUser/MaliciousIPCaller":                                      "TTPs/Discovery/Recon:IAMUser-MaliciousIPCaller",
	"Recon:IAMUser/MaliciousIPCaller.Custom":                               "TTPs/Discovery/Recon:IAMUser-MaliciousIPCaller.Custom",
	"Recon:IAMUser/TorIPCaller":                                            "TTPs/Discovery/Recon:IAMUser-TorIPCaller",
	"Stealth:IAMUser/CloudTrailLoggingDisabled":                            "TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled",
	"Stealth:IAMUser/PasswordPolicyChange":                                 "TTPs/Defense Evasion/Stealth:IAMUser-PasswordPolicyChange",
	"Stealth:S3/ServerAccessLoggingDisabled":                               "TTPs/Defense Evasion/Stealth:S3-ServerAccessLoggingDisabled",
	"Trojan:EC2/BlackholeTraffic":                                          "TTPs/Command and Control/Trojan:EC2-BlackholeTraffic",
	"Trojan:EC2/BlackholeTraffic!DNS":                                      "TTPs/Command and Control/Trojan:EC2-BlackholeTraffic!DNS",
	"Trojan:EC2/DGADomainRequest.B":                                        "TTPs/Command and Control/Trojan:EC2-DGADomainRequest.B",
	"Trojan:EC2/DGADomainRequest.C!DNS":                                    "TTPs/Command and Control/Trojan:EC2-DGADomainRequest.C!DNS",
	"Trojan:EC2/DNSDataExfiltration":                                       "TTPs/Command and Control/Trojan:EC2-DNSDataExfiltration",
	"Trojan:EC2/DriveBySourceTraffic!DNS":                                  "TTPs/Initial Access/Trojan:EC2-DriveBySourceTraffic!DNS",
	"Trojan:EC2/DropPoint":                                                 "Effects/Data Exfiltration/Trojan:EC2-DropPoint",
	"Trojan:EC2/DropPoint!DNS":                                             "Effects/Data Exfiltration/Trojan:EC2-DropPoint!DNS",
	"Trojan:EC2/PhishingDomainRequest!DNS":                                 "TTPs/Command and Control/Trojan:EC2-PhishingDomainRequest!DNS",
	"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom":                      "TTPs/Command and Control/UnauthorizedAccess:EC2-MaliciousIPCaller.Custom",
	"UnauthorizedAccess:EC2/MetadataDNSRebind":                             "TTPs/UnauthorizedAccess:EC2-MetadataDNSRebind",
	"UnauthorizedAccess:EC2/RDPBruteForce":                                 "TTPs/Initial Access/UnauthorizedAccess:EC2-RDPBruteForce",
	"UnauthorizedAccess:EC2/SSHBruteForce":                                 "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce",
	"UnauthorizedAccess:EC2/TorClient":                                     "Effects/Resource Consumption/UnauthorizedAccess:EC2-TorClient",
	"UnauthorizedAccess:EC2/TorRelay":                                      "Effects/Resource Consumption/UnauthorizedAccess:EC2-TorRelay",
	"UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B":                     "TTPs/UnauthorizedAccess:IAMUser-ConsoleLoginSuccess.B",
	"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS":  "Effects/Data Exfiltration/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.InsideAWS",
	"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": "Effects/Data Exfiltration/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.OutsideAWS",
	"UnauthorizedAccess:IAMUser/MaliciousIPCaller":                         "TTPs/UnauthorizedAccess:IAMUser-MaliciousIPCaller",
	"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom":                  "TTPs/UnauthorizedAccess:IAMUser-MaliciousIPCaller.Custom",
	"UnauthorizedAccess:IAMUser/TorIPCaller":                               "TTPs/Command and Control/UnauthorizedAccess:IAMUser-TorIPCaller",
}

// asffCategories place a type missing from asffTypes (a type vigil adds, or a
// GuardDuty type of a later release) by its threat purpose, as the table does
// for most types.
var asffCategories = map[string]string{
	"Backdoor":            "TTPs/Command and Control",
	"CryptoCurrency":      "TTPs/Command and Control",
	"Trojan":              "TTPs/Command and Control",
	"CredentialAccess":    "TTPs/Credential Access",
	"DefenseEvasion":      "TTPs/Defense Evasion",
	"Stealth":             "TTPs/Defense Evasion",
	"Discovery":           "TTPs/Discovery",
	"Recon":               "TTPs/Discovery",
	"Execution":           "TTPs/Execution",
	"Exfiltration":        "Effects/Data Exfiltration",
	"Impact":              "TTPs/Impact",
	"InitialAccess":       "TTPs/Initial Access",
	"Persistence":         "TTPs/Persistence",
	"PrivilegeEscalation": "TTPs/Privilege Escalation",
	"Behavior":            "Unusual Behaviors",
}

// ASFFType returns the ASFF Types value of a GuardDuty finding type.
func ASFFType(t finding.Type) string {
	if s, ok := asffTypes[t]; ok {
		return s
	}
	s := string(t)
	classifier := strings.ReplaceAll(s, "/", "-")
	purpose, _, _ := strings.Cut(s, ":")
	if cat, ok := asffCategories[purpose]; ok {
		return cat + "/" + classifier
	}
	return "TTPs/" + classifier
}
