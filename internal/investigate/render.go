package investigate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/inventory"
)

// Format is an output format of the investigation.
type Format string

// The formats.
const (
	Markdown Format = "markdown"
	JSON     Format = "json"
	HTML     Format = "html"
)

// ParseFormat reads -o's value.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "markdown", "md", "":
		return Markdown, nil
	case "json":
		return JSON, nil
	case "html":
		return HTML, nil
	}
	return "", fmt.Errorf("unknown output format %q: want markdown, json or html", s)
}

// Write renders the result. Everything that comes from a report, a log or a tag is
// escaped for the medium: Markdown text is escaped and log lines go into code
// blocks, HTML goes through html/template.
func (r *Result) Write(w io.Writer, f Format) error {
	switch f {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(true)
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	case HTML:
		return writeHTML(w, r)
	}
	bw := bufio.NewWriter(w)
	writeMarkdown(bw, r)
	return bw.Flush()
}

// mdEscape escapes text for Markdown prose and table cells: Markdown's
// punctuation, HTML's angle brackets and ampersands, pipes and line breaks.
func mdEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '\\', '`', '*', '_', '[', ']', '#', '|', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// fence returns a code fence longer than any run of backticks in text.
func fence(text string) string {
	n, run := 3, 0
	for _, c := range text {
		if c == '`' {
			run++
			if run >= n {
				n = run + 1
			}
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", n)
}

// code renders text as an inline code span (for identifiers in prose).
func code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	f := "`"
	if strings.Contains(s, "`") {
		f = "`` "
		return f + s + " ``"
	}
	return f + s + f
}

func (t Target) describe() string {
	var b strings.Builder
	switch t.Kind {
	case string(inventory.KindNATGateway):
		b.WriteString("NAT gateway ")
	case string(inventory.KindInstance):
		b.WriteString("instance ")
	case string(inventory.KindLoadBalancer):
		b.WriteString("load balancer ")
	case string(inventory.KindEIP):
		b.WriteString("Elastic IP ")
	case "unknown":
		b.WriteString("unknown owner")
	default:
		b.WriteString(t.Kind + " ")
	}
	if t.ID != "" {
		b.WriteString(code(t.ID))
	}
	if t.Name != "" {
		b.WriteString(" (" + mdEscape(t.Name) + ")")
	}
	if t.VPCID != "" {
		b.WriteString(" in " + code(t.VPCID))
	}
	if t.AccountID != "" {
		b.WriteString(", account " + code(t.AccountID))
	}
	if len(t.PrivateIPs) > 0 {
		b.WriteString(", private address " + code(joinAddrs(t.PrivateIPs, 4)))
	}
	if len(t.Interfaces) > 0 {
		b.WriteString(", interface " + code(strings.Join(t.Interfaces, ", ")))
	}
	if t.Note != "" {
		b.WriteString(" — " + mdEscape(t.Note))
	}
	return b.String()
}

func span(r TimeRange) string {
	if r.IsZero() {
		return "-"
	}
	until := r.Until.UTC().Format("15:04:05")
	if r.Until.UTC().Format("2006-01-02") != r.From.UTC().Format("2006-01-02") {
		until = r.Until.UTC().Format("2006-01-02 15:04:05")
	}
	return r.From.UTC().Format("2006-01-02 15:04:05") + " – " + until + " UTC"
}

func addrsText(as []netip.Addr, n int) string {
	if len(as) == 0 {
		return "-"
	}
	return code(joinAddrs(as, n))
}

func writeMarkdown(w *bufio.Writer, r *Result) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	var ips []string
	for _, t := range r.Targets {
		ips = append(ips, t.IP.String())
	}
	p("# Abuse report: %s — %s\n\n", strings.Join(ips, ", "), r.Kind.Title())
	p("**Verdict.** %s\n\n", mdEscape(r.Verdict))

	p("| | |\n|---|---|\n")
	if rep := r.Report; rep != nil {
		what := code(rep.Name)
		if rep.Subject != "" {
			what += " — " + mdEscape(rep.Subject)
		}
		p("| Report | %s |\n", what)
		if rep.CaseNumber != "" || rep.AccountID != "" || rep.Region != "" {
			p("| Case, account, region | %s, %s, %s |\n", code(nonEmpty(rep.CaseNumber, "-")), code(nonEmpty(rep.AccountID, "-")), code(nonEmpty(rep.Region, "-")))
		}
	}
	for _, t := range r.Targets {
		p("| Reported address %s | %s |\n", code(t.IP.String()), t.describe())
	}
	kinds := r.Kind.Title()
	if rep := r.Report; rep != nil && len(rep.Activities) > 1 {
		var also []string
		for _, a := range rep.Activities[1:] {
			if a.Kind != r.Kind {
				also = append(also, a.Kind.Title())
			}
		}
		if len(also) > 0 {
			kinds += " (also: " + strings.Join(also, ", ") + ")"
		}
	}
	p("| Activity | %s |\n", kinds)
	p("| Reported window | %s (%s) |\n", span(r.Window), mdEscape(nonEmpty(r.Window.Basis, "-")))
	p("| Logs read | %s; %d records from %d files in %.2fs (files whose key dates fall outside the window are not read) |\n",
		span(r.ReadWindow), r.Stats.Records, r.Stats.Objects, r.Stats.Seconds)
	p("| Confidence | **%s** |\n\n", r.Confidence)

	if len(r.Statements) > 0 {
		p("## What the logs can and cannot show\n\n")
		for _, s := range r.Statements {
			p("- %s\n", mdEscape(s))
		}
		p("\n")
	}

	p("## Candidates\n\n")
	if len(r.Candidates) == 0 {
		p("None.\n\n")
	} else {
		p("| # | source | instance | confidence | score | to reported hosts | reported hosts | on reported ports | distinct hosts / ports |\n")
		p("|---:|---|---|---|---:|---:|---:|---:|---|\n")
		for _, c := range r.Candidates {
			inst := "-"
			if c.Instance != nil {
				inst = code(c.Instance.ID)
				if c.Instance.Name != "" {
					inst += " " + mdEscape(c.Instance.Name)
				}
			}
			e := c.Evidence
			p("| %d | %s | %s | %s | %.0f | %d | %d | %d | %s / %d |\n", c.Rank, code(c.Addr.String()), inst, c.Confidence, c.Score,
				e.ToReported, e.ReportedHost, e.PortRecords, distinctHosts(e), e.DistinctPorts)
		}
		p("\n")
		for _, c := range r.Candidates {
			writeCandidate(w, &c)
		}
	}

	rt := r.ReportedTraffic
	nat := false
	for _, t := range r.Targets {
		nat = nat || t.Kind == string(inventory.KindNATGateway)
	}
	if nat {
		p("## What left the reported address for the reported hosts\n\n")
		p("%d records from the NAT gateway to the reported hosts (its outside legs)", rt.Records)
		if rt.ByPortRecords > 0 {
			p(", %d more to hosts reached from the source ports the complainant logged", rt.ByPortRecords)
		}
		p("; %d outside legs in all in the window.\n\n", rt.NATOutsideLegs)
		if len(rt.HostsSeen) > 0 {
			p("- Reported hosts seen in the logs: %s\n", addrsText(rt.HostsSeen, 12))
		}
		if len(rt.HostsNotSeen) > 0 {
			p("- Reported hosts not seen: %s\n", addrsText(rt.HostsNotSeen, 12))
		}
		for _, h := range rt.PortHosts {
			p("- Reached from a logged source port: %s (%d records)\n", code(h.Host.String()), h.Count)
		}
		if len(rt.Sample) > 0 {
			p("\n")
			writeSample(w, rt.Sample)
		}
		p("\n")
	}

	p("## Findings of vigil's detections in the same window\n\n")
	if len(r.Findings) == 0 {
		if r.Stats.DetectionsOn {
			p("None.\n\n")
		} else {
			p("Detections were not run.\n\n")
		}
	} else {
		p("| severity | type | resource | first seen | last seen | candidate | title |\n|---|---|---|---|---|---:|---|\n")
		for _, f := range r.Findings {
			cand := "-"
			if f.Candidate > 0 {
				cand = fmt.Sprint(f.Candidate)
			}
			p("| %s | %s | %s | %s | %s | %s | %s |\n", f.Severity, code(f.Type), mdEscape(f.Resource), formatWhen(f.FirstSeen), formatWhen(f.LastSeen), cand, mdEscape(f.Title))
		}
		if r.FindingsTotal > len(r.Findings) {
			p("\n%d more findings in the window are not listed (`vigil scan --since … --until …` lists them all).\n", r.FindingsTotal-len(r.Findings))
		}
		p("\n")
	}

	if len(r.Queries) > 0 {
		p("## Check it yourself in CloudWatch Logs Insights\n\n")
		p("Open CloudWatch → Logs Insights, choose the flow-log group, set the time range to %s, and run:\n\n", span(r.ReadWindow))
		for i, q := range r.Queries {
			p("### %d. %s\n\n%s\n\n", i+1, mdEscape(q.Title), mdEscape(q.Why))
			f := fence(q.Query)
			p("%s\n%s\n%s\n\n", f, q.Query, f)
			switch {
			case q.Error != "":
				p("vigil could not run it: %s\n\n", mdEscape(q.Error))
			case len(q.Columns) > 0:
				p("vigil's answer on these logs (%d rows", q.Total)
				if q.Total > int64(len(q.Rows)) {
					p(", first %d shown", len(q.Rows))
				}
				p("):\n\n")
				p("| %s |\n|%s\n", strings.Join(escapeAll(q.Columns), " | "), strings.Repeat("---|", len(q.Columns)))
				for _, row := range q.Rows {
					p("| %s |\n", strings.Join(escapeAll(row), " | "))
				}
				p("\n")
			}
		}
	}

	p("## Containment\n\n")
	for i, s := range r.Containment {
		p("%d. **%s**", i+1, mdEscape(s.Title))
		if s.Why != "" {
			p(" %s", mdEscape(s.Why))
		}
		p("\n")
		if len(s.Commands) > 0 {
			text := strings.Join(s.Commands, "\n")
			f := fence(text)
			p("\n   %ssh\n", f)
			for _, c := range s.Commands {
				p("   %s\n", c)
			}
			p("   %s\n", f)
		}
		p("\n")
	}

	p("## Draft reply to AWS Trust & Safety\n\n")
	f := fence(r.Reply)
	p("%stext\n%s\n%s\n\n", f, strings.TrimRight(r.Reply, "\n"), f)

	if rep := r.Report; rep != nil {
		p("## The report as read\n\n")
		if rep.Zone != "" {
			p("- Times without a zone: %s\n", mdEscape(rep.Zone))
		}
		if len(rep.Destinations) > 0 {
			p("- Destinations in the log lines: %s\n", addrsText(rep.Destinations, 12))
		}
		if len(rep.Mentioned) > 0 {
			p("- Other addresses the complainant names: %s\n", addrsText(rep.Mentioned, 12))
		}
		if len(rep.DstPorts) > 0 {
			var ps []string
			for _, pc := range rep.DstPorts {
				ps = append(ps, fmt.Sprintf("%d (%d lines)", pc.Port, pc.Count))
			}
			p("- Destination ports: %s\n", strings.Join(ps, ", "))
		}
		for _, m := range rep.Missing {
			p("- Not in the report: %s\n", mdEscape(m))
		}
		for _, n := range rep.Notes {
			p("- %s\n", mdEscape(n))
		}
		p("\n")
		if len(rep.Lines) > 0 {
			p("| line | time (UTC) | format | source | destination | proto |\n|---:|---|---|---|---|---|\n")
			for i, ll := range rep.Lines {
				if i == 30 {
					p("| … | %d more lines | | | | |\n", len(rep.Lines)-30)
					break
				}
				p("| %d | %s | %s | %s | %s | %s |\n", ll.Line, formatWhen(ll.Time), mdEscape(ll.Format), code(hostPort(ll.Src, ll.SrcPort)), code(hostPort(ll.Dst, ll.DstPort)), ll.Proto)
			}
			p("\n")
		}
		if len(rep.Problems) > 0 {
			p("Lines that could not be read fully:\n\n")
			for _, pr := range rep.Problems {
				p("- line %d: %s — %s\n", pr.Line, mdEscape(pr.Why), code(clip(pr.Text, 160)))
			}
			p("\n")
		}
	}
}

// distinctHosts is the distinct-host count, or "n/a" when no record showed the
// candidate's destinations (NAT inside legs without pkt-dstaddr only).
func distinctHosts(e Evidence) string {
	if e.DistinctHosts == 0 && e.Records > 0 {
		return "n/a"
	}
	return fmt.Sprint(e.DistinctHosts)
}

func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = mdEscape(s)
	}
	return out
}

func hostPort(a netip.Addr, port uint16) string {
	if !a.IsValid() {
		return "-"
	}
	if port == 0 {
		return a.String()
	}
	return netip.AddrPortFrom(a, port).String()
}

func writeCandidate(w *bufio.Writer, c *Candidate) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("### %d. %s — %s (score %.0f)\n\n", c.Rank, mdEscape(c.describe()), c.Confidence, c.Score)
	for _, why := range c.Reasons {
		p("- %s\n", mdEscape(why))
	}
	p("\n")
	if in := c.Instance; in != nil {
		p("| instance | %s |\n|---|---|\n", code(in.ID))
		rows := [][2]string{
			{"Name", mdEscape(in.Name)}, {"AMI", code(in.ImageID)}, {"type", mdEscape(in.InstanceType)}, {"state", mdEscape(in.State)},
			{"launched", formatWhen(in.LaunchTime)}, {"account, region", code(in.AccountID) + ", " + code(in.Region)},
			{"VPC, subnet", code(in.VPCID) + ", " + code(in.SubnetID)}, {"private addresses", addrsText(in.PrivateIPs, 6)},
			{"public addresses", addrsText(in.PublicIPs, 6)}, {"reaches the internet as", addrsText(in.EgressIPs, 6)},
			{"security groups", mdEscape(strings.Join(in.SecurityGroups, ", "))}, {"instance profile", code(in.IAMRole)},
			{"platform", mdEscape(in.Platform)}, {"interfaces", code(strings.Join(in.Interfaces, ", "))},
		}
		for _, r := range rows {
			if r[1] != "" && r[1] != "-" && r[1] != "``" {
				p("| %s | %s |\n", r[0], r[1])
			}
		}
		p("\n")
	}
	e := c.Evidence
	p("Records towards the internet: %d on its own interface, %d NAT inside legs; %d packets, %d bytes", e.OwnRecords, e.InsideLegs, e.Packets, e.Bytes)
	if !e.First.IsZero() {
		p(", from %s to %s", formatWhen(e.First), formatWhen(e.Last))
	}
	p(".\n\n")
	if len(e.TopPorts) > 0 {
		var ps []string
		for _, pc := range e.TopPorts {
			ps = append(ps, fmt.Sprintf("%d (%d)", pc.Port, pc.Count))
		}
		p("Ports contacted (records): %s\n\n", strings.Join(ps, ", "))
	}
	if len(e.TopHosts) > 0 {
		var hs []string
		for _, h := range e.TopHosts {
			s := fmt.Sprintf("%s (%d)", code(h.Host.String()), h.Count)
			if h.Reported {
				s += " reported"
			}
			hs = append(hs, s)
		}
		approx := ""
		if e.DistinctApprox {
			approx = " (estimated)"
		}
		p("Hosts contacted, most first: %s — %d distinct hosts and %d distinct ports in all%s\n\n", strings.Join(hs, ", "), e.DistinctHosts, e.DistinctPorts, approx)
	}
	if len(e.Timeline) > 0 {
		p("Timeline (UTC, per %s): its records to reported hosts and on reported ports; what the NAT gateway sent to reported hosts.\n\n", e.TimelineStep)
		p("| time | to reported hosts | on reported ports | NAT → reported hosts |\n|---|---:|---:|---:|\n")
		for _, m := range e.Timeline {
			p("| %s | %d | %d | %d |\n", m.Time.Format("2006-01-02 15:04"), m.Matched, m.PortRecords, m.Reported)
		}
		p("\n")
	}
	if len(e.Sample) > 0 {
		p("Flow records (a sample of the strongest evidence, in time order):\n\n")
		writeSample(w, e.Sample)
		p("\n")
	}
}

// writeSample writes flow records as a code block: the raw line when kept, else
// the fields.
func writeSample(w *bufio.Writer, recs []FlowRecord) {
	var lines []string
	for _, f := range recs {
		l := f.Raw
		if l == "" {
			pkt := ""
			if f.PktDst.IsValid() {
				pkt = " pkt-dst " + f.PktDst.String()
			}
			l = fmt.Sprintf("%s %s %s %s -> %s%s %s %d pkts %d bytes %s",
				f.Start.Format(time.DateTime), f.Interface, f.Protocol, hostPort(f.Src, f.SrcPort), hostPort(f.Dst, f.DstPort), pkt, f.Action, f.Packets, f.Bytes, "")
		}
		lines = append(lines, fmt.Sprintf("# %s, %s, %s\n%s", f.Start.Format(time.DateTime), f.View, f.Why, strings.TrimSpace(l)))
	}
	text := strings.Join(lines, "\n")
	fc := fence(text)
	fmt.Fprintf(w, "%s\n%s\n%s\n", fc, text, fc)
}
