package investigate

import (
	"fmt"
	"html/template"
	"io"
	"net/netip"
	"strings"
)

// The HTML output: one self-contained page (inline CSS, no script), rendered by
// html/template so that every value from a report, a log or a tag is escaped.

var htmlFuncs = template.FuncMap{
	"when":     formatWhen,
	"span":     span,
	"addrs":    func(as []netip.Addr) string { return joinAddrs(as, 12) },
	"hostport": hostPort,
	"title":    func(k Kind) string { return k.Title() },
	"join":     strings.Join,
	"score":    func(f float64) string { return fmt.Sprintf("%.0f", f) },
	"inc":      func(i int) int { return i + 1 },
	"describe": func(c Candidate) string { return c.describe() },
	"sample": func(f FlowRecord) string {
		if f.Raw != "" {
			return f.Raw
		}
		return fmt.Sprintf("%s %s %s %s -> %s %s %d pkts %d bytes", formatWhen(f.Start), f.Interface, f.Protocol,
			hostPort(f.Src, f.SrcPort), hostPort(f.Dst, f.DstPort), f.Action, f.Packets, f.Bytes)
	},
}

var pageTemplate = template.Must(template.New("page").Funcs(htmlFuncs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Abuse report: {{range $i, $t := .Targets}}{{if $i}}, {{end}}{{$t.IP}}{{end}} — {{title .Kind}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:13px}
.high{color:#b00020;font-weight:bold}.medium{color:#b36b00;font-weight:bold}.low{color:#555}.none{color:#555}
.verdict{font-size:1.1em;border-left:4px solid #888;padding-left:.8em}
</style>
</head>
<body>
<h1>Abuse report: {{range $i, $t := .Targets}}{{if $i}}, {{end}}{{$t.IP}}{{end}} — {{title .Kind}}</h1>
<p class="verdict"><strong>Verdict.</strong> {{.Verdict}}</p>
<table>
{{with .Report}}<tr><th>Report</th><td>{{.Name}}{{if .Subject}} — {{.Subject}}{{end}}</td></tr>
<tr><th>Case, account, region</th><td>{{.CaseNumber}} {{.AccountID}} {{.Region}}</td></tr>{{end}}
{{range .Targets}}<tr><th>Reported address {{.IP}}</th><td>{{.Kind}} {{.ID}}{{if .Name}} ({{.Name}}){{end}}{{if .VPCID}} in {{.VPCID}}{{end}}{{if .PrivateIPs}}, private address {{addrs .PrivateIPs}}{{end}}{{if .Interfaces}}, interface {{join .Interfaces ", "}}{{end}}{{if .Note}} — {{.Note}}{{end}}</td></tr>
{{end}}<tr><th>Reported window</th><td>{{span .Window}} ({{.Window.Basis}})</td></tr>
<tr><th>Logs read</th><td>{{span .ReadWindow}}; {{.Stats.Records}} records from {{.Stats.Objects}} files (files whose key dates fall outside the window are not read)</td></tr>
<tr><th>Confidence</th><td class="{{.Confidence}}">{{.Confidence}}</td></tr>
</table>
{{if .Statements}}<h2>What the logs can and cannot show</h2><ul>{{range .Statements}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Candidates</h2>
{{if not .Candidates}}<p>None.</p>{{else}}
<table><tr><th>#</th><th>source</th><th>instance</th><th>confidence</th><th>score</th><th>to reported hosts</th><th>reported hosts</th><th>on reported ports</th><th>distinct hosts / ports</th></tr>
{{range .Candidates}}<tr><td>{{.Rank}}</td><td>{{.Addr}}</td><td>{{with .Instance}}{{.ID}} {{.Name}}{{end}}</td><td class="{{.Confidence}}">{{.Confidence}}</td><td>{{score .Score}}</td><td>{{.Evidence.ToReported}}</td><td>{{.Evidence.ReportedHost}}</td><td>{{.Evidence.PortRecords}}</td><td>{{.Evidence.DistinctHosts}} / {{.Evidence.DistinctPorts}}</td></tr>
{{end}}</table>
{{range .Candidates}}
<h3>{{.Rank}}. {{describe .}} — <span class="{{.Confidence}}">{{.Confidence}}</span> (score {{score .Score}})</h3>
<ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
{{with .Instance}}<table>
<tr><th>instance</th><td>{{.ID}}</td></tr><tr><th>Name</th><td>{{.Name}}</td></tr><tr><th>AMI</th><td>{{.ImageID}}</td></tr>
<tr><th>type</th><td>{{.InstanceType}}</td></tr><tr><th>launched</th><td>{{when .LaunchTime}}</td></tr>
<tr><th>VPC, subnet</th><td>{{.VPCID}}, {{.SubnetID}}</td></tr><tr><th>private addresses</th><td>{{addrs .PrivateIPs}}</td></tr>
<tr><th>reaches the internet as</th><td>{{addrs .EgressIPs}}</td></tr><tr><th>security groups</th><td>{{join .SecurityGroups ", "}}</td></tr>
<tr><th>instance profile</th><td>{{.IAMRole}}</td></tr></table>{{end}}
{{with .Evidence}}<p>Records towards the internet: {{.OwnRecords}} on its own interface, {{.InsideLegs}} NAT inside legs; {{.Packets}} packets, {{.Bytes}} bytes; {{.DistinctHosts}} distinct hosts, {{.DistinctPorts}} distinct ports.</p>
{{if .TopPorts}}<p>Ports contacted: {{range $i, $p := .TopPorts}}{{if $i}}, {{end}}{{$p.Port}} ({{$p.Count}}){{end}}</p>{{end}}
{{if .TopHosts}}<p>Hosts contacted: {{range $i, $h := .TopHosts}}{{if $i}}, {{end}}{{$h.Host}} ({{$h.Count}}){{if $h.Reported}} reported{{end}}{{end}}</p>{{end}}
{{if .Timeline}}<table><tr><th>time (per {{.TimelineStep}})</th><th>to reported hosts</th><th>on reported ports</th><th>NAT → reported hosts</th></tr>
{{range .Timeline}}<tr><td>{{when .Time}}</td><td>{{.Matched}}</td><td>{{.PortRecords}}</td><td>{{.Reported}}</td></tr>{{end}}</table>{{end}}
{{if .Sample}}<pre>{{range .Sample}}# {{when .Start}}, {{.View}}, {{.Why}}
{{sample .}}
{{end}}</pre>{{end}}{{end}}
{{end}}{{end}}
{{with .ReportedTraffic}}{{if or .Records .NATOutsideLegs}}<h2>What left the reported address for the reported hosts</h2>
<p>{{.Records}} records from the NAT gateway to the reported hosts (its outside legs){{if .ByPortRecords}}, {{.ByPortRecords}} more to hosts reached from the source ports the complainant logged{{end}}; {{.NATOutsideLegs}} outside legs in all in the window.</p>
<ul>{{if .HostsSeen}}<li>Reported hosts seen in the logs: {{addrs .HostsSeen}}</li>{{end}}{{if .HostsNotSeen}}<li>Reported hosts not seen: {{addrs .HostsNotSeen}}</li>{{end}}</ul>
{{if .Sample}}<pre>{{range .Sample}}# {{when .Start}}, {{.View}}, {{.Why}}
{{sample .}}
{{end}}</pre>{{end}}{{end}}{{end}}
<h2>Findings of vigil's detections in the same window</h2>
{{if not .Findings}}<p>None.</p>{{else}}<table><tr><th>severity</th><th>type</th><th>resource</th><th>first seen</th><th>last seen</th><th>candidate</th><th>title</th></tr>
{{range .Findings}}<tr><td>{{.Severity}}</td><td>{{.Type}}</td><td>{{.Resource}}</td><td>{{when .FirstSeen}}</td><td>{{when .LastSeen}}</td><td>{{if .Candidate}}{{.Candidate}}{{end}}</td><td>{{.Title}}</td></tr>
{{end}}</table>{{end}}
{{if .Queries}}<h2>Check it yourself in CloudWatch Logs Insights</h2>
<p>Time range: {{span .ReadWindow}}.</p>
{{range $i, $q := .Queries}}<h3>{{inc $i}}. {{$q.Title}}</h3><p>{{$q.Why}}</p><pre>{{$q.Query}}</pre>
{{if $q.Error}}<p>vigil could not run it: {{$q.Error}}</p>{{else if $q.Columns}}<p>vigil's answer on these logs ({{$q.Total}} rows):</p>
<table><tr>{{range $q.Columns}}<th>{{.}}</th>{{end}}</tr>{{range $q.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>{{end}}
{{end}}{{end}}
<h2>Containment</h2>
<ol>{{range .Containment}}<li><strong>{{.Title}}</strong> {{.Why}}{{if .Commands}}<pre>{{join .Commands "\n"}}</pre>{{end}}</li>{{end}}</ol>
<h2>Draft reply to AWS Trust &amp; Safety</h2>
<pre>{{.Reply}}</pre>
{{with .Report}}<h2>The report as read</h2>
<ul>{{if .Zone}}<li>Times without a zone: {{.Zone}}</li>{{end}}{{range .Missing}}<li>Not in the report: {{.}}</li>{{end}}{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
{{if .Lines}}<table><tr><th>line</th><th>time (UTC)</th><th>format</th><th>source</th><th>destination</th></tr>
{{range .Lines}}<tr><td>{{.Line}}</td><td>{{when .Time}}</td><td>{{.Format}}</td><td>{{hostport .Src .SrcPort}}</td><td>{{hostport .Dst .DstPort}}</td></tr>{{end}}</table>{{end}}
{{if .Problems}}<p>Lines that could not be read fully:</p><ul>{{range .Problems}}<li>line {{.Line}}: {{.Why}} — <code>{{.Text}}</code></li>{{end}}</ul>{{end}}
{{end}}
</body>
</html>
`))

func writeHTML(w io.Writer, r *Result) error {
	if err := pageTemplate.Execute(w, r); err != nil {
		return fmt.Errorf("write HTML: %w", err)
	}
	return nil
}
