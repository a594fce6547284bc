package simulate

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLabelsEvidence reads labels.json and checks, for every finding it
// expects, that the logs hold the evidence between firstSeen and lastSeen —
// read back from the files, not from the simulator's memory.
func TestLabelsEvidence(t *testing.T) {
	dir := defaultCorpus(t)
	l, err := ReadLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	fl := readFlows(t, dir)
	dns := readDNS(t, dir)
	trail := readTrail(t, dir)
	inv := readInventory(t, dir)
	start, _ := time.Parse(time.RFC3339, l.Start)
	end, _ := time.Parse(time.RFC3339, l.End)
	if l.Seed != 1 || !start.Equal(testConfig(dir).Start) || end.Sub(start) != time.Hour {
		t.Fatalf("labels header: seed %d, %s–%s", l.Seed, l.Start, l.End)
	}
	if l.Records.Flow != int64(len(fl.recs)) || l.Records.DNS != int64(len(dns)) || l.Records.CloudTrail != int64(len(trail)) {
		t.Errorf("labels count %+v records; the files hold %d/%d/%d", l.Records, len(fl.recs), len(dns), len(trail))
	}

	// Every attack the brief names is labelled.
	types := map[string]bool{}
	for _, e := range l.Expect {
		types[e.Type] = true
	}
	for _, want := range []string{typePortscan, typePortProbe, typeSSHBruteForce, typeRDPBruteForce, typeDoSUDP, typeDoSDNS,
		typeDNSExfiltration, typeBitcoinDNS, "Backdoor:EC2/C&CActivity.B!DNS", "Trojan:EC2/DropPoint!DNS", "Trojan:EC2/BlackholeTraffic!DNS",
		"Trojan:EC2/PhishingDomainRequest!DNS", "Trojan:EC2/DriveBySourceTraffic!DNS", "Trojan:EC2/DGADomainRequest.C!DNS",
		typePortSweep, typeTrailDisabled, typePasswordPolicy, typeRootUsage, typeKali, typeAccountBPA, typeBucketBPA, typeCredentialOutside} {
		if !types[want] {
			t.Errorf("no scenario is labelled %s", want)
		}
	}

	// ENI and private address of each instance, for flow evidence.
	eniOf := map[string]string{}
	for id, in := range inv.instances {
		eniOf[id] = in["NetworkInterfaces"].([]any)[0].(map[string]any)["NetworkInterfaceId"].(string)
	}
	for _, e := range l.Expect {
		t.Run(e.Scenario+"/"+e.Type+"/"+e.Role, func(t *testing.T) {
			first, err1 := time.Parse(time.RFC3339, e.FirstSeen)
			last, err2 := time.Parse(time.RFC3339, e.LastSeen)
			if err1 != nil || err2 != nil || last.Before(first) || first.Before(start) || !last.Before(end) {
				t.Fatalf("evidence span %s–%s is not inside the window", e.FirstSeen, e.LastSeen)
			}
			if e.AccountID == "" || e.Region == "" || e.Severity == "" || e.ResourceType == "" || e.Resource == "" || e.Description == "" {
				t.Fatalf("incomplete label: %+v", e)
			}
			in := func(unix int64) bool { return unix >= first.Unix() && unix <= last.Unix() }
			switch e.ResourceType {
			case "Instance":
				if _, ok := inv.instances[e.Resource]; !ok {
					t.Fatalf("instance %s is not in the inventory", e.Resource)
				}
			case "AccessKey", "S3Bucket":
			default:
				t.Fatalf("resource type %q", e.ResourceType)
			}
			eni := eniOf[e.Resource]
			// flows returns the records on the resource's interface in the span.
			flows := func(match func(r flowRec) bool) []flowRec {
				var out []flowRec
				for _, r := range fl.recs {
					if r.s("interface-id") == eni && r.s("log-status") == "OK" && in(r.n("start")) && match(r) {
						out = append(out, r)
					}
				}
				return out
			}
			distinct := func(rs []flowRec, field string) int {
				m := map[string]bool{}
				for _, r := range rs {
					m[r.s(field)] = true
				}
				return len(m)
			}
			egressTo := func(port string) func(r flowRec) bool {
				return func(r flowRec) bool {
					return inv.instances[e.Resource]["PrivateIpAddress"] == r.s("srcaddr") && r.s("dstaddr") == e.RemoteIP && (port == "" || r.s("dstport") == port)
				}
			}
			ingressFrom := func(port string) func(r flowRec) bool {
				return func(r flowRec) bool {
					return r.s("srcaddr") == e.RemoteIP && (port == "" || r.s("dstport") == port)
				}
			}
			switch e.Type {
			case typePortscan:
				if n := distinct(flows(egressTo("")), "dstport"); n < 1000 {
					t.Errorf("%d distinct ports probed, want the 1,000 of nmap's default scan", n)
				}
			case typePortProbe:
				rs := flows(ingressFrom(""))
				acc := 0
				for _, r := range rs {
					if r.s("action") == "ACCEPT" {
						acc++
						if r.s("dstport") != "9200" {
							t.Errorf("ACCEPTed probe on port %s", r.s("dstport"))
						}
					}
				}
				if len(rs)-acc < 30 || acc == 0 {
					t.Errorf("%d rejected and %d accepted probes from %s", len(rs)-acc, acc, e.RemoteIP)
				}
			case typeSSHBruteForce, typeRDPBruteForce:
				port, min := "22", 140
				if e.Type == typeRDPBruteForce {
					port, min = "3389", 256
				}
				var rs []flowRec
				if e.Role == "ACTOR" {
					rs = flows(egressTo(port))
				} else {
					rs = flows(ingressFrom(port))
				}
				if n := distinct(rs, "srcport"); n < min {
					t.Errorf("%d connections (new source ports) to port %s, want at least %d", n, port, min)
				}
			case typeDoSUDP:
				var pkts int64
				rs := flows(egressTo("80"))
				for _, r := range rs {
					pkts += r.n("packets")
				}
				if pkts != 400_000 || len(rs) > 5 {
					t.Errorf("%d datagrams in %d flows, want 400,000 in a few long flows", pkts, len(rs))
				}
			case typeDoSDNS:
				if n := distinct(flows(egressTo("53")), "srcport"); n < 2000 {
					t.Errorf("%d source ports towards udp/53, want a new one per datagram (at least 2,000)", n)
				}
			case typePortSweep:
				rs := flows(func(r flowRec) bool {
					return r.s("flow-direction") == "egress" && r.s("dstport") == "22" && !strings.HasPrefix(r.s("dstaddr"), "10.")
				})
				if n := distinct(rs, "dstaddr"); n < 250 {
					t.Errorf("%d internet hosts swept on port 22", n)
				}
				if e.PublicIP == "" {
					t.Error("the NAT abuse label does not name the address the internet saw")
				}
			case typeDNSExfiltration:
				names := map[string]bool{}
				for _, q := range dns {
					if q.Srcids["instance"] == e.Resource && strings.HasSuffix(q.QueryName, "."+e.Domain+".") && inTime(q.QueryTimestamp, first, last) {
						if n := len(q.QueryName) - 1; n < 115 || n > 170 {
							t.Errorf("exfiltration name of %d characters: %s", n, q.QueryName)
						}
						names[q.QueryName] = true
					}
				}
				if len(names) < 900 {
					t.Errorf("%d unique names under %s", len(names), e.Domain)
				}
			case typeTrailDisabled, typePasswordPolicy, typeAccountBPA, typeBucketBPA, typeRootUsage, typeKali, typeCredentialOutside:
				event := map[string]string{typeTrailDisabled: "StopLogging", typePasswordPolicy: "UpdateAccountPasswordPolicy",
					typeAccountBPA: "PutAccountPublicAccessBlock", typeBucketBPA: "DeleteBucketPublicAccessBlock"}[e.Type]
				found := 0
				for _, r := range trail {
					tm := r.time()
					if tm.Before(first) || tm.After(last) || r.str("recipientAccountId") != e.AccountID {
						continue
					}
					key := r.str("userIdentity", "accessKeyId")
					switch e.Type {
					case typeBucketBPA:
						if r.str("eventName") == event && r.str("requestParameters", "bucketName") == e.Resource {
							found++
						}
					case typeRootUsage:
						if r.str("userIdentity", "type") == "Root" {
							found++
						}
					case typeKali:
						if key == e.Resource && strings.Contains(r.str("userAgent"), "md/distrib#kali") {
							found++
						}
					case typeCredentialOutside:
						if key == e.Resource && r.str("sourceIPAddress") == e.RemoteIP && r.str("userIdentity", "sessionContext", "ec2RoleDelivery") != "" {
							found++
						}
					default:
						if key == e.Resource && r.str("eventName") == event {
							found++
						}
					}
				}
				if found == 0 {
					t.Errorf("no CloudTrail evidence for %s between %s and %s", e.Resource, e.FirstSeen, e.LastSeen)
				}
				if e.Type == typeCredentialOutside {
					// The same key must also be in ordinary use from the NAT gateway.
					home := 0
					for _, r := range trail {
						if r.str("userIdentity", "accessKeyId") == e.Resource && r.str("sourceIPAddress") != e.RemoteIP {
							home++
						}
					}
					if home == 0 {
						t.Error("the exfiltrated key is never used from its instance's own address")
					}
				}
			default:
				if !strings.Contains(e.Type, "!DNS") && !strings.Contains(e.Type, "DomainRequest.Reputation") {
					t.Fatalf("no evidence check for %s", e.Type)
				}
				n := 0
				for _, q := range dns {
					if q.Srcids["instance"] == e.Resource && q.QueryName == e.Domain+"." && inTime(q.QueryTimestamp, first, last) {
						n++
					}
				}
				if n == 0 {
					t.Errorf("no look-up of %s by %s between %s and %s", e.Domain, e.Resource, e.FirstSeen, e.LastSeen)
				}
			}
		})
	}

	for _, e := range l.ExpectNone {
		if len(e.Types) == 0 || e.Resource == "" || e.FirstSeen == "" {
			t.Errorf("incomplete expectNone: %+v", e)
		}
		switch e.ResourceType {
		case "Instance":
			if _, ok := inv.instances[e.Resource]; !ok {
				t.Errorf("%s: instance %s not in the inventory", e.Scenario, e.Resource)
			}
		case "NetworkInterface":
			if inv.enis[e.Resource]["InterfaceType"] != "nat_gateway" {
				t.Errorf("%s: %s is not the NAT gateway's interface", e.Scenario, e.Resource)
			}
		case "IAMUser":
		default:
			t.Errorf("%s: resource type %q", e.Scenario, e.ResourceType)
		}
	}
	// The monitoring look-alike really does look like a sweep.
	for _, e := range l.ExpectNone {
		if e.Scenario != "lookalike-monitoring-scrape" {
			continue
		}
		mon := inv.instances[e.Resource]["PrivateIpAddress"]
		hosts := map[string]bool{}
		for _, r := range fl.recs {
			if r.s("srcaddr") == mon && r.s("dstport") == "9100" {
				hosts[r.s("dstaddr")] = true
			}
		}
		if len(hosts) < 190 {
			t.Errorf("monitoring scrapes %d hosts, want about 200", len(hosts))
		}
	}
}

func inTime(ts string, first, last time.Time) bool {
	tm, err := time.Parse(time.RFC3339, ts)
	return err == nil && !tm.Before(first) && !tm.After(last)
}
