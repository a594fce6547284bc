package investigate

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/exec"
	"github.com/vigil-dev/vigil/internal/query/plan"
	"github.com/vigil-dev/vigil/internal/record"
)

// The Logs Insights queries. AWS's guidance for an abuse report is to open
// CloudWatch Logs Insights on the VPC flow logs and adapt a sample query; the
// report gives the user that query, a better one, and one aimed at the reported
// hosts — each as text to paste into the console, and with the answer vigil's
// own query engine gives on the same logs, so the two can be compared.

// querySpec is one query to propose.
type querySpec struct {
	title, why, text string
}

// queryPlan is a planned query.
type queryPlan struct {
	spec     querySpec
	plan     *plan.Plan
	eval     query.EvalOptions
	warnings []string
	err      error
}

// maxQueryHosts bounds the addresses written into a query's in-list.
const maxQueryHosts = 50

func quoteList(as []netip.Addr) string {
	var b strings.Builder
	b.WriteString("[")
	for i, a := range as {
		if i == maxQueryHosts {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + a.String() + "'")
	}
	b.WriteString("]")
	return b.String()
}

// vpcRange guesses the VPC's range from a private address: the /16 it is in
// (what AWS's wizard proposes), which the user should check.
func vpcRange(a netip.Addr) netip.Prefix {
	if a.Is4() {
		p, _ := a.Prefix(16)
		return p
	}
	p, _ := a.Prefix(56)
	return p
}

// buildQueries writes the queries for what the report is about.
func buildQueries(sc *scope, hosts []netip.Addr, ports []uint16) []querySpec {
	var specs []querySpec
	portList := ""
	if len(ports) > 0 {
		var ps []string
		for i, p := range ports {
			if i == 20 {
				break
			}
			ps = append(ps, strconv.Itoa(int(p)))
		}
		portList = "[" + strings.Join(ps, ", ") + "]"
	}
	switch sc.mode {
	case modeNAT:
		nat := sc.natIPs[0]
		natCond := "dstAddr = '" + nat.String() + "'"
		srcNot := "srcAddr != '" + nat.String() + "'"
		if len(sc.natIPs) > 1 {
			natCond = "dstAddr in " + quoteList(sc.natIPs)
			srcNot = "srcAddr not in " + quoteList(sc.natIPs)
		}
		vpc := vpcRange(nat)
		prefix := nat.String()
		if nat.Is4() {
			b := nat.As4()
			prefix = fmt.Sprintf("%d.%d.", b[0], b[1])
		}
		specs = append(specs, querySpec{
			title: "AWS's sample query: traffic to the NAT gateway by source and port",
			why: "The query AWS's guidance and blogs give for a NAT gateway's abuse report (with straight quotes). " +
				"Note that like is a substring test: '" + prefix + "' also matches addresses such as 1" + prefix + "…, " +
				"and it counts records, not ports: a busy server ranks above a scanner.",
			text: "filter (dstAddr like '" + nat.String() + "' and srcAddr like '" + prefix + "')\n" +
				"| stats count(dstPort) as portsScanned by srcAddr, dstAddr, dstPort\n" +
				"| sort portsScanned desc\n" +
				"| limit 100",
		})
		hostsCol := ", count_distinct(pktDstAddr) as distinctHosts"
		specs = append(specs, querySpec{
			title: "Better: distinct ports and hosts per source behind the NAT gateway",
			why: "Exact address tests, the VPC range (" + vpc.String() + " is guessed from the gateway's address: use your VPC's CIDR), " +
				"and count_distinct, which ranks a scanner above a busy server. distinctHosts needs pkt-dstaddr in the flow-log format; " +
				"with AWS's default format it is 0.",
			text: "filter " + natCond + " and isIpv4InSubnet(srcAddr, '" + vpc.String() + "')\n" +
				"| stats count_distinct(dstPort) as distinctPorts" + hostsCol + ", count(*) as flows by srcAddr\n" +
				"| sort distinctHosts desc, distinctPorts desc, flows desc\n" +
				"| limit 20",
		})
		if len(hosts) > 0 {
			cond := "(dstAddr in " + quoteList(hosts) + " or pktDstAddr in " + quoteList(hosts) + ")"
			portCond := ""
			if portList != "" {
				portCond = "dstPort in " + portList + " and "
			}
			specs = append(specs, querySpec{
				title: "Who reached the reported hosts",
				why: "Records whose destination (or packet-level destination, behind the NAT gateway) is a host the report names, " +
					"by source and interface: the instance's own interface shows the real destination in any format.",
				text: "filter " + portCond + "isIpv4InSubnet(srcAddr, '" + vpc.String() + "') and " + srcNot + " and " + cond + "\n" +
					"| stats count(*) as flows, count_distinct(dstPort) as ports, min(@timestamp) as first, max(@timestamp) as last by srcAddr, interfaceId\n" +
					"| sort flows desc\n" +
					"| limit 20",
			})
		} else if portList != "" {
			specs = append(specs, querySpec{
				title: "Sources behind the NAT gateway on the reported ports",
				why:   "The report names no destination hosts; this counts each source's flows through the gateway on the reported ports.",
				text: "filter " + natCond + " and isIpv4InSubnet(srcAddr, '" + vpc.String() + "') and dstPort in " + portList + "\n" +
					"| stats count(*) as flows, count_distinct(pktDstAddr) as distinctHosts by srcAddr, dstPort\n" +
					"| sort flows desc\n" +
					"| limit 20",
			})
		}
	case modeInstance:
		var own []netip.Addr
		for a := range sc.ownIPs {
			own = append(own, a)
		}
		sortAddrs(own)
		if len(own) == 0 {
			return nil
		}
		cond := "srcAddr = '" + own[0].String() + "'"
		if len(own) > 1 {
			cond = "srcAddr in " + quoteList(own)
		}
		specs = append(specs, querySpec{
			title: "What the instance sent, per 5 minutes",
			why:   "Its flows to addresses outside private ranges, with distinct destinations and ports: a scan or a flood stands out.",
			text: "filter " + cond + " and not isIpv4InSubnet(dstAddr, '10.0.0.0/8') and not isIpv4InSubnet(dstAddr, '172.16.0.0/12') and not isIpv4InSubnet(dstAddr, '192.168.0.0/16')\n" +
				"| stats count(*) as flows, count_distinct(dstAddr) as distinctHosts, count_distinct(dstPort) as distinctPorts, sum(packets) as packets by bin(5m)\n" +
				"| sort distinctHosts desc\n" +
				"| limit 50",
		})
		if len(hosts) > 0 {
			specs = append(specs, querySpec{
				title: "Its flows to the reported hosts",
				why:   "Records from the instance to the hosts the report names.",
				text: "filter " + cond + " and dstAddr in " + quoteList(hosts) + "\n" +
					"| stats count(*) as flows, min(@timestamp) as first, max(@timestamp) as last by dstAddr, dstPort\n" +
					"| sort flows desc\n" +
					"| limit 50",
			})
		}
	default:
		if len(hosts) == 0 {
			return nil
		}
		specs = append(specs, querySpec{
			title: "Who reached the reported hosts",
			why:   "The reported address is not in the inventory: this finds any private source whose records show a reported host as destination.",
			text: "filter (isIpv4InSubnet(srcAddr, '10.0.0.0/8') or isIpv4InSubnet(srcAddr, '172.16.0.0/12') or isIpv4InSubnet(srcAddr, '192.168.0.0/16'))" +
				" and (dstAddr in " + quoteList(hosts) + " or pktDstAddr in " + quoteList(hosts) + ")\n" +
				"| stats count(*) as flows, count_distinct(dstPort) as ports, min(@timestamp) as first, max(@timestamp) as last by srcAddr, interfaceId\n" +
				"| sort flows desc\n" +
				"| limit 20",
		})
	}
	return specs
}

// planQueries parses, checks and plans the queries over the read window.
func planQueries(specs []querySpec, w TimeRange) []*queryPlan {
	var out []*queryPlan
	for _, s := range specs {
		qp := &queryPlan{spec: s, eval: query.EvalOptions{Now: w.Until, Start: w.From, End: w.Until}}
		chk, warns, err := query.ParseAndCheck(s.text, []record.Kind{record.KindFlow})
		for _, wn := range warns {
			qp.warnings = append(qp.warnings, wn.String())
		}
		if err == nil {
			qp.plan, err = plan.Build(chk, plan.Options{Since: w.From, Until: w.Until})
		}
		qp.err = err
		out = append(out, qp)
	}
	return out
}

// maxQueryRows bounds the rows of each query shown in the report.
const maxQueryRows = 15

// queryResults renders the queries and their answers.
func queryResults(specs []querySpec, plans []*queryPlan, results []*exec.Result) []InsightQuery {
	out := []InsightQuery{}
	for i, s := range specs {
		q := InsightQuery{Title: s.title, Why: s.why, Query: s.text}
		if i < len(plans) {
			p := plans[i]
			q.Warnings = p.warnings
			switch {
			case p.err != nil:
				q.Error = p.err.Error()
			case results[i] != nil:
				r := results[i]
				q.Columns = r.Columns
				q.Total = int64(len(r.Rows))
				for j, row := range r.Rows {
					if j == maxQueryRows {
						break
					}
					cells := make([]string, len(row))
					for k, v := range row {
						if !v.IsMissing() {
							cells[k] = query.FormatValue(v)
						}
					}
					q.Rows = append(q.Rows, cells)
				}
			}
		}
		out = append(out, q)
	}
	return out
}
