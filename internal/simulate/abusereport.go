package simulate

import (
	"bytes"
	"fmt"
	"mime/quotedprintable"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The abuse report. The internet sees the NAT-abuse scenarios (nat-abuse-portsweep,
// nat-abuse-ssh-bruteforce) come from VPC A's NAT gateway Elastic IP, and the people
// on the receiving end complain: AWS Trust & Safety forwards their logs to the
// account owner. The simulator writes that e-mail, as a mail client saves it
// (abuse-report/nat-abuse.eml: multipart/alternative, quoted-printable text and
// HTML) and as a person pastes it (abuse-report/nat-abuse.txt: the text part), so
// that `vigil investigate` can be tried and tested on a corpus whose answer is
// known: app-9, never the NAT gateway.
//
// The log extract is built from the scenarios' own records — the NAT gateway's
// outside legs, which carry exactly what a remote firewall or sshd sees: the
// Elastic IP, the NAT's source port, the destination and its port, the time — in
// the complainants' formats and time zone (iptables LOG lines from a darknet sensor
// and sshd lines from the brute-forced server, syslog timestamps without a year,
// in CET). Everything comes from the seed; nothing reads the clock.

// abuseReportDir is the folder, under the output folder, of the abuse report.
const abuseReportDir = "abuse-report"

// cet is the complainants' time zone: Central European Time (UTC+01:00; summer
// time has ended by November).
var cet = time.FixedZone("CET", 3600)

// natLeg is one request on the NAT gateway's outside leg: what the remote side saw.
type natLeg struct {
	t          int64 // flow start, Unix seconds
	natPort    uint16
	dst        netip.Addr
	dstPort    uint16
	unanswered bool // a SYN nobody answered (2 packets, flags SYN)
}

// outsideLegs runs a scenario's flow generator and returns the requests on the NAT
// gateway's outside leg, in order.
func (s *Simulator) outsideLegs(sc *scenario, nat *natGateway) []natLeg {
	var legs []natLeg
	r := sc.flowRNG(s.cfg.Seed)
	natIP := nat.eni.privIP
	sc.flows(&r, func(f *flow) {
		if f.eni != nat.eni || !f.egress || f.src != natIP || f.path != pathIGW { // the outside leg's requests
			return
		}
		legs = append(legs, natLeg{t: f.start, natPort: f.srcPort, dst: f.dst, dstPort: f.dstPort,
			unanswered: f.flags == flagSYN})
	})
	return legs
}

// scenarioNamed returns the scenario with the given name, or nil.
func (s *Simulator) scenarioNamed(name string) *scenario {
	for _, sc := range s.scenarios {
		if sc.name == name {
			return sc
		}
	}
	return nil
}

// writeAbuseReport writes abuse-report/nat-abuse.eml and nat-abuse.txt.
func (s *Simulator) writeAbuseReport(out string) error {
	sweep, brute := s.scenarioNamed("nat-abuse-portsweep"), s.scenarioNamed("nat-abuse-ssh-bruteforce")
	if sweep == nil || brute == nil {
		return fmt.Errorf("BUG: the NAT-abuse scenarios are missing")
	}
	actor := s.est.instance("app-9")
	nat := actor.vpc.nat
	r := derive(s.cfg.Seed, tag("abuse-report"))
	text, caseNo := s.abuseReportText(&r, nat, s.outsideLegs(sweep, nat), s.outsideLegs(brute, nat))
	// AWS writes a few hours after the activity ends.
	sent := time.Unix(brute.last, 0).UTC().Add(2*time.Hour + time.Duration(r.intn(3600))*time.Second)
	subject := "Your Amazon EC2 Abuse Report [" + caseNo + "] [AWS ID " + nat.eni.vpc.account.id + "]"
	eml := abuseReportEML(&r, nat, text, subject, sent)
	// What a person pastes: the headers their mail client shows, then the text.
	pasted := "From: Amazon EC2 Abuse <ec2-abuse@amazon.com>\nDate: " + sent.Format(time.RFC1123Z) + "\nSubject: " + subject + "\n\n" + text

	dir := filepath.Join(out, abuseReportDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create folder %s: %w", dir, pathErr(err))
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"nat-abuse.eml", eml}, {"nat-abuse.txt", []byte(pasted)}} {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return fmt.Errorf("write abuse report %s: %w", path, pathErr(err))
		}
		s.counters.Files.Add(1)
		s.counters.Bytes.Add(int64(len(f.data)))
	}
	return nil
}

// sshUsers are the user names a password-guessing bot tries first.
var sshUsers = []string{"root", "admin", "ubuntu", "test", "oracle", "postgres", "user", "git", "deploy", "ftpuser"}

// abuseReportText is the e-mail's text: AWS's notice, then the forwarded report
// with its log extract. It also returns the case number.
func (s *Simulator) abuseReportText(r *rng, nat *natGateway, sweep, brute []natLeg) (string, string) {
	eip := nat.eip.publicIP.String()
	acc := nat.eni.vpc.account
	caseNo := strconv.FormatInt(r.between64(1_000_000_000, 9_999_999_999), 10) + "-1"
	victim := brute[0].dst

	var b strings.Builder
	w := func(lines ...string) {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	w("Hello,",
		"",
		"We've received a report(s) that your AWS resource(s)",
		"",
		"AWS ID: "+acc.id+" Region: "+nat.eni.vpc.region+" Elastic IP: ["+eip+"]",
		"",
		"has been implicated in activity which resembles scanning remote hosts on the internet for security vulnerabilities, and attempting to brute force SSH logins on remote hosts. Activity of this nature is forbidden in the AWS Acceptable Use Policy (https://aws.amazon.com/aup/). We've included the original report below for your review.",
		"",
		"Please take action to stop the reported activity and reply directly to this email with details of the corrective actions you have taken. If you do not consider the activity described in these reports to be abusive, please reply to this email with details of your use case.",
		"",
		"If you're unaware of this activity, it's possible that your environment has been compromised by an external attacker, or a vulnerability is allowing your machine to be used in a way that it was not intended.",
		"",
		"We are unable to assist you with troubleshooting or technical inquiries. However, for guidance on securing your instance, we recommend reviewing the following resources:",
		"",
		" * Amazon EC2 Security Groups User Guide for Linux Instances:",
		"   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-security-groups.html",
		"",
		" * Tips for Securing Your EC2 Instance:",
		"   https://aws.amazon.com/articles/1233/",
		"",
		" * AWS Security Best Practices:",
		"   https://aws.amazon.com/architecture/security-identity-compliance/",
		"",
		"Please remember that you are responsible for ensuring that your instances and all applications are secured. The case number for this incident can be found in the subject line of this email.",
		"",
		"Please reply within 24 hours. Resources may be blocked if the activity continues.",
		"",
		"Regards,",
		"AWS Trust & Safety",
		"",
		"Case Number: "+caseNo,
		"",
		"---Beginning of forwarded report(s)---",
		"",
		"* Log Extract:",
		"<<<",
		"Dear abuse team,",
		"",
		"our darknet sensors and one of our customers' servers ("+victim.String()+") received the",
		"following traffic from "+eip+", which belongs to your network. All times are",
		"CET (UTC+01:00).",
		"",
		"Connection attempts to tcp/22 on unused addresses (iptables, sensors):",
		"")
	// Eight probes of hosts that did not answer, spread over the sweep.
	var idle []natLeg
	for _, l := range sweep {
		if l.unanswered {
			idle = append(idle, l)
		}
	}
	off := r.intn(max(len(idle)/8, 1))
	for k := 0; k < 8 && len(idle) > 0; k++ {
		l := idle[min(off+k*len(idle)/8, len(idle)-1)]
		uptime := 1_834_000 + (l.t - sweep[0].t) + int64(r.intn(1000))
		w(fmt.Sprintf("%s sensor-%d kernel: [%d.%06d] DARKNET-DROP IN=eth0 OUT= MAC=52:54:00:%02x:%02x:%02x:00:1c:73:0a:%02x:%02x:08:00 SRC=%s DST=%s LEN=60 TOS=0x00 PREC=0x00 TTL=%d ID=%d DF PROTO=TCP SPT=%d DPT=%d WINDOW=64240 RES=0x00 SYN URGP=0",
			syslogTime(l.t), 1+k%4, uptime, r.intn(1_000_000),
			r.intn(256), r.intn(256), r.intn(256), r.intn(256), r.intn(256),
			eip, l.dst, 44+r.intn(8), r.intn(65536), l.natPort, l.dstPort))
	}
	w("",
		"Failed SSH logins on "+victim.String()+" (sshd, /var/log/auth.log):",
		"")
	// The first five attempts, three from the middle and the last two.
	picks := []int{0, 1, 2, 3, 4, len(brute) / 3, len(brute) / 2, 2 * len(brute) / 3, len(brute) - 2, len(brute) - 1}
	slices.Sort(picks)
	picks = slices.Compact(picks)
	pid := 20_000 + r.intn(20_000)
	for _, i := range picks {
		if i < 0 || i >= len(brute) {
			continue
		}
		l := brute[i]
		user := sshUsers[r.intn(len(sshUsers))]
		t := l.t + 1 + int64(r.intn(2)) // sshd logs the failure a moment after the connection opens
		pid += 1 + r.intn(40)
		if user == "root" {
			w(fmt.Sprintf("%s web-7 sshd[%d]: Failed password for root from %s port %d ssh2", syslogTime(t), pid, eip, l.natPort))
		} else {
			w(fmt.Sprintf("%s web-7 sshd[%d]: Failed password for invalid user %s from %s port %d ssh2", syslogTime(t), pid, user, eip, l.natPort))
		}
	}
	w("",
		fmt.Sprintf("In all we counted %d connection attempts to port 22 of our sensors and %d", len(sweep), len(brute)),
		"failed logins on the server above. Please make it stop.",
		"",
		"Regards,",
		"Network Abuse Desk",
		">>>",
		"",
		"---End of forwarded report(s)---")
	return b.String(), caseNo
}

// syslogTime formats Unix seconds as a syslog timestamp in CET: "Nov  1 12:02:31".
func syslogTime(t int64) string { return time.Unix(t, 0).In(cet).Format(time.Stamp) }

// abuseReportEML wraps the text into the e-mail a mail client saves: headers,
// and a multipart/alternative body with the text quoted-printable and an HTML
// version.
func abuseReportEML(r *rng, nat *natGateway, text, subject string, sent time.Time) []byte {
	acc := nat.eni.vpc.account
	boundary := "----=_Part_" + strconv.Itoa(r.between(100000, 999999)) + "_" + r.hexString(10)
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("Return-Path", "<ec2-abuse@amazon.com>")
	h("Received", "from a27-33.smtp-out.us-west-2.amazonses.com (a27-33.smtp-out.us-west-2.amazonses.com [54.240.27.33]) by mx.nwt.example with ESMTPS id "+r.hexString(12)+"; "+sent.Format(time.RFC1123Z))
	h("Date", sent.Format(time.RFC1123Z))
	h("From", `"Amazon EC2 Abuse" <ec2-abuse@amazon.com>`)
	h("Reply-To", "ec2-abuse@amazon.com")
	h("To", "aws-root+"+acc.alias+"@nwt.example")
	h("Subject", subject)
	h("Message-ID", "<0101"+r.hexString(12)+"-"+r.uuid()+"-000000@us-west-2.amazonses.com>")
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n"))) // writes to a bytes.Buffer do not fail
	qp.Close()
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp = quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(abuseReportHTML(text), "\n", "\r\n")))
	qp.Close()
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes()
}

// abuseReportHTML renders the text as the HTML part: paragraphs, and the log
// extract in a <pre>.
func abuseReportHTML(text string) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	var b strings.Builder
	b.WriteString("<html><body>\n")
	in := false
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		switch {
		case l == "<<<":
			b.WriteString("<pre>&lt;&lt;&lt;\n")
			in = true
		case l == ">>>":
			b.WriteString("&gt;&gt;&gt;</pre>\n")
			in = false
		case in:
			b.WriteString(esc.Replace(l) + "\n")
		case l == "":
			b.WriteString("<br>\n")
		default:
			b.WriteString("<p>" + esc.Replace(l) + "</p>\n")
		}
	}
	b.WriteString("</body></html>\n")
	return b.String()
}
