package finding

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gdCatalogue is GuardDuty's published finding-type catalogue
// (shared/data/guardduty-finding-types/findings.json, Apache-2.0, from
// github.com/trustoncloud/aws-guardduty-findings-directory).
type gdCatalogue struct {
	Findings []struct {
		Type         string `json:"type"`
		ResourceType string `json:"resource_type"`
		Source       string `json:"source"`
		Severity     string `json:"severity"`
	} `json:"findings"`
}

// sharedFile finds <repo root>/../shared/<rel>, the repo root being the directory
// of go.mod above the test's directory.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", rel)
}

// notRaised are the catalogue's types from vigil's sources that vigil does not
// raise, with the reason. A type that appears in a newer catalogue and is neither
// raised nor listed here fails TestCatalogueCoverage, so that someone decides.
var notRaised = map[string]string{
	"CredentialAccess:IAMUser/AnomalousBehavior":                           "ML baseline of a user's API behaviour",
	"DefenseEvasion:IAMUser/AnomalousBehavior":                             "ML",
	"Discovery:IAMUser/AnomalousBehavior":                                  "ML",
	"Exfiltration:IAMUser/AnomalousBehavior":                               "ML",
	"Impact:IAMUser/AnomalousBehavior":                                     "ML",
	"InitialAccess:IAMUser/AnomalousBehavior":                              "ML",
	"Persistence:IAMUser/AnomalousBehavior":                                "ML",
	"PrivilegeEscalation:IAMUser/AnomalousBehavior":                        "ML",
	"DefenseEvasion:IAMUser/BedrockLoggingDisabled":                        "Bedrock, outside vigil's scope so far",
	"UnauthorizedAccess:IAMUser/ResourceCredentialExfiltration.InsideAWS":  "non-EC2 resource credentials, not in guardduty.md §3",
	"UnauthorizedAccess:IAMUser/ResourceCredentialExfiltration.OutsideAWS": "non-EC2 resource credentials, not in guardduty.md §3",
	"CredentialAccess:IAMUser/CompromisedCredentials":                      "correlation type, not in guardduty.md §3",
	"Policy:IAMUser/ShortTermRootCredentialUsage":                          "not in guardduty.md §3",
}

func loadCatalogue(t *testing.T) gdCatalogue {
	t.Helper()
	path := sharedFile(t, "data/guardduty-finding-types/findings.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("GuardDuty catalogue %s absent (it is present in CI, beside the repository)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var c gdCatalogue
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(c.Findings) < 100 {
		t.Fatalf("%s: only %d types", path, len(c.Findings))
	}
	return c
}

// TestCatalogueMatchesGuardDuty checks every type vigil raises against GuardDuty's
// catalogue: the type exists, its default severity has the same band, its data
// source and resource type agree.
func TestCatalogueMatchesGuardDuty(t *testing.T) {
	c := loadCatalogue(t)
	byType := map[string]int{}
	for i, f := range c.Findings {
		byType[f.Type] = i
	}
	resource := map[ResourceType]string{ResourceInstance: "Amazon EC2", ResourceAccessKey: "IAM", ResourceS3Bucket: "Amazon S3"}
	for _, ti := range Types() {
		if ti.Source == SourceAudit {
			continue // vigil's own types (TestAuditTypes)
		}
		i, ok := byType[string(ti.Type)]
		if !ok {
			t.Errorf("%s: not in GuardDuty's catalogue", ti.Type)
			continue
		}
		gd := c.Findings[i]
		band, err := ParseBand(gd.Severity)
		if err != nil {
			t.Errorf("%s: catalogue severity %q: %v", ti.Type, gd.Severity, err)
		} else if ti.Severity.Band() != band {
			t.Errorf("%s: severity %v (%v), GuardDuty %s", ti.Type, ti.Severity, ti.Severity.Band().Title(), gd.Severity)
		}
		if !strings.Contains(gd.Source, ti.Source.String()) {
			t.Errorf("%s: source %q, GuardDuty %q", ti.Type, ti.Source, gd.Source)
		}
		if resource[ti.ResourceType] != gd.ResourceType {
			t.Errorf("%s: resource type %s, GuardDuty %q", ti.Type, ti.ResourceType, gd.ResourceType)
		}
	}
}

// TestCatalogueCoverage checks that vigil raises every EC2, IAMUser and S3 type
// GuardDuty detects from flow logs, DNS logs and CloudTrail management events,
// except those in notRaised.
func TestCatalogueCoverage(t *testing.T) {
	c := loadCatalogue(t)
	n := 0
	for _, f := range c.Findings {
		if !strings.Contains(f.Type, ":EC2/") && !strings.Contains(f.Type, ":IAMUser/") && !strings.Contains(f.Type, ":S3/") {
			continue
		}
		switch f.Source {
		case "VPC flow logs", "DNS logs", "CloudTrail management events",
			"CloudTrail management events or CloudTrail data events for S3":
		default:
			continue
		}
		if _, ok := Lookup(Type(f.Type)); ok {
			n++
			continue
		}
		if _, ok := notRaised[f.Type]; !ok {
			t.Errorf("%s (%s, %s): in GuardDuty's catalogue, neither raised by vigil nor listed in notRaised", f.Type, f.Source, f.Severity)
		}
	}
	if want := len(Types()) - len(auditTypes); n != want {
		t.Errorf("%d of vigil's %d GuardDuty types matched", n, want)
	}
}

// TestAuditTypes checks vigil's own types: named as GuardDuty names types but in
// a family of their own, so that none can be mistaken for a GuardDuty type, and
// complete enough to render and aggregate.
func TestAuditTypes(t *testing.T) {
	if len(auditTypes) == 0 {
		t.Fatal("no audit types")
	}
	for _, at := range auditTypes {
		ti, ok := Lookup(at.Type)
		if !ok {
			t.Errorf("%s: not in the catalogue", at.Type)
			continue
		}
		if !strings.Contains(string(ti.Type), ":Vigil/") || ti.Source != SourceAudit || ti.ActionKey() != KeyAPI {
			t.Errorf("%s: %+v", ti.Type, ti)
		}
		f := ti.New("000000000000", "local", 1767261600000)
		f.Resource.AccessKeyDetails = &AccessKeyDetails{AccessKeyID: "0123456789abcdef", UserName: "ops"}
		f.Service.Action.AWSAPICallAction = &AWSAPICallAction{API: "CreateFilter", ServiceName: "vigil",
			RemoteIPDetails: &RemoteIPDetails{IPAddressV4: "192.0.2.10"}}
		if err := f.Complete(""); err != nil {
			t.Fatalf("%s: %v", ti.Type, err)
		}
		if !strings.Contains(f.Title, "ops") || !strings.Contains(f.Description, "CreateFilter") || !strings.Contains(f.Description, "192.0.2.10") {
			t.Errorf("%s: title %q, description %q", ti.Type, f.Title, f.Description)
		}
		if f.Severity.Band() != BandMedium {
			t.Errorf("%s: severity %v", ti.Type, f.Severity)
		}
	}
}
