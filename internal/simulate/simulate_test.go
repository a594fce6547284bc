package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSameSeedSameBytes(t *testing.T) {
	a := defaultCorpus(t)
	// A second run with another number of workers: scheduling must not matter.
	b := corpus(t, "default-again", func(c *Config) { c.Workers = 1 })
	fa, fb := files(t, a), files(t, b)
	if strings.Join(fa, "\n") != strings.Join(fb, "\n") {
		t.Fatalf("the two runs wrote different files:\n%v\n%v", fa, fb)
	}
	for _, f := range fa {
		da, _ := os.ReadFile(filepath.Join(a, f))
		db, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
	other := corpus(t, "seed-2", func(c *Config) { c.Seed = 2 })
	la, _ := os.ReadFile(filepath.Join(a, "labels.json"))
	lo, _ := os.ReadFile(filepath.Join(other, "labels.json"))
	if bytes.Equal(la, lo) {
		t.Error("seeds 1 and 2 wrote the same labels")
	}
}

// The S3 key layouts AWS uses, from the AWS documentation.
var (
	flowKeyRE  = regexp.MustCompile(`^AWSLogs/(\d{12})/vpcflowlogs/(us-east-1)/(\d{4}/\d{2}/\d{2})/(\d{12})_vpcflowlogs_(us-east-1)_fl-0[0-9a-f]{16}_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)
	dnsKeyRE   = regexp.MustCompile(`^AWSLogs/(\d{12})/vpcdnsquerylogs/(vpc-0[0-9a-f]{16})/(\d{4}/\d{2}/\d{2})/(vpc-0[0-9a-f]{16})_vpcdnsquerylogs_(\d{12})_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)
	trailKeyRE = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z]{2}-[a-z]+-\d)/(\d{4}/\d{2}/\d{2})/(\d{12})_CloudTrail_([a-z]{2}-[a-z]+-\d)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	invKeyRE   = regexp.MustCompile(`^inventory/\d{12}/us-east-1/describe-(instances|network-interfaces|nat-gateways|addresses)\.json$`)
)

func TestS3KeyLayout(t *testing.T) {
	dir := defaultCorpus(t)
	cfg := testConfig(dir)
	var nFlow, nDNS, nTrail, nInv int
	stampOK := func(f, date, stamp string) {
		tm, err := time.Parse("20060102T1504Z", stamp)
		if err != nil || tm.Format("2006/01/02") != date {
			t.Errorf("%s: stamp %s does not match folder %s", f, stamp, date)
		}
		if tm.Before(cfg.Start) || !tm.Before(cfg.Start.Add(cfg.Duration)) || tm.Minute()%5 != 0 {
			t.Errorf("%s: stamp %s is not a 5-minute period of the window", f, stamp)
		}
	}
	for _, f := range files(t, dir) {
		switch m := []*regexp.Regexp{flowKeyRE, dnsKeyRE, trailKeyRE}; {
		case m[0].MatchString(f):
			g := m[0].FindStringSubmatch(f)
			if g[1] != g[4] || g[2] != g[5] {
				t.Errorf("%s: account or region differs between folder and name", f)
			}
			stampOK(f, g[3], g[6])
			nFlow++
		case m[1].MatchString(f):
			g := m[1].FindStringSubmatch(f)
			if g[2] != g[4] || g[1] != g[5] {
				t.Errorf("%s: VPC or account differs between folder and name", f)
			}
			stampOK(f, g[3], g[6])
			nDNS++
		case m[2].MatchString(f):
			g := m[2].FindStringSubmatch(f)
			if g[1] != g[4] || g[2] != g[5] {
				t.Errorf("%s: account or region differs between folder and name", f)
			}
			stampOK(f, g[3], g[6])
			nTrail++
		case invKeyRE.MatchString(f):
			nInv++
		case f == "labels.json", f == "abuse-report/nat-abuse.eml", f == "abuse-report/nat-abuse.txt":
		default:
			t.Errorf("unexpected file %s", f)
		}
	}
	periods := int(cfg.Duration / period)
	// One flow log and one resolver log per VPC and period (files can only split
	// above 75 MB, far from this corpus's size).
	if nFlow != 2*periods || nDNS != 2*periods {
		t.Errorf("%d flow-log and %d resolver-log files, want %d of each", nFlow, nDNS, 2*periods)
	}
	if nTrail < periods || nInv != 8 {
		t.Errorf("%d CloudTrail files (want at least %d), %d inventory files (want 8)", nTrail, periods, nInv)
	}
}

// flowFieldVersion is the version each flow-log field was introduced in (AWS's
// field table), kept here independently of the package's own catalogue.
var flowFieldVersion = map[string]int{
	"version": 2, "account-id": 2, "interface-id": 2, "srcaddr": 2, "dstaddr": 2, "srcport": 2, "dstport": 2,
	"protocol": 2, "packets": 2, "bytes": 2, "start": 2, "end": 2, "action": 2, "log-status": 2,
	"vpc-id": 3, "subnet-id": 3, "instance-id": 3, "tcp-flags": 3, "type": 3, "pkt-srcaddr": 3, "pkt-dstaddr": 3,
	"region": 4, "az-id": 4, "sublocation-type": 4, "sublocation-id": 4,
	"pkt-src-aws-service": 5, "pkt-dst-aws-service": 5, "flow-direction": 5, "traffic-path": 5,
}

func TestFlowRecords(t *testing.T) {
	dir := defaultCorpus(t)
	fl := readFlows(t, dir)
	inv := readInventory(t, dir)
	if int64(len(fl.recs)) != testRecords {
		t.Fatalf("%d flow records, want exactly %d", len(fl.recs), testRecords)
	}
	// Mixed formats: VPC A's log is custom v5, VPC B's the default v2.
	formats := map[string]bool{}
	for f, h := range fl.headers {
		want := 0
		for _, n := range strings.Fields(h) {
			v, ok := flowFieldVersion[n]
			if !ok {
				t.Fatalf("%s: unknown field %q in header", f, n)
			}
			want = max(want, v)
		}
		formats[strconv.Itoa(want)] = true
	}
	if !formats["5"] || !formats["2"] || len(formats) != 2 {
		t.Errorf("versions of the formats in use: %v, want 2 and 5", formats)
	}
	var noData, skipData, ipv6, reject int
	idle := map[string]bool{} // interfaces that report NODATA must carry no traffic
	for _, r := range fl.recs {
		if r.s("log-status") == "NODATA" {
			idle[r.s("interface-id")] = true
		}
	}
	for _, r := range fl.recs {
		if idle[r.s("interface-id")] && r.s("log-status") == "OK" {
			t.Fatalf("%s: interface %s reports NODATA yet carries traffic", r.file, r.s("interface-id"))
		}
		want := 0
		for _, n := range strings.Fields(fl.headers[r.file]) {
			want = max(want, flowFieldVersion[n])
		}
		if r.n("version") != int64(want) {
			t.Fatalf("%s: version %s, the version rule says %d", r.file, r.s("version"), want)
		}
		eni, ok := inv.enis[r.s("interface-id")]
		if !ok {
			t.Fatalf("%s: interface %s is not in the inventory", r.file, r.s("interface-id"))
		}
		if owner := eni["OwnerId"]; owner != r.s("account-id") {
			t.Errorf("%s: account %s, the interface belongs to %v", r.file, r.s("account-id"), owner)
		}
		switch r.s("log-status") {
		case "NODATA", "SKIPDATA":
			if r.s("log-status") == "NODATA" {
				noData++
			} else {
				skipData++
			}
			for k, v := range r.f {
				if k != "version" && k != "account-id" && k != "interface-id" && k != "start" && k != "end" && k != "log-status" && v != "-" {
					t.Fatalf("%s: %s record has %s=%s, want -", r.file, r.s("log-status"), k, v)
				}
			}
			continue
		case "OK":
		default:
			t.Fatalf("%s: log-status %q", r.file, r.s("log-status"))
		}
		start, end := r.n("start"), r.n("end")
		if end < start || end-start >= 60 || start/60 != end/60 {
			t.Errorf("%s: start %d end %d do not lie in one aggregation window", r.file, start, end)
		}
		if !strings.Contains(r.file, time.Unix(start-start%300, 0).UTC().Format("20060102T1504Z")) {
			t.Errorf("%s: record starting %d is in the wrong 5-minute file", r.file, start)
		}
		if a := r.s("action"); a != "ACCEPT" && a != "REJECT" {
			t.Fatalf("%s: action %q", r.file, a)
		} else if a == "REJECT" {
			reject++
		}
		src, err1 := netip.ParseAddr(r.s("srcaddr"))
		dst, err2 := netip.ParseAddr(r.s("dstaddr"))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad addresses %q %q", r.file, r.s("srcaddr"), r.s("dstaddr"))
		}
		if src.Is6() {
			ipv6++
		}
		// One side is the interface's own (private) address; the other is private
		// (inside the VPC, peer VPC or data centre) or a real public address.
		for _, a := range []netip.Addr{src, dst} {
			if !a.IsPrivate() && !isPublic(a) {
				t.Errorf("%s: address %s is neither private nor public internet space", r.file, a)
			}
		}
		switch r.n("protocol") {
		case protoTCP:
			if fl, ok := r.f["tcp-flags"]; ok {
				v, _ := strconv.Atoi(fl)
				if v&^(flagFIN|flagSYN|flagRST|flagSYNACK) != 0 || (v&16 != 0 && v&2 == 0) {
					t.Errorf("%s: tcp-flags %d are not what flow logs record (FIN 1, SYN 2, RST 4, SYN-ACK 18)", r.file, v)
				}
			}
		case protoUDP, protoICMP:
			if r.f["tcp-flags"] != "" && r.f["tcp-flags"] != "0" {
				t.Errorf("%s: tcp-flags %s on protocol %s", r.file, r.f["tcp-flags"], r.s("protocol"))
			}
		default:
			t.Errorf("%s: protocol %s", r.file, r.s("protocol"))
		}
		if dir, ok := r.f["flow-direction"]; ok {
			if dir == "ingress" && r.s("traffic-path") != "-" {
				t.Errorf("%s: ingress record with traffic-path %s", r.file, r.s("traffic-path"))
			}
			if r.s("action") == "REJECT" && dir != "ingress" {
				t.Errorf("%s: REJECT recorded on egress; AWS records it at the target's ingress", r.file)
			}
		}
	}
	if noData == 0 || reject < 500 || ipv6 == 0 {
		t.Errorf("%d NODATA, %d REJECT, %d IPv6 records: the background lacks variety", noData, reject, ipv6)
	}
	t.Logf("%d records: %d NODATA, %d SKIPDATA, %d REJECT, %d IPv6", len(fl.recs), noData, skipData, reject, ipv6)
}

// TestFlowBothENIs checks that a flow between two instances of a VPC appears on
// both interfaces: egress on the sender's, ingress on the receiver's.
func TestFlowBothENIs(t *testing.T) {
	dir := defaultCorpus(t)
	fl := readFlows(t, dir)
	inv := readInventory(t, dir)
	type key struct{ src, dst, sport, dport, start string }
	egress, ingress := map[key]bool{}, map[key]bool{}
	for _, r := range fl.recs {
		if r.f["flow-direction"] == "" || r.s("log-status") != "OK" {
			continue
		}
		_, srcInst := inv.privToID[r.s("srcaddr")]
		_, dstInst := inv.privToID[r.s("dstaddr")]
		if !srcInst || !dstInst || strings.HasPrefix(r.s("dstaddr"), "10.20.") || strings.HasPrefix(r.s("srcaddr"), "10.20.") {
			continue // instance to instance within VPC A
		}
		k := key{r.s("srcaddr"), r.s("dstaddr"), r.s("srcport"), r.s("dstport"), r.s("start")}
		if r.s("flow-direction") == "egress" {
			egress[k] = true
		} else {
			ingress[k] = true
		}
	}
	if len(egress) < 1000 {
		t.Fatalf("only %d instance-to-instance egress records", len(egress))
	}
	for k := range egress {
		if !ingress[k] {
			t.Fatalf("egress %v has no matching ingress record on the receiver's interface", k)
		}
	}
	for k := range ingress {
		if !egress[k] {
			t.Fatalf("ingress %v has no matching egress record on the sender's interface", k)
		}
	}
}

// TestNATLegs checks the NAT gateway's records: the inside leg shows the
// instance and the NAT's private address with the real destination in
// pkt-dstaddr; the outside leg shows the NAT and the destination; the
// instance's own interface shows the real destination; the NAT's interface has
// no instance.
func TestNATLegs(t *testing.T) {
	dir := defaultCorpus(t)
	fl := readFlows(t, dir)
	inv := readInventory(t, dir)
	natENI, ok := inv.natIPs["10.10.2.68"]
	if !ok {
		t.Fatal("no NAT gateway at 10.10.2.68 in the inventory")
	}
	if inv.enis[natENI]["InterfaceType"] != "nat_gateway" || inv.enis[natENI]["RequesterManaged"] != true {
		t.Errorf("NAT interface %s: type %v, requester-managed %v", natENI, inv.enis[natENI]["InterfaceType"], inv.enis[natENI]["RequesterManaged"])
	}
	type key struct{ src, dst, dport, start string }
	instanceEgress := map[key]bool{}
	outside := map[key]bool{}
	var inside []flowRec
	for _, r := range fl.recs {
		if r.s("log-status") != "OK" || r.f["flow-direction"] == "" {
			continue
		}
		if r.s("interface-id") == natENI {
			if r.s("instance-id") != "-" {
				t.Fatalf("NAT record with instance-id %s", r.s("instance-id"))
			}
			switch {
			case r.s("flow-direction") == "ingress" && r.s("dstaddr") == "10.10.2.68" && r.s("pkt-dstaddr") != "10.10.2.68":
				inside = append(inside, r)
			case r.s("flow-direction") == "egress" && r.s("srcaddr") == "10.10.2.68" && !strings.HasPrefix(r.s("dstaddr"), "10."):
				outside[key{"10.10.2.68", r.s("dstaddr"), r.s("dstport"), r.s("start")}] = true
			}
			continue
		}
		if r.s("flow-direction") == "egress" {
			instanceEgress[key{r.s("srcaddr"), r.s("dstaddr"), r.s("dstport"), r.s("start")}] = true
		}
	}
	if len(inside) < 500 {
		t.Fatalf("only %d inside-leg records on the NAT gateway", len(inside))
	}
	for _, r := range inside {
		if r.s("pkt-srcaddr") != r.s("srcaddr") {
			t.Fatalf("inside leg: pkt-srcaddr %s != srcaddr %s", r.s("pkt-srcaddr"), r.s("srcaddr"))
		}
		if _, ok := inv.privToID[r.s("srcaddr")]; !ok {
			t.Fatalf("inside leg from %s, which is no instance", r.s("srcaddr"))
		}
		dest, _ := netip.ParseAddr(r.s("pkt-dstaddr"))
		if !isPublic(dest) {
			t.Fatalf("inside leg towards %s, not a public address", dest)
		}
		if !instanceEgress[key{r.s("srcaddr"), r.s("pkt-dstaddr"), r.s("dstport"), r.s("start")}] {
			t.Fatalf("inside leg %v: the instance's interface shows no egress to the real destination", r.f)
		}
		if !outside[key{"10.10.2.68", r.s("pkt-dstaddr"), r.s("dstport"), r.s("start")}] {
			t.Fatalf("inside leg %v: no outside leg from the NAT to the destination", r.f)
		}
	}
}

func TestResolverRecords(t *testing.T) {
	dir := defaultCorpus(t)
	recs := readDNS(t, dir)
	inv := readInventory(t, dir)
	if len(recs) < 2000 {
		t.Fatalf("only %d resolver records", len(recs))
	}
	order := []string{"version", "account_id", "region", "vpc_id", "query_timestamp", "query_name", "query_type",
		"query_class", "rcode", "answers", "srcaddr", "srcport", "transport", "srcids"}
	type key struct{ file, vpc, name, qtype string }
	last := map[key]time.Time{}
	for _, r := range recs {
		dec := json.NewDecoder(strings.NewReader(r.raw))
		dec.Token()
		for i := 0; dec.More(); i++ {
			k, _ := dec.Token()
			if i >= len(order) || k != order[i] {
				t.Fatalf("%s: key %d is %v, want %s (AWS's order): %s", r.file, i, k, order[min(i, len(order)-1)], r.raw)
			}
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		if r.Version != "1.100000" || r.QueryClass != "IN" || !strings.HasSuffix(r.QueryName, ".") {
			t.Fatalf("%s: version %q class %q name %q", r.file, r.Version, r.QueryClass, r.QueryName)
		}
		if _, err := strconv.ParseUint(r.Srcport, 10, 16); err != nil || !strings.Contains(r.raw, `"srcport":"`) {
			t.Fatalf("%s: srcport %q must be a string holding a port", r.file, r.Srcport)
		}
		if !strings.Contains(r.file, "/"+r.VpcID+"/") || !strings.Contains(r.file, "AWSLogs/"+r.AccountID+"/") {
			t.Fatalf("%s: record of %s/%s in the wrong file", r.file, r.AccountID, r.VpcID)
		}
		if id := inv.privToID[r.Srcaddr]; id == "" || id != r.Srcids["instance"] {
			t.Fatalf("%s: srcaddr %s with srcids %v does not match the inventory", r.file, r.Srcaddr, r.Srcids)
		}
		ts, err := time.Parse(time.RFC3339, r.QueryTimestamp)
		if err != nil || !strings.HasSuffix(r.QueryTimestamp, "Z") {
			t.Fatalf("%s: query_timestamp %q", r.file, r.QueryTimestamp)
		}
		for _, a := range r.Answers {
			if a.Class != "IN" || a.Type == "" || a.Rdata == "" {
				t.Fatalf("%s: answer %+v", r.file, a)
			}
		}
		// The resolver caches answers for at least 5 seconds (the shortest TTL
		// in the corpus): a repeat within that time would have been answered
		// from the cache and not logged.
		if r.Rcode != "SERVFAIL" {
			k := key{r.file, r.VpcID, r.QueryName, r.QueryType}
			if prev, ok := last[k]; ok && ts.Sub(prev) < 5*time.Second {
				t.Fatalf("%s: %s %s logged twice within %s; the second was a cache hit", r.file, r.QueryName, r.QueryType, ts.Sub(prev))
			}
			last[k] = ts
		}
	}
}

func TestCloudTrailRecords(t *testing.T) {
	dir := defaultCorpus(t)
	recs := readTrail(t, dir)
	cfg := testConfig(dir)
	if len(recs) < 200 {
		t.Fatalf("only %d CloudTrail records", len(recs))
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	var instanceSessions int
	secondOfPeriod := map[int64]bool{} // events spread over the period, not bunched
	for _, r := range recs {
		secondOfPeriod[r.time().Unix()%300] = true
		for _, k := range []string{"eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent", "eventID", "eventType", "recipientAccountId", "eventCategory"} {
			if r.str(k) == "" {
				t.Fatalf("%s: record without %s: %v", r.doc, k, r.raw)
			}
		}
		for _, k := range []string{"readOnly", "managementEvent"} {
			if _, ok := r.raw[k].(bool); !ok {
				t.Fatalf("%s: %s is not a boolean: %v", r.doc, k, r.raw)
			}
		}
		if v, _ := strconv.ParseFloat(r.str("eventVersion"), 64); v < 1.08 {
			t.Errorf("%s: eventVersion %s, want 1.08 or later", r.doc, r.str("eventVersion"))
		}
		if !uuidRE.MatchString(r.str("eventID")) {
			t.Errorf("%s: eventID %q is not a UUID", r.doc, r.str("eventID"))
		}
		if tm := r.time(); tm.Before(cfg.Start) || !tm.Before(cfg.Start.Add(cfg.Duration)) {
			t.Errorf("%s: eventTime %s outside the window", r.doc, r.str("eventTime"))
		}
		if !strings.Contains(r.doc, "/CloudTrail/"+r.str("awsRegion")+"/") || !strings.Contains(r.doc, "AWSLogs/"+r.str("recipientAccountId")+"/") {
			t.Errorf("%s: record of %s/%s in the wrong file", r.doc, r.str("recipientAccountId"), r.str("awsRegion"))
		}
		if r.str("requestID") == "" && r.str("eventType") != "AwsConsoleSignIn" {
			t.Errorf("%s: %s without requestID", r.doc, r.str("eventName"))
		}
		if r.str("userIdentity", "type") == "AssumedRole" && r.str("userIdentity", "sessionContext", "ec2RoleDelivery") != "" {
			instanceSessions++
			if !regexp.MustCompile(`:i-0[0-9a-f]{16}$`).MatchString(r.str("userIdentity", "principalId")) {
				t.Errorf("%s: instance-role session named %q, want the instance id", r.doc, r.str("userIdentity", "principalId"))
			}
		}
	}
	if instanceSessions == 0 {
		t.Error("no calls made with instance-role credentials")
	}
	if len(secondOfPeriod) < 100 {
		t.Errorf("CloudTrail events fall on only %d distinct seconds of their 5-minute periods", len(secondOfPeriod))
	}
	// Key order of the first record, as CloudTrail writes it.
	first := files(t, dir)
	for _, f := range first {
		if strings.Contains(f, "/CloudTrail/") {
			doc := strings.Join(readGzip(t, filepath.Join(dir, f)), "")
			if !strings.HasPrefix(doc, `{"Records":[{"eventVersion":"`) || !strings.Contains(doc, `,"userIdentity":{"type":"`) {
				t.Errorf("%s: does not start the way CloudTrail files do: %.80s", f, doc)
			}
			break
		}
	}
}

func TestInventoryShape(t *testing.T) {
	dir := defaultCorpus(t)
	inv := readInventory(t, dir)
	if len(inv.instances) < 40 {
		t.Errorf("%d instances", len(inv.instances))
	}
	for id, in := range inv.instances {
		for _, k := range []string{"InstanceId", "ImageId", "LaunchTime", "PrivateIpAddress", "SubnetId", "VpcId", "SecurityGroups", "Tags", "NetworkInterfaces"} {
			if _, ok := in[k]; !ok {
				t.Errorf("instance %s has no %s", id, k)
			}
		}
		nis := in["NetworkInterfaces"].([]any)
		eni := nis[0].(map[string]any)["NetworkInterfaceId"].(string)
		att, _ := inv.enis[eni]["Attachment"].(map[string]any)
		if att["InstanceId"] != id {
			t.Errorf("interface %s: attachment %v, want instance %s", eni, att, id)
		}
		if pub, ok := in["PublicIpAddress"].(string); ok {
			a := netip.MustParseAddr(pub)
			if !isPublic(a) {
				t.Errorf("instance %s: public address %s is not public space", id, pub)
			}
		}
	}
	if len(inv.natIPs) != 2 {
		t.Errorf("%d NAT gateways, want 2", len(inv.natIPs))
	}
	data, _ := os.ReadFile(filepath.Join(dir, "inventory", inv.enis[inv.natIPs["10.10.2.68"]]["OwnerId"].(string), "us-east-1", "describe-addresses.json"))
	var addrs struct{ Addresses []map[string]any }
	if err := json.Unmarshal(data, &addrs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range addrs.Addresses {
		if a["PrivateIpAddress"] == "10.10.2.68" && a["PublicIp"] == inv.natPublic[inv.natIPs["10.10.2.68"]] && a["Domain"] == "vpc" {
			found = true
		}
	}
	if !found {
		t.Error("describe-addresses does not list the NAT gateway's Elastic IP")
	}
}

func TestFlatLayout(t *testing.T) {
	dir := corpus(t, "flat", func(c *Config) { c.Layout = LayoutFlat })
	got := files(t, dir)
	for _, want := range []string{"vpcflow-custom.log", "vpcflow-v2.log", "dns.log", "cloudtrail.json", "labels.json"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("flat layout: %s missing (have %v)", want, got)
		}
	}
	lines := 0
	for _, name := range []string{"vpcflow-custom.log", "vpcflow-v2.log"} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		ls := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if !strings.HasPrefix(ls[0], "version account-id interface-id") {
			t.Errorf("%s: first line %q is not the header", name, ls[0])
		}
		for _, l := range ls[1:] {
			if strings.HasPrefix(l, "version") {
				t.Fatalf("%s: a second header line", name)
			}
		}
		lines += len(ls) - 1
	}
	if lines != testRecords {
		t.Errorf("flat flow files hold %d records, want %d", lines, testRecords)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "cloudtrail.json"))
	var doc struct{ Records []map[string]any }
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Records) == 0 {
		t.Errorf("cloudtrail.json: %v, %d records", err, len(doc.Records))
	}
	// The same corpus as the S3 layout, record for record.
	l1, _ := ReadLabels(filepath.Join(dir, "labels.json"))
	l2, _ := ReadLabels(filepath.Join(defaultCorpus(t), "labels.json"))
	if l1.Records != l2.Records || len(l1.Expect) != len(l2.Expect) {
		t.Errorf("flat and S3 layouts differ: %+v vs %+v", l1.Records, l2.Records)
	}
}

func TestFlatV2OneFile(t *testing.T) {
	dir := corpus(t, "flat-v2", func(c *Config) { c.Layout, c.FlowFormat = LayoutFlat, FlowFormatV2 })
	if _, err := os.Stat(filepath.Join(dir, "vpcflow-custom.log")); err == nil {
		t.Error("--flow-format v2 wrote a custom-format file")
	}
	data, err := os.ReadFile(filepath.Join(dir, "vpcflow-v2.log"))
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(ls) != testRecords+1 || ls[0] != formatV2.header {
		t.Fatalf("vpcflow-v2.log: %d lines, first %q", len(ls), ls[0])
	}
	for _, l := range ls[1:] {
		if !strings.HasPrefix(l, "2 ") || len(strings.Fields(l)) != 14 {
			t.Fatalf("not a v2 record: %q", l)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		tweak func(*Config)
		field string
	}{
		{func(c *Config) { c.Out = "" }, "out"},
		{func(c *Config) { c.Records = 100 }, "records"},
		{func(c *Config) { c.Records = 0 }, "records"},
		{func(c *Config) { c.Start = c.Start.Add(time.Minute) }, "start"},
		{func(c *Config) { c.Duration = 30 * time.Minute }, "duration"},
		{func(c *Config) { c.Duration = 61 * time.Minute }, "duration"},
		{func(c *Config) { c.FlowFormat = "v9" }, "flowFormat"},
		{func(c *Config) { c.Layout = "zip" }, "layout"},
	}
	for _, tc := range cases {
		cfg := testConfig(t.TempDir())
		tc.tweak(&cfg)
		_, err := New(cfg)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("want an error on %s, got %v", tc.field, err)
		}
	}
}

func TestOutputFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	os.MkdirAll(filepath.Join(dir, "AWSLogs", "stale"), 0o755)
	cfg := testConfig(dir)
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Run(context.Background()); !errors.Is(err, ErrOutputNotEmpty) {
		t.Fatalf("run into a non-empty folder: %v, want ErrOutputNotEmpty", err)
	}
	cfg.Overwrite = true
	sim, _ = New(cfg)
	if _, err := sim.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "AWSLogs", "stale")); err == nil {
		t.Error("earlier output was not removed")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Error("a file the simulator does not own was removed")
	}

	// A folder that cannot be created: its parent is a file.
	cfg = testConfig(filepath.Join(dir, "notes.txt", "corpus"))
	sim, _ = New(cfg)
	_, err = sim.Run(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "create output folder "+cfg.Out+": ") {
		t.Errorf("unwritable output: %v", err)
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	sim, err := New(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sim.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "labels.json")); err == nil {
		t.Error("an interrupted run wrote labels.json, which marks a complete corpus")
	}
}

func TestAppendTime(t *testing.T) {
	r := derive(7)
	for i := 0; i < 100_000; i++ {
		v := r.between64(0, 253402300799) // years 1970 to 9999
		if got, want := string(appendTime(nil, v)), time.Unix(v, 0).UTC().Format("2006-01-02T15:04:05Z"); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", v, got, want)
		}
	}
}

func TestNmapTop1000(t *testing.T) {
	ports := parsePorts(nmapTop1000)
	seen := map[uint16]bool{}
	for _, p := range ports {
		seen[p] = true
	}
	if len(ports) != 1000 || len(seen) != 1000 || !seen[22] || !seen[9200] || !seen[65389] {
		t.Errorf("%d ports (%d distinct)", len(ports), len(seen))
	}
}

func TestRandomPublicAddresses(t *testing.T) {
	r := derive(3)
	for i := 0; i < 50_000; i++ {
		if a := randomPublicIP(&r); !isPublic(a) {
			t.Fatalf("randomPublicIP gave %s", a)
		}
		if a := randomPublicIPv6(&r); !isPublic(a) {
			t.Fatalf("randomPublicIPv6 gave %s", a)
		}
	}
}

// TestBudgetsExact checks that background shares add up exactly, for odd totals
// and long windows.
func TestBudgetsExact(t *testing.T) {
	for _, total := range []int64{0, 1, 7, 999_983, 123_456_789_012} {
		b := newBudget(total, 1_793_491_200, 2017, []int64{85, 15})
		var sum int64
		for p := 0; p < 2017; p++ {
			for l := 0; l < 2; l++ {
				n := b.share(p, l)
				if n < 0 {
					t.Fatalf("negative share")
				}
				sum += n
			}
		}
		if sum != total {
			t.Errorf("shares of %d add up to %d", total, sum)
		}
	}
}
