package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/finding"
)

// The checks below are what AWS documents for ASFF (the required top-level
// attributes, the Types taxonomy's namespaces, Severity's labels and their
// Normalized ranges, the limits on Title, Description and ProductFields, the
// resource types) and what the OCSF schema requires of a Detection Finding.
// They run on decoded JSON, as a consumer sees it, not on Go structs.

var asffNamespaces = []string{"Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors", "Sensitive Data Identifications"}

// normalizedRange is Security Hub's mapping of Normalized to Label.
var normalizedRange = map[string][2]float64{
	"INFORMATIONAL": {0, 0}, "LOW": {1, 39}, "MEDIUM": {40, 69}, "HIGH": {70, 89}, "CRITICAL": {90, 100},
}

func checkASFF(t *testing.T, a map[string]any) {
	t.Helper()
	str := func(k string) string {
		s, ok := a[k].(string)
		if !ok || s == "" {
			t.Errorf("ASFF %s: %v is not a non-empty string", k, a[k])
		}
		return s
	}
	if str("SchemaVersion") != "2018-10-08" {
		t.Errorf("SchemaVersion %v", a["SchemaVersion"])
	}
	if id := str("Id"); len(id) > 512 {
		t.Errorf("Id of %d characters", len(id))
	}
	if !regexp.MustCompile(`^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:\d{12}:product/\d{12}/default$`).MatchString(str("ProductArn")) {
		t.Errorf("ProductArn %q is not a custom-integration product ARN", a["ProductArn"])
	}
	if !regexp.MustCompile(`^arn:aws[a-z-]*:guardduty:[a-z0-9-]+:\d{12}:detector/[0-9a-f]{32}$`).MatchString(str("GeneratorId")) {
		t.Errorf("GeneratorId %q is not a detector ARN", a["GeneratorId"])
	}
	if !regexp.MustCompile(`^\d{12}$`).MatchString(str("AwsAccountId")) {
		t.Errorf("AwsAccountId %q", a["AwsAccountId"])
	}
	for _, k := range []string{"CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"} {
		if v, ok := a[k]; ok || k == "CreatedAt" || k == "UpdatedAt" {
			if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(v)); err != nil {
				t.Errorf("%s %v is not ISO 8601: %v", k, v, err)
			}
		}
	}
	if n := utf8.RuneCountInString(str("Title")); n > 256 {
		t.Errorf("Title of %d characters", n)
	}
	if n := utf8.RuneCountInString(str("Description")); n > 1024 {
		t.Errorf("Description of %d characters", n)
	}
	types, _ := a["Types"].([]any)
	if len(types) == 0 {
		t.Error("no Types")
	}
	for _, ty := range types {
		s, _ := ty.(string)
		ns, _, _ := strings.Cut(s, "/")
		if !contains(asffNamespaces, ns) {
			t.Errorf("Types value %q: namespace %q is not one of ASFF's", s, ns)
		}
	}
	sev, _ := a["Severity"].(map[string]any)
	label, _ := sev["Label"].(string)
	norm, ok := sev["Normalized"].(float64)
	r, known := normalizedRange[label]
	if !known || !ok || norm != float64(int(norm)) || norm < r[0] || norm > r[1] {
		t.Errorf("Severity %v: Label and Normalized disagree with Security Hub's mapping", sev)
	}
	if pf, ok := a["ProductFields"].(map[string]any); ok {
		if len(pf) > 50 {
			t.Errorf("%d ProductFields; Security Hub takes 50", len(pf))
		}
		for k, v := range pf {
			if _, ok := v.(string); !ok || len(k) > 128 {
				t.Errorf("ProductFields %q: %v", k, v)
			}
		}
	}
	res, _ := a["Resources"].([]any)
	if len(res) == 0 {
		t.Error("no Resources")
	}
	for _, x := range res {
		m, _ := x.(map[string]any)
		typ, _ := m["Type"].(string)
		if id, _ := m["Id"].(string); typ == "" || id == "" {
			t.Errorf("resource %v lacks Type or Id", m)
		}
		if !contains([]string{"AwsEc2Instance", "AwsIamAccessKey", "AwsS3Bucket", "Other"}, typ) {
			t.Errorf("resource type %q", typ)
		}
		if d, ok := m["Details"].(map[string]any); ok {
			if _, ok := d[typ]; !ok || len(d) != 1 {
				t.Errorf("resource %s has details %v", typ, d)
			}
		}
	}
	if rs := str("RecordState"); rs != "ACTIVE" && rs != "ARCHIVED" {
		t.Errorf("RecordState %q", rs)
	}
	if w, _ := a["Workflow"].(map[string]any); w["Status"] != "NEW" {
		t.Errorf("Workflow %v", a["Workflow"])
	}
	fpf, _ := a["FindingProviderFields"].(map[string]any)
	if fs, _ := fpf["Severity"].(map[string]any); fs["Label"] != label {
		t.Errorf("FindingProviderFields %v", fpf)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func decodeLines(t *testing.T, format Format, fs []finding.Finding) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	opts := testOptions(t)
	opts.Lines = true
	if err := Encode(&buf, format, fs, opts); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestASFFStructure(t *testing.T) {
	fs := loadFixture(t)
	for i, a := range decodeLines(t, ASFF, fs) {
		t.Run(string(fs[i].Type), func(t *testing.T) { checkASFF(t, a) })
	}
}

// TestASFFAsGuardDutySendsIt compares the SSH brute force finding with the
// "typical finding from GuardDuty" of the GuardDuty User Guide: the same
// top-level attributes (but WorkflowState, which AWS deprecated), the same Types
// value, the same resource type and ARN shape, and ProductFields under the same
// names.
func TestASFFAsGuardDutySendsIt(t *testing.T) {
	fs := loadFixture(t)
	a := decodeLines(t, ASFF, fs[:1])[0]
	for _, k := range []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "FirstObservedAt",
		"LastObservedAt", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "SourceUrl", "ProductFields", "Resources",
		"Workflow", "RecordState"} {
		if _, ok := a[k]; !ok {
			t.Errorf("lacks %s, which GuardDuty's ASFF findings have", k)
		}
	}
	if got := a["Types"].([]any)[0]; got != "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce" {
		t.Errorf("Types %v", got)
	}
	if a["Id"] != fs[0].ARN {
		t.Errorf("Id %v, want the finding ARN", a["Id"])
	}
	r := a["Resources"].([]any)[0].(map[string]any)
	if r["Type"] != "AwsEc2Instance" || r["Id"] != "arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0" || r["Partition"] != "aws" {
		t.Errorf("resource %v", r)
	}
	d := r["Details"].(map[string]any)["AwsEc2Instance"].(map[string]any)
	for _, k := range []string{"Type", "ImageId", "IpV4Addresses", "VpcId", "SubnetId", "LaunchedAt"} {
		if _, ok := d[k]; !ok {
			t.Errorf("AwsEc2Instance details lack %s", k)
		}
	}
	pf := a["ProductFields"].(map[string]any)
	for k, want := range map[string]string{
		"aws/guardduty/service/action/networkConnectionAction/remoteIpDetails/ipAddressV4":      "198.51.100.7",
		"aws/guardduty/service/action/networkConnectionAction/remotePortDetails/portName":       "Unknown",
		"aws/guardduty/service/action/networkConnectionAction/localPortDetails/port":            "22",
		"aws/guardduty/service/action/networkConnectionAction/remoteIpDetails/organization/asn": "64500",
		"aws/guardduty/service/action/networkConnectionAction/connectionDirection":              "INBOUND",
		"aws/guardduty/service/action/networkConnectionAction/blocked":                          "false",
		"aws/guardduty/service/action/actionType":                                               "NETWORK_CONNECTION",
		"aws/guardduty/service/archived":                                                        "false",
		"aws/guardduty/service/count":                                                           "74",
		"aws/guardduty/service/resourceRole":                                                    "TARGET",
		"aws/guardduty/service/serviceName":                                                     "guardduty",
		"aws/guardduty/service/detectorId":                                                      fs[0].Service.DetectorID,
	} {
		if pf[k] != want {
			t.Errorf("ProductFields[%s] = %v, want %q", k, pf[k], want)
		}
	}
	// ASFF's Asn is a number, GuardDuty's a string.
	org := a["Action"].(map[string]any)["NetworkConnectionAction"].(map[string]any)["RemoteIpDetails"].(map[string]any)["Organization"].(map[string]any)
	if org["Asn"] != float64(64500) {
		t.Errorf("Asn %v (%T), want the number 64500", org["Asn"], org["Asn"])
	}
}

func TestASFFTypesCoverCatalogue(t *testing.T) {
	for _, ti := range finding.Types() {
		if strings.Contains(string(ti.Type), ":Vigil/") {
			continue // vigil's own types (about vigil itself) are placed by purpose
		}
		if _, ok := asffTypes[ti.Type]; !ok {
			t.Errorf("%s has no documented ASFF type", ti.Type)
		}
	}
	for typ, asff := range asffTypes {
		if _, ok := finding.Lookup(typ); !ok {
			t.Errorf("asffTypes lists %s, which is not in the catalogue", typ)
		}
		cls := asff[strings.LastIndex(asff, "/")+1:]
		if !strings.Contains(strings.ReplaceAll(string(typ), "/", "-"), strings.TrimPrefix(cls, "EC2:")) &&
			!strings.HasPrefix(string(typ), "DefenseEvasion:EC2/") && !strings.HasPrefix(string(typ), "PenTest:") {
			t.Errorf("%s maps to %s, whose classifier is another type", typ, asff)
		}
	}
	// Types outside the table are placed by purpose.
	for typ, want := range map[finding.Type]string{
		"Recon:EC2/Unknown":         "TTPs/Discovery/Recon:EC2-Unknown",
		"Exfiltration:S3/Something": "Effects/Data Exfiltration/Exfiltration:S3-Something",
		"Odd":                       "TTPs/Odd",
	} {
		if got := ASFFType(typ); got != want {
			t.Errorf("ASFFType(%s) = %s, want %s", typ, got, want)
		}
	}
}

func TestASFFLimits(t *testing.T) {
	fs := loadFixture(t)
	f := fs[0]
	f.Title = strings.Repeat("é", 300)
	f.Description = strings.Repeat("d", 5000)
	f.Severity = 9.5
	info := finding.AdditionalInfo{}
	for i := range 80 {
		info["k"+strconv.Itoa(i)] = strings.Repeat("v", 100)
	}
	f.Service.AdditionalInfo = info
	f.Service.Action.PortProbeAction = &finding.PortProbeAction{}
	for i := range 40 {
		f.Service.Action.PortProbeAction.PortProbeDetails = append(f.Service.Action.PortProbeAction.PortProbeDetails,
			finding.PortProbeDetail{LocalPortDetails: &finding.PortDetails{Port: i}, RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: "198.51.100.1"}})
	}
	a := decodeLines(t, ASFF, []finding.Finding{f})[0]
	checkASFF(t, a)
	if a["Severity"].(map[string]any)["Label"] != "CRITICAL" || a["Severity"].(map[string]any)["Normalized"] != float64(95) {
		t.Errorf("severity 9.5: %v", a["Severity"])
	}
	for sev, want := range map[finding.Severity]int{1: 10, 3.95: 39, 4: 40, 6.99: 69, 7: 70, 8.99: 89, 9: 90, 10: 100, 10.5: 0, 0: 0} {
		if got := normalized(sev); got != want {
			t.Errorf("normalized(%v) = %d, want %d", sev, got, want)
		}
	}
	// A finding without any resource identity still has a resource.
	bare := finding.Finding{ID: "x", ARN: "arn:aws:guardduty:us-east-1:111122223333:detector/" + strings.Repeat("a", 32) + "/finding/x",
		AccountID: "111122223333", Region: "us-east-1", Type: "Recon:EC2/Portscan", Severity: 0.5}
	b := decodeLines(t, ASFF, []finding.Finding{bare})[0]
	checkASFF(t, b)
	if b["Severity"].(map[string]any)["Label"] != "INFORMATIONAL" {
		t.Errorf("severity 0.5: %v", b["Severity"])
	}
	// Archived findings are ARCHIVED records.
	if decodeLines(t, ASFF, fs[4:5])[0]["RecordState"] != "ARCHIVED" || decodeLines(t, ASFF, fs[4:5])[0]["Sample"] != true {
		t.Error("the archived sample finding is not ARCHIVED and Sample")
	}
}

func checkOCSF(t *testing.T, o map[string]any) {
	t.Helper()
	num := func(k string) float64 {
		v, ok := o[k].(float64)
		if !ok || v != float64(int64(v)) {
			t.Errorf("OCSF %s: %v is not an integer", k, o[k])
		}
		return v
	}
	act := num("activity_id")
	if act != 1 && act != 2 {
		t.Errorf("activity_id %v", act)
	}
	if num("category_uid") != 2 || num("class_uid") != 2004 || num("type_uid") != 2004*100+act {
		t.Errorf("class %v/%v/%v", o["category_uid"], o["class_uid"], o["type_uid"])
	}
	if s := num("severity_id"); !(s >= 0 && s <= 6 || s == 99) {
		t.Errorf("severity_id %v", s)
	}
	if s := num("status_id"); !(s >= 0 && s <= 6 || s == 99) {
		t.Errorf("status_id %v", s)
	}
	if tm := num("time"); tm < 1e12 || tm > 1e13 {
		t.Errorf("time %v is not epoch milliseconds", tm)
	}
	md, _ := o["metadata"].(map[string]any)
	prod, _ := md["product"].(map[string]any)
	if md["version"] != OCSFVersion || prod["name"] == "" || prod["vendor_name"] == "" {
		t.Errorf("metadata %v", md)
	}
	if p, _ := md["profiles"].([]any); len(p) != 1 || p[0] != "cloud" {
		t.Errorf("profiles %v", md["profiles"])
	}
	fi, _ := o["finding_info"].(map[string]any)
	if uid, _ := fi["uid"].(string); uid == "" {
		t.Errorf("finding_info.uid missing: %v", fi)
	}
	if title, _ := fi["title"].(string); title == "" {
		t.Errorf("finding_info.title missing")
	}
	cloud, _ := o["cloud"].(map[string]any)
	if cloud["provider"] != "AWS" {
		t.Errorf("cloud %v (the cloud profile requires cloud.provider)", cloud)
	}
	// Every observable points at an attribute holding its value.
	obs, _ := o["observables"].([]any)
	for _, x := range obs {
		m, _ := x.(map[string]any)
		name, _ := m["name"].(string)
		if _, ok := m["type_id"].(float64); !ok || name == "" {
			t.Errorf("observable %v lacks name or type_id", m)
			continue
		}
		if got := resolve(o, name); got != m["value"] {
			t.Errorf("observable %s = %v, but the event holds %v there", name, m["value"], got)
		}
	}
}

// resolve follows an OCSF attribute path such as "resources[0].uid".
func resolve(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		name, idx, indexed := strings.Cut(part, "[")
		m, _ := v.(map[string]any)
		v = m[name]
		if indexed {
			i, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			a, _ := v.([]any)
			if i >= len(a) {
				return nil
			}
			v = a[i]
		}
	}
	return v
}

func TestOCSFStructure(t *testing.T) {
	fs := loadFixture(t)
	for i, o := range decodeLines(t, OCSF, fs) {
		t.Run(string(fs[i].Type), func(t *testing.T) { checkOCSF(t, o) })
	}
	// Severity bands, activity and status.
	f := fs[1]
	for sev, want := range map[finding.Severity]float64{2: 2, 5: 3, 8: 4, 9: 5} {
		f.Severity = sev
		if got := ToOCSF(&f, Options{}, Created); float64(got.SeverityID) != want {
			t.Errorf("severity %v → severity_id %d, want %v", sev, got.SeverityID, want)
		}
	}
	if o := ToOCSF(&fs[0], Options{}, Updated); o.ActivityID != 2 || o.TypeUID != 200402 || o.Count != 74 {
		t.Errorf("update: %+v", o)
	}
	if o := ToOCSF(&fs[4], Options{}, Created); o.StatusID != 3 || o.IsAlert {
		t.Errorf("archived: status %d, is_alert %v", o.StatusID, o.IsAlert)
	}
	// Inbound: the remote address is the source; outbound: the destination.
	out := fs[0]
	nca := *out.Service.Action.NetworkConnectionAction
	nca.ConnectionDirection = finding.DirectionOutbound
	out.Service.Action.NetworkConnectionAction = &nca
	o := ToOCSF(&out, Options{}, Created)
	if o.Evidences[0].DstEndpoint.IP != "198.51.100.7" || o.Evidences[0].ConnectionInfo.Direction != "Outbound" {
		t.Errorf("outbound evidence %+v", o.Evidences[0])
	}
}
