package export

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/notify"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite testdata/findings.json and the golden files")

// fixture builds the findings the format tests encode: one of each action type
// and resource type, with the details GuardDuty's samples carry.
func fixture(t testing.TB) []finding.Finding {
	at := finding.TimeOf(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))

	ssh := storetest.NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-0123456789abcdef0", "198.51.100.7", at)
	ssh.Service.Count = 74
	ssh.UpdatedAt = at + 3600_000
	ssh.Service.EventLastSeen = at + 3500_000
	ssh.Resource.InstanceDetails.ImageID = "ami-0abcdef1234567890"
	ssh.Resource.InstanceDetails.LaunchTime = at - 86400_000
	ssh.Resource.InstanceDetails.NetworkInterfaces[0].PublicIP = "203.0.113.10"
	rip := ssh.Service.Action.NetworkConnectionAction.RemoteIPDetails
	rip.City = &finding.City{CityName: "Amsterdam"}
	rip.GeoLocation = &finding.GeoLocation{Lat: 52.37, Lon: 4.89}
	rip.Organization.ISP, rip.Organization.Org = "Example ISP", "Example Org"
	ssh.Service.AdditionalInfo[finding.KeyVigilRule] = "ssh-bruteforce"

	probe := storetest.NetFinding(t, "Recon:EC2/PortProbeUnprotectedPort", "111122223333", "i-0fedcba9876543210", "198.51.100.20", at)
	probe.Service.Action.ActionType = finding.ActionPortProbe
	probe.Service.Action.NetworkConnectionAction = nil
	probe.Service.Action.PortProbeAction = &finding.PortProbeAction{PortProbeDetails: []finding.PortProbeDetail{
		{LocalPortDetails: &finding.PortDetails{Port: 22, PortName: "SSH"}, LocalIPDetails: &finding.LocalIPDetails{IPAddressV4: "10.0.1.5"},
			RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: "198.51.100.20", Country: &finding.Country{CountryName: "Example"}, Organization: &finding.Organization{ASN: "-1"}}},
		{LocalPortDetails: &finding.PortDetails{Port: 3389, PortName: "RDP"}, LocalIPDetails: &finding.LocalIPDetails{IPAddressV4: "10.0.1.5"},
			RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: "198.51.100.21"}},
	}}

	cred := storetest.APIFinding(t, "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "111122223333", "ASIAEXAMPLEKEYID", "198.51.100.24", at)
	cred.Resource.AccessKeyDetails.UserType, cred.Resource.AccessKeyDetails.UserName = "AssumedRole", "app-server-role"
	cred.Service.Action.AWSAPICallAction.DomainDetails = &finding.DomainDetails{Domain: "attacker.example"}

	dns := storetest.DNSFinding(t, "Trojan:EC2/DNSDataExfiltration", "444455556666", "i-0aaaabbbbccccdddd", "x7f3k.exfil.example", at)

	s3 := storetest.APIFinding(t, "Policy:S3/BucketPublicAccessGranted", "111122223333", "AKIAEXAMPLEKEY00001", "198.51.100.30", at)
	s3.Resource.ResourceType = finding.ResourceS3Bucket
	s3.Resource.S3BucketDetails = []finding.S3BucketDetail{{
		ARN: "arn:aws:s3:::example-public-bucket", Name: "example-public-bucket", Type: "Destination", CreatedAt: at - 7*86400_000,
		Owner: &finding.Owner{ID: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		Tags:  []finding.Tag{{Key: "team", Value: "web"}},
	}}
	s3.Service.Archived = true
	s3.Service.AdditionalInfo = finding.AdditionalInfo{"sample": true}

	// Titles and descriptions again, now that the details are filled in.
	for _, f := range []*finding.Finding{&cred, &s3} {
		ti, _ := finding.Lookup(f.Type)
		f.Title, f.Description = finding.Render(ti.Title, f), finding.Render(ti.Description, f)
	}
	s3.Title = "[SAMPLE] " + s3.Title
	return []finding.Finding{ssh, probe, cred, dns, s3}
}

func loadFixture(t testing.TB) []finding.Finding {
	t.Helper()
	path := filepath.Join("testdata", "findings.json")
	if *update {
		b, err := json.MarshalIndent(fixture(t), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fs []finding.Finding
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

func testOptions(t *testing.T) Options {
	l, err := notify.NewLinker("https://vigil.example.com")
	if err != nil {
		t.Fatal(err)
	}
	return Options{Link: l}
}

// TestGolden encodes the fixture in every format and compares with the golden
// files, which were checked against AWS's documentation and examples (see the
// structural tests below for what is checked mechanically).
func TestGolden(t *testing.T) {
	fs := loadFixture(t)
	for _, format := range Formats {
		for _, lines := range []bool{false, true} {
			opts := testOptions(t)
			opts.Lines = lines
			var buf bytes.Buffer
			if err := Encode(&buf, format, fs, opts); err != nil {
				t.Fatal(err)
			}
			name := string(format) + ".json"
			if lines {
				name = string(format) + ".jsonl"
			}
			golden := filepath.Join("testdata", "golden", name)
			got := buf.Bytes()
			if !lines {
				// Indent the document so that a diff of the golden file reads.
				var ind bytes.Buffer
				if err := json.Indent(&ind, got, "", "  "); err != nil {
					t.Fatalf("%s: not JSON: %v", name, err)
				}
				got = ind.Bytes()
			}
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test -update and review the diff)", name, golden)
			}
			if lines {
				n := 0
				for _, line := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
					if !json.Valid(line) {
						t.Errorf("%s line %d is not JSON", name, n+1)
					}
					n++
				}
				if n != len(fs) {
					t.Errorf("%s: %d lines for %d findings", name, n, len(fs))
				}
			}
		}
	}
}

func TestEmptyDocuments(t *testing.T) {
	for _, format := range Formats {
		var buf bytes.Buffer
		if err := Encode(&buf, format, nil, Options{}); err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
			t.Errorf("%s: empty export is not JSON: %v\n%s", format, err, buf.String())
		}
		switch format {
		case GuardDuty:
			if m, _ := v.(map[string]any); m == nil || len(m["findings"].([]any)) != 0 {
				t.Errorf("%s: %s", format, buf.String())
			}
		case ASFF:
			if m, _ := v.(map[string]any); m == nil || len(m["Findings"].([]any)) != 0 {
				t.Errorf("%s: %s", format, buf.String())
			}
		default:
			if a, ok := v.([]any); !ok || len(a) != 0 {
				t.Errorf("%s: %s", format, buf.String())
			}
		}
		buf.Reset()
		if err := Encode(&buf, format, nil, Options{Lines: true}); err != nil || buf.Len() != 0 {
			t.Errorf("%s lines of nothing: %q %v", format, buf.String(), err)
		}
	}
	if _, err := NewEncoder(&bytes.Buffer{}, "csv", Options{}); err == nil || !strings.Contains(err.Error(), `"csv"`) {
		t.Errorf("unknown format: %v", err)
	}
	if f, err := ParseFormat("ASFF"); err != nil || f != ASFF {
		t.Errorf("ParseFormat is not case-insensitive: %v %v", f, err)
	}
}

// TestGuardDutyRoundTrip: the guardduty export is GetFindings' response, and
// decodes back into the same findings (without vigil's evidence, unless asked).
func TestGuardDutyRoundTrip(t *testing.T) {
	fs := loadFixture(t)
	for _, evidence := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Encode(&buf, GuardDuty, fs, Options{IncludeEvidence: evidence}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if got := strings.Contains(out, "vigilEvidence"); got != evidence {
			t.Errorf("IncludeEvidence %v: vigilEvidence in the output: %v", evidence, got)
		}
		var resp struct {
			Findings []finding.Finding `json:"findings"`
		}
		dec := json.NewDecoder(&buf)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&resp); err != nil {
			t.Fatal(err)
		}
		for i := range fs {
			want := fs[i]
			if !evidence {
				want.Evidence = nil
			}
			a, _ := json.Marshal(want)
			b, _ := json.Marshal(resp.Findings[i])
			if !bytes.Equal(a, b) {
				t.Errorf("finding %d (evidence %v) changed in the round trip:\n%s\n%s", i, evidence, a, b)
			}
		}
	}
	// The input is not modified by dropping the evidence.
	if fs[0].Evidence == nil {
		t.Error("Encode removed the caller's evidence")
	}
	// Keys: GuardDuty's required top-level fields, and nothing vigil's.
	var buf bytes.Buffer
	_ = Encode(&buf, GuardDuty, fs[:1], Options{})
	var raw struct {
		Findings []map[string]json.RawMessage `json:"findings"`
	}
	_ = json.Unmarshal(buf.Bytes(), &raw)
	for _, k := range []string{"accountId", "arn", "createdAt", "id", "region", "resource", "schemaVersion", "severity", "type", "updatedAt", "service"} {
		if _, ok := raw.Findings[0][k]; !ok {
			t.Errorf("GuardDuty JSON lacks %s", k)
		}
	}
	for k := range raw.Findings[0] {
		if strings.HasPrefix(k, "vigil") {
			t.Errorf("GuardDuty JSON carries %s", k)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestEventBridgeEnvelope checks the envelope GuardDuty's events have.
func TestEventBridgeEnvelope(t *testing.T) {
	fs := loadFixture(t)
	var buf bytes.Buffer
	if err := Encode(&buf, EventBridge, fs, Options{Lines: true}); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var ev map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(ev))
		for k := range ev {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"account", "detail", "detail-type", "id", "region", "resources", "source", "time", "version"}; !slices.Equal(keys, want) {
			t.Errorf("event keys %v, want %v", keys, want)
		}
		var e EventBridgeEvent
		_ = json.Unmarshal([]byte(line), &e)
		f := &fs[i]
		if e.Version != "0" || e.DetailType != "GuardDuty Finding" || e.Source != "aws.guardduty" || e.Account != f.AccountID || e.Region != f.Region {
			t.Errorf("envelope %+v", e)
		}
		if string(ev["resources"]) != "[]" {
			t.Errorf("resources %s, want []", ev["resources"])
		}
		if _, err := time.Parse(time.RFC3339, e.Time); err != nil || strings.Contains(e.Time, ".") {
			t.Errorf("time %q is not RFC 3339 in whole seconds", e.Time)
		}
		if !uuidRE.MatchString(e.ID) || ids[e.ID] {
			t.Errorf("id %q is not a fresh UUID", e.ID)
		}
		ids[e.ID] = true
		if e.Detail.ID != f.ID || e.Detail.Service.Count != f.Service.Count {
			t.Errorf("detail %+v is not the finding", e.Detail)
		}
	}
	// Another state of a finding is another event.
	f := fs[0]
	id1 := ToEventBridge(&f, Options{}).ID
	f.UpdatedAt++
	if id2 := ToEventBridge(&f, Options{}).ID; id2 == id1 {
		t.Error("a new updatedAt kept the event ID")
	}
}

// Records spell types as AWS does: "C&CActivity", not "C\u0026CActivity".
func TestNoHTMLEscaping(t *testing.T) {
	f := storetest.NetFinding(t, "Backdoor:EC2/C&CActivity.B", "111122223333", "i-1", "198.51.100.7", finding.TimeOf(time.Now()))
	for _, format := range Formats {
		rec, err := Record(&f, format, Options{}, Created)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(rec, []byte("C&CActivity")) || bytes.Contains(rec, []byte(`\u0026`)) || bytes.HasSuffix(rec, []byte("\n")) {
			t.Errorf("%s: %.200s", format, rec)
		}
	}
}
