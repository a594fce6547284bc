package investigate

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/inventory"
)

// What to do and what to say. Containment follows AWS's guidance for a reported
// instance — isolate it, keep its disks for forensics, look at the host — with
// what fits the kind of activity; the draft reply to AWS Trust & Safety says what
// was found, leaves what was done for the user to confirm, and what prevents a
// recurrence. Commands are shown, never run; identifiers in them come from the
// inventory and the logs, and are quoted for a shell.

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=@,+", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// containment returns the steps for the first candidate (or generic ones).
func containment(res *Result) []Step {
	var c *Candidate
	if len(res.Candidates) > 0 && res.Candidates[0].Confidence != ConfidenceLow {
		c = &res.Candidates[0]
	}
	id, vpc, region := "i-…", "vpc-…", ""
	if c != nil && c.Instance != nil {
		id, vpc, region = c.Instance.ID, c.Instance.VPCID, c.Instance.Region
	}
	for _, t := range res.Targets {
		if region == "" {
			region = t.Region
		}
		if vpc == "vpc-…" && t.VPCID != "" {
			vpc = t.VPCID
		}
	}
	if region == "" && res.Report != nil {
		region = res.Report.Region
	}
	reg := ""
	if region != "" {
		reg = " --region " + shellQuote(region)
	}
	qid, qvpc := shellQuote(id), shellQuote(vpc)
	caseTag := "abuse-report"
	if res.Report != nil && res.Report.CaseNumber != "" {
		caseTag = "abuse-case-" + res.Report.CaseNumber
	}
	var steps []Step
	who := "the instance"
	if c != nil {
		who = c.describe()
	}
	steps = append(steps, Step{
		Title: "Isolate " + who + " with a quarantine security group",
		Why: "A security group with no rules blocks new connections both ways at once. Tracked connections already open may continue " +
			"through the NAT gateway; for a flood, also add a network ACL deny for the instance's address, or stop the process on the host. " +
			"Take it out of its Auto Scaling group first, or the group replaces it.",
		Commands: []string{
			"aws autoscaling describe-auto-scaling-instances --instance-ids " + qid + reg,
			"aws autoscaling detach-instances --instance-ids " + qid + " --auto-scaling-group-name NAME --should-decrement-desired-capacity" + reg + "   # only if it is in a group",
			"SG=$(aws ec2 create-security-group --group-name " + shellQuote("quarantine-"+strings.TrimPrefix(id, "i-")) + " --description " + shellQuote("isolation for "+caseTag) + " --vpc-id " + qvpc + reg + " --query GroupId --output text)",
			"aws ec2 revoke-security-group-egress --group-id \"$SG\" --ip-permissions '[{\"IpProtocol\":\"-1\",\"IpRanges\":[{\"CidrIp\":\"0.0.0.0/0\"}]}]'" + reg,
			"aws ec2 modify-instance-attribute --instance-id " + qid + " --groups \"$SG\"" + reg,
		},
	})
	steps = append(steps, Step{
		Title: "Keep the evidence: snapshot its volumes before changing anything on it",
		Why:   "Snapshots preserve the disks for forensics; tag them with the case so they are not cleaned up.",
		Commands: []string{
			"aws ec2 describe-volumes --filters Name=attachment.instance-id,Values=" + qid + " --query 'Volumes[].VolumeId' --output text" + reg,
			"aws ec2 create-snapshot --volume-id VOLUME_ID --description " + shellQuote("forensics "+caseTag+" "+id) + " --tag-specifications 'ResourceType=snapshot,Tags=[{Key=case,Value=" + caseTag + "}]'" + reg,
			"aws ec2 get-console-output --instance-id " + qid + " --latest --output text" + reg,
		},
	})
	host := []string{
		"ps auxfww --sort=-%cpu | head -40          # unusual processes, and what started them",
		"ss -tunap                                  # its connections now: the scanner or flooder shows here",
		"ls -la /tmp /var/tmp /dev/shm; find / -xdev -mtime -3 -type f -perm -u+x 2>/dev/null | head -50",
		"for u in $(cut -d: -f1 /etc/passwd); do crontab -l -u \"$u\" 2>/dev/null; done; ls -la /etc/cron.* /var/spool/cron",
		"systemctl list-units --type=service --state=running; systemctl list-timers --all",
		"cat /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys   # keys that should not be there",
		"last -F | head -30; lastb | head -30; journalctl -u ssh -u sshd --since '-3 days' | tail -100",
		"tcpdump -ni any -c 2000 -w /tmp/" + caseTag + ".pcap   # a short capture of what it sends",
	}
	switch res.Kind {
	case KindPortScan:
		host = append(host, "command -v masscan nmap zmap; ls -la ~/.local/bin /usr/local/bin   # scanners, often renamed")
	case KindSSHBruteForce, KindRDPBruteForce, KindBruteForce:
		host = append(host, "grep -rl -e hydra -e ncrack -e medusa -e 'pass.txt' -e 'users.txt' / --include='*.sh' 2>/dev/null | head   # brute-force kits and word lists")
	case KindDoS:
		host = append(host, "iftop -n -P || nethogs   # which process sends the packets")
	case KindSpam:
		host = append(host, "mailq | tail -5; postqueue -p | tail -5   # a queue full of outgoing mail", "grep -E 'relay|mynetworks|smtpd_recipient' /etc/postfix/main.cf   # an open relay")
	case KindMalwareHosting, KindCopyright:
		host = append(host, "find /var/www /srv -mtime -14 -type f | head -50   # recently added content")
	case KindIntrusionAttempt:
		host = append(host, "find / -xdev -name '*.py' -newer /etc/hostname -path '*tmp*' 2>/dev/null   # exploit kits dropped in temporary folders")
	}
	steps = append(steps, Step{
		Title:    "Look at the host (through SSM Session Manager or the console, not a new SSH key)",
		Why:      "Find what sent the traffic and how it got there. Read-only commands; copy what you find off the host.",
		Commands: host,
	})
	if c != nil && c.Instance != nil && c.Instance.IAMRole != "" {
		steps = append(steps, Step{
			Title: "Assume its instance-role credentials are stolen",
			Why: "Anything on a compromised host can read them from the metadata service. Revoke the role's active sessions " +
				"(IAM console: Roles → the role → Revoke active sessions) and check CloudTrail for calls with them from elsewhere " +
				"(vigil scan raises InstanceCredentialExfiltration findings for that).",
			Commands: []string{"aws iam list-instance-profiles --query " + shellQuote("InstanceProfiles[?Arn=='"+c.Instance.IAMRole+"'].Roles[].RoleName") + " --output text"},
		})
	}
	prevent := []string{
		"Rebuild the instance from a known-good image rather than cleaning it; rotate every secret it held.",
		"Restrict egress: security groups that allow only the destinations and ports the workload needs (outbound tcp/22 and tcp/3389 to the internet are rarely needed).",
		"Keep VPC flow logs on, including the NAT gateway's interface, in a custom format with pkt-srcaddr and pkt-dstaddr.",
		"Run continuous detection (vigil serve, or GuardDuty) so the next incident is found before a complaint.",
	}
	switch res.Kind {
	case KindSpam:
		prevent = append(prevent, "Send mail only through an authenticated relay (Amazon SES); block outbound tcp/25 from everything else.")
	case KindSSHBruteForce, KindRDPBruteForce, KindBruteForce:
		prevent = append(prevent, "Patch and harden the service that was entered (no passwords on SSH, no RDP from the internet).")
	}
	steps = append(steps, Step{Title: "Prevent a recurrence", Commands: nil, Why: strings.Join(prevent, " ")})
	return steps
}

// draftReply writes the reply to AWS Trust & Safety.
func draftReply(res *Result) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("Hello AWS Trust & Safety,\n\n")
	caseNo := ""
	if res.Report != nil && res.Report.CaseNumber != "" {
		caseNo = " (case " + res.Report.CaseNumber + ")"
	}
	var ips []string
	for _, t := range res.Targets {
		ips = append(ips, t.IP.String())
	}
	w("Thank you for the report%s about %s. We investigated the activity reported between %s and %s UTC using our VPC flow logs.\n\n",
		caseNo, strings.Join(ips, ", "), res.Window.From.Format("2006-01-02 15:04"), res.Window.Until.Format("2006-01-02 15:04"))

	w("What we found:\n")
	for _, t := range res.Targets {
		switch t.Kind {
		case string(inventory.KindNATGateway):
			w("- %s is the Elastic IP of our NAT gateway %s in %s; it is shared by the private instances behind it.\n", t.IP, t.ID, nonEmpty(t.VPCID, "our VPC"))
		case string(inventory.KindInstance):
			w("- %s is the public address of our instance %s.\n", t.IP, t.ID)
		default:
			w("- %s is one of our addresses.\n", t.IP)
		}
	}
	if len(res.Candidates) > 0 && res.Candidates[0].Confidence == ConfidenceHigh {
		c := res.Candidates[0]
		e := c.Evidence
		w("- Our flow logs show that %s originated the reported traffic (%s): %d flow records to %d of the hosts in your report",
			c.describe(), res.Kind.Title(), e.ToReported, e.ReportedHost)
		if !e.MatchFirst.IsZero() {
			w(", between %s and %s UTC", e.MatchFirst.Format("15:04"), e.MatchLast.Format("15:04"))
		}
		w(".\n")
		if len(res.Candidates) == 1 || res.Candidates[1].Confidence != ConfidenceHigh {
			w("- No other instance behind the address sent traffic matching the report.\n")
		}
	} else {
		w("- [Our flow logs do not identify the source with certainty: say what you found on the hosts.]\n")
	}
	w("\nWhat we have done (please edit to what you did):\n")
	w("- [time] isolated the instance with a security group that allows no traffic, and removed it from service.\n")
	w("- [time] took snapshots of its volumes for forensic analysis.\n")
	w("- [time] identified the cause: [e.g. a compromised application, a weak password, a misconfigured tool].\n")
	w("- [time] terminated the instance / rebuilt it from a clean image, and rotated its credentials.\n")
	w("\nWhat prevents a recurrence:\n")
	w("- [e.g. outbound traffic restricted to what the workload needs; the service patched and hardened.]\n")
	w("- VPC flow logs and continuous threat detection now cover the instances behind this address.\n")
	w("\nWe consider the matter resolved [or: we will confirm once the cause is established]. Please let us know if you see further activity from %s.\n\n", strings.Join(ips, ", "))
	w("Regards,\n[name, team]\n")
	return b.String()
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// formatWhen formats a time for the text outputs.
func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
