package finding

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// skeleton is guardduty.md §1.7's illustrative finding.
func skeleton(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/skeleton.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

// TestSkeletonRoundTrip decodes the skeleton into a Finding and encodes it again:
// nothing may be lost, added or changed (key order aside).
func TestSkeletonRoundTrip(t *testing.T) {
	in := skeleton(t)
	var f Finding
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.DisallowUnknownFields() // every skeleton key must have a field
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(&f)
	if err != nil {
		t.Fatal(err)
	}
	if want, got := decodeAny(t, in), decodeAny(t, out); !reflect.DeepEqual(want, got) {
		t.Errorf("round trip changed the finding\n in: %s\nout: %s", compact(t, in), out)
	}
	if f.Service.Count != 17 || f.Severity != 2 || f.CreatedAt.String() != "2026-01-01T10:00:00.000Z" {
		t.Errorf("decoded count %d severity %v createdAt %v", f.Service.Count, f.Severity, f.CreatedAt)
	}
}

func compact(t *testing.T, b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// sshFinding builds, through the catalogue, the finding the skeleton shows.
func sshFinding(t *testing.T) *Finding {
	t.Helper()
	ti, ok := Lookup("UnauthorizedAccess:EC2/SSHBruteForce")
	if !ok {
		t.Fatal("SSHBruteForce not in catalogue")
	}
	first := TimeOf(time.Date(2026, 1, 1, 9, 58, 12, 0, time.UTC))
	f := ti.New("111122223333", "eu-west-1", first)
	f.Resource.InstanceDetails = &InstanceDetails{
		InstanceID: "i-0123456789abcdef0",
		NetworkInterfaces: []NetworkInterface{{
			PrivateIPAddress: "10.0.1.5", PublicIP: "203.0.113.10", SubnetID: "subnet-0a1b2c3d", VpcID: "vpc-0a1b2c3d",
			SecurityGroups: []SecurityGroup{},
		}},
		Tags: []Tag{},
	}
	f.Service.Action.NetworkConnectionAction = &NetworkConnectionAction{
		ConnectionDirection: DirectionInbound, Protocol: "TCP",
		LocalPortDetails:  &PortDetails{Port: 22, PortName: "SSH"},
		RemotePortDetails: &PortDetails{Port: 40112, PortName: "Unknown"},
		RemoteIPDetails: &RemoteIPDetails{IPAddressV4: "198.51.100.7", Country: &Country{CountryName: "Example"},
			Organization: &Organization{ASN: "64496", ASNOrg: "Example Org"}},
	}
	f.Service.AdditionalInfo = AdditionalInfo{}
	f.Service.Count = 17
	f.Service.EventLastSeen = TimeOf(time.Date(2026, 1, 1, 10, 44, 51, 0, time.UTC))
	f.CreatedAt = TimeOf(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	f.UpdatedAt = TimeOf(time.Date(2026, 1, 1, 10, 45, 0, 0, time.UTC))
	if err := f.Complete(""); err != nil {
		t.Fatal(err)
	}
	return f
}

// shape replaces every scalar of a decoded JSON value by its kind and every array
// by the shape of its first element, so two findings with different values but the
// same structure have equal shapes.
func shape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{shape(v[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

// TestGoldenShape checks that a finding built by vigil has exactly the keys and
// value kinds of GuardDuty's skeleton, and that its JSON is byte-for-byte the
// golden file (deterministic output).
func TestGoldenShape(t *testing.T) {
	f := sshFinding(t)
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, got := shape(decodeAny(t, skeleton(t))), shape(decodeAny(t, out))
	if !reflect.DeepEqual(want, got) {
		w, _ := json.MarshalIndent(want, "", " ")
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("shape differs from the skeleton\nwant %s\n got %s", w, g)
	}
	golden := filepath.Join("testdata", "ssh-bruteforce.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(g), out) {
		t.Errorf("JSON differs from %s (go test -update if intended):\n%s", golden, out)
	}
	if f.Severity != SeverityLow || f.Title != "198.51.100.7 is performing SSH brute force attacks against i-0123456789abcdef0." {
		t.Errorf("severity %v title %q", f.Severity, f.Title)
	}
	if len(f.ID) != 32 || strings.Trim(f.ID, "0123456789abcdef") != "" {
		t.Errorf("id %q is not 32 lowercase hex", f.ID)
	}
	wantARN := "arn:aws:guardduty:eu-west-1:111122223333:detector/" + DetectorID("111122223333") + "/finding/" + f.ID
	if f.ARN != wantARN || f.Service.DetectorID != DetectorID("111122223333") {
		t.Errorf("arn %q, want %q", f.ARN, wantARN)
	}
}

func TestEvidenceIsTopLevelExtension(t *testing.T) {
	f := sshFinding(t)
	f.AddEvidence(NewEvidence(f.CreatedAt, "flow", "flow.log:3", []byte("2 111122223333 eni-1 198.51.100.7 10.0.1.5 40112 22 6 1 60 1 2 ACCEPT OK")))
	out, _ := json.Marshal(f)
	m := decodeAny(t, out).(map[string]any)
	ev, ok := m["vigilEvidence"].([]any)
	if !ok || len(ev) != 1 {
		t.Fatalf("vigilEvidence = %v", m["vigilEvidence"])
	}
	if _, ok := m["service"].(map[string]any)["additionalInfo"].(map[string]any)["vigilEvidence"]; ok {
		t.Error("evidence leaked into additionalInfo")
	}
	rec := ev[0].(map[string]any)
	for _, k := range []string{"time", "kind", "source", "raw"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("evidence record lacks %q: %v", k, rec)
		}
	}
}

func TestNewEvidenceTruncatesOnRuneBoundary(t *testing.T) {
	raw := []byte(strings.Repeat("a", MaxEvidenceBytes-1) + "é" + "tail") // é straddles the cut
	e := NewEvidence(1, "dns", "", raw)
	if !e.Truncated || len(e.Raw) != MaxEvidenceBytes-1 || !strings.HasSuffix(e.Raw, "a") {
		t.Errorf("truncated=%v len=%d", e.Truncated, len(e.Raw))
	}
	if e := NewEvidence(1, "dns", "", []byte("short")); e.Truncated || e.Raw != "short" {
		t.Errorf("short record: %+v", e)
	}
}

func TestTimeJSON(t *testing.T) {
	for in, want := range map[string]string{
		`"2017-10-31T23:16:23.824Z"`:       "2017-10-31T23:16:23.824Z",
		`"2017-10-31T23:16:23Z"`:           "2017-10-31T23:16:23.000Z",
		`"2017-10-31T23:16:23.824999999Z"`: "2017-10-31T23:16:23.824Z",
		`"2017-11-01T01:16:23.824+02:00"`:  "2017-10-31T23:16:23.824Z",
		`1509491783824`:                    "2017-10-31T23:16:23.824Z",
	} {
		var tm Time
		if err := json.Unmarshal([]byte(in), &tm); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		b, _ := json.Marshal(tm)
		if string(b) != `"`+want+`"` {
			t.Errorf("%s → %s, want %q", in, b, want)
		}
	}
	for _, bad := range []string{`"yesterday"`, `true`, `"2017-10-31"`} {
		var tm Time
		if err := json.Unmarshal([]byte(bad), &tm); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestSeverityBands(t *testing.T) {
	for _, c := range []struct {
		s    Severity
		want Band
	}{
		{0, BandNone}, {0.9, BandNone}, {1, BandLow}, {2, BandLow}, {3.9, BandLow}, {3.99, BandLow},
		{4, BandMedium}, {5, BandMedium}, {6.9, BandMedium}, {7, BandHigh}, {8, BandHigh}, {8.9, BandHigh},
		{9, BandCritical}, {10, BandCritical}, {10.1, BandNone}, {-3, BandNone},
	} {
		if got := c.s.Band(); got != c.want {
			t.Errorf("Severity(%v).Band() = %v, want %v", c.s, got, c.want)
		}
	}
	for _, b := range []Band{BandLow, BandMedium, BandHigh, BandCritical} {
		if b.Floor().Band() != b || b.Default().Band() != b || (b.Floor()-0.01).Band() == b {
			t.Errorf("%v: floor %v default %v", b, b.Floor(), b.Default())
		}
		if p, err := ParseBand(b.String()); err != nil || p != b {
			t.Errorf("ParseBand(%q) = %v, %v", b, p, err)
		}
		if p, err := ParseBand(b.Title()); err != nil || p != b {
			t.Errorf("ParseBand(%q) = %v, %v", b.Title(), p, err)
		}
	}
	if p, err := ParseBand(" high "); err != nil || p != BandHigh {
		t.Errorf("ParseBand(high) = %v, %v", p, err)
	}
	if _, err := ParseBand("severe"); err == nil || !strings.Contains(err.Error(), "LOW, MEDIUM, HIGH or CRITICAL") {
		t.Errorf("ParseBand(severe) error = %v", err)
	}
	if !Severity(8).AtLeast(BandHigh) || Severity(6.9).AtLeast(BandHigh) || !Severity(9).AtLeast(BandLow) || Severity(0).AtLeast(BandLow) {
		t.Error("AtLeast")
	}
	if BandCritical.Title() != "Critical" {
		t.Error(BandCritical.Title())
	}
}

func TestRender(t *testing.T) {
	f := sshFinding(t)
	got := Render("{actor} → {target} port {localPort}/{remotePort} {protocol} x{count} {nope} {domain}", f)
	want := "198.51.100.7 → i-0123456789abcdef0 port 22/40112 TCP x17 {nope} unknown"
	if got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
	f.Service.ResourceRole = RoleActor
	if got := Render("{actor} attacks {target}", f); got != "i-0123456789abcdef0 attacks 198.51.100.7" {
		t.Errorf("actor render %q", got)
	}
	if got := Render("unclosed {brace", f); got != "unclosed {brace" {
		t.Errorf("%q", got)
	}
}

func TestCompleteRequiresFields(t *testing.T) {
	f := &Finding{Type: "Recon:EC2/Portscan"}
	err := f.Complete("")
	if err == nil {
		t.Fatal("no error")
	}
	for _, k := range []string{"schemaVersion", "accountId", "region", "resource.resourceType", "service.action.actionType", "createdAt"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error %q does not name %s", err, k)
		}
	}
	// A type outside the catalogue needs an explicit severity.
	ti, _ := Lookup("Recon:EC2/Portscan")
	g := ti.New("111122223333", "us-east-1", 1000)
	g.Type = "Custom:EC2/Thing"
	if err := g.Complete(""); err == nil || !strings.Contains(err.Error(), "severity") {
		t.Errorf("custom type without severity: %v", err)
	}
	g.Severity = 6
	if err := g.Complete("0123456789abcdef0123456789abcdef"); err != nil {
		t.Error(err)
	}
	if !strings.Contains(g.ARN, "detector/0123456789abcdef0123456789abcdef/finding/"+g.ID) {
		t.Errorf("configured detector id not used: %s", g.ARN)
	}
}

// TestSeverityRules checks every context-dependent severity GuardDuty documents.
func TestSeverityRules(t *testing.T) {
	sev := func(typ Type, edit func(*Finding)) Severity {
		t.Helper()
		ti, ok := Lookup(typ)
		if !ok {
			t.Fatalf("%s not in catalogue", typ)
		}
		f := ti.New("111122223333", "us-east-1", 1000)
		edit(f)
		if err := f.Complete(""); err != nil {
			t.Fatal(err)
		}
		return f.Severity
	}
	probe := func(port int) func(*Finding) {
		return func(f *Finding) {
			f.Service.Action.PortProbeAction = &PortProbeAction{PortProbeDetails: []PortProbeDetail{
				{LocalPortDetails: &PortDetails{Port: port}, RemoteIPDetails: &RemoteIPDetails{IPAddressV4: "198.51.100.1"}}}}
		}
	}
	remotePort := func(port int) func(*Finding) {
		return func(f *Finding) {
			f.Service.Action.NetworkConnectionAction = &NetworkConnectionAction{RemotePortDetails: &PortDetails{Port: port}}
		}
	}
	role := func(r ResourceRole) func(*Finding) { return func(f *Finding) { f.Service.ResourceRole = r } }
	affiliation := func(a bool) func(*Finding) {
		return func(f *Finding) {
			f.Service.Action.AWSAPICallAction = &AWSAPICallAction{RemoteAccountDetails: &RemoteAccountDetails{AccountID: "444455556666", Affiliated: a}}
		}
	}
	set := func(s Severity) func(*Finding) { return func(f *Finding) { f.Severity = s } }
	for _, c := range []struct {
		typ  Type
		edit func(*Finding)
		want Severity
	}{
		{"UnauthorizedAccess:EC2/SSHBruteForce", role(RoleTarget), SeverityLow},
		{"UnauthorizedAccess:EC2/SSHBruteForce", role(RoleActor), SeverityHigh},
		{"UnauthorizedAccess:EC2/RDPBruteForce", role(RoleActor), SeverityHigh},
		{"Impact:EC2/WinRMBruteForce", role(RoleTarget), SeverityLow},
		{"Impact:EC2/WinRMBruteForce", role(RoleActor), SeverityHigh},
		{"Recon:EC2/PortProbeUnprotectedPort", probe(22), SeverityLow},
		{"Recon:EC2/PortProbeUnprotectedPort", probe(9200), SeverityHigh},
		{"Recon:EC2/PortProbeUnprotectedPort", probe(9300), SeverityHigh},
		{"Behavior:EC2/NetworkPortUnusual", remotePort(8443), SeverityMedium},
		{"Behavior:EC2/NetworkPortUnusual", remotePort(1389), SeverityHigh},
		{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", affiliation(false), SeverityHigh},
		{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", affiliation(true), SeverityMedium},
		{"Stealth:IAMUser/PasswordPolicyChange", set(0), SeverityLow},
		{"Stealth:IAMUser/PasswordPolicyChange", set(5), SeverityMedium},
		{"Stealth:IAMUser/PasswordPolicyChange", set(9.5), SeverityHigh},
		{"Recon:EC2/Portscan", set(0), SeverityMedium},
		{"Recon:EC2/Portscan", set(6.5), 6.5}, // an explicit severity (a user's override) is kept
	} {
		if got := sev(c.typ, c.edit); got != c.want {
			t.Errorf("%s: severity %v, want %v", c.typ, got, c.want)
		}
	}
}

func TestCatalogueIsConsistent(t *testing.T) {
	types := Types()
	if !sort.SliceIsSorted(types, func(i, j int) bool { return types[i].Type < types[j].Type }) {
		t.Error("catalogue not sorted")
	}
	seen := map[Type]bool{}
	for _, ti := range types {
		if seen[ti.Type] {
			t.Errorf("%s twice", ti.Type)
		}
		seen[ti.Type] = true
		if got, ok := Lookup(ti.Type); !ok || got.Type != ti.Type {
			t.Errorf("Lookup(%s) failed", ti.Type)
		}
		if ti.Severity.Band() == BandNone || ti.Title == "" || ti.Description == "" || ti.Source == 0 || ti.Role == "" {
			t.Errorf("%s: incomplete entry %+v", ti.Type, ti)
		}
		want := map[DataSource]ResourceType{SourceFlowLogs: ResourceInstance, SourceDNSLogs: ResourceInstance}[ti.Source]
		if want != "" && ti.ResourceType != want {
			t.Errorf("%s: resource type %s", ti.Type, ti.ResourceType)
		}
		// Every placeholder in the templates must be known to Render.
		for _, tmpl := range []string{ti.Title, ti.Description} {
			out := Render(tmpl, &Finding{})
			if strings.Contains(out, "{") {
				t.Errorf("%s: unknown placeholder in %q", ti.Type, out)
			}
		}
		if r := ti.Rule; r.Kind != SevFixed && r.Severity.Band() == BandNone {
			t.Errorf("%s: rule without severity", ti.Type)
		}
	}
	if _, ok := Lookup("Recon:EC2/NoSuchThing"); ok {
		t.Error("Lookup found a missing type")
	}
}

// ExampleRender shows a title as vigil writes it.
func ExampleRender() {
	ti, _ := Lookup("Recon:EC2/Portscan")
	f := ti.New("111122223333", "eu-west-1", 1767261600000)
	f.Resource.InstanceDetails = &InstanceDetails{InstanceID: "i-0abc"}
	f.Service.Action.NetworkConnectionAction = &NetworkConnectionAction{RemoteIPDetails: &RemoteIPDetails{IPAddressV4: "10.0.2.9"}}
	fmt.Println(Render(ti.Title, f))
	// Output: EC2 instance i-0abc is performing outbound port scans against remote host 10.0.2.9.
}

// FuzzTimeJSON: the digits MarshalJSON writes itself are those of
// time.Time.AppendFormat with GuardDuty's layout, before 1970 too, and a year
// without four digits is an error.
func FuzzTimeJSON(f *testing.F) {
	for _, ms := range []int64{0, -1, -999, -1000, 1509491783824, 253402300799999, 253402300800000, -62167219200000, -62167219200001, 951782400000} {
		f.Add(ms)
	}
	f.Fuzz(func(t *testing.T, ms int64) {
		got, err := Time(ms).MarshalJSON()
		tt := time.UnixMilli(ms).UTC()
		if y := tt.Year(); y < 0 || y > 9999 {
			if err == nil {
				t.Fatalf("%d ms (year %d): %s, want an error", ms, y, got)
			}
			return
		}
		if want := `"` + tt.Format(timeLayout) + `"`; err != nil || string(got) != want {
			t.Fatalf("%d ms: %s (%v), want %s", ms, got, err, want)
		}
	})
}
