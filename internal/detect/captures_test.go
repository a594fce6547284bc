package detect_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
)

// sharedData is the folder of real captures beside the repository.
const sharedData = "../../../shared/data"

// captureCase is what a real CloudTrail capture must raise: the finding types
// (each with the resource it names) its technique implies, and nothing else.
type captureCase struct {
	file      string
	inventory string // a test inventory naming the instance whose credentials were stolen
	want      []string
}

// TestRealCloudTrailCaptures scans real CloudTrail recordings of attack
// techniques (Stratus Red Team detonations, the OTRF cloud bank breach) and
// checks the findings their techniques imply, and that the other techniques
// raise nothing: none of them is a technique a GuardDuty foundational type
// names (they are AnomalousBehavior territory, which vigil does not model).
// docs/detections.md lists which and why.
func TestRealCloudTrailCaptures(t *testing.T) {
	stratus := filepath.Join(sharedData, "stratus-red-team-detonation-logs")
	if _, err := os.Stat(stratus); err != nil {
		t.Skipf("real captures not found beside the repository (%v)", err)
	}
	cases := []captureCase{
		{file: "aws.defense-evasion.cloudtrail-stop.json", want: []string{"Stealth:IAMUser/CloudTrailLoggingDisabled AKIAGGWFBBHBE7D3M9WI"}},
		{file: "aws.defense-evasion.cloudtrail-delete.json", want: []string{"Stealth:IAMUser/CloudTrailLoggingDisabled AKIAFBJ48BV9CGRBRKGM"}},
		{file: "aws.defense-evasion.cloudtrail-event-selectors.json", want: []string{"Stealth:IAMUser/CloudTrailLoggingDisabled AKIA2I0BSXU5LNRWIN0K"}},
		// The stolen instance-role credentials are used from the attacker's host.
		// The capture holds only the theft, so without an inventory the first
		// address is learned as the instance's; with the instance's inventory
		// (its own public address) the use is flagged.
		{file: "aws.credential-access.ec2-steal-instance-credentials.json"},
		{file: "aws.credential-access.ec2-steal-instance-credentials.json", inventory: "testdata/captures/stratus-steal-credentials-inventory.json",
			want: []string{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS ASIAP5CT9NN8EYVU1FXV"}},
	}
	files, err := filepath.Glob(filepath.Join(stratus, "aws.*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if !slices.ContainsFunc(cases, func(c captureCase) bool { return c.file == name }) {
			cases = append(cases, captureCase{file: name})
		}
	}
	for _, c := range cases {
		label := strings.TrimSuffix(c.file, ".json")
		if c.inventory != "" {
			label += "+inventory"
		}
		t.Run(label, func(t *testing.T) {
			deps := detect.Deps{Intel: intel.NewSet(intel.BuiltinLists()...)}
			if c.inventory != "" {
				inv, _, err := inventory.Load(c.inventory)
				if err != nil {
					t.Fatal(err)
				}
				deps.Inventory = inv
			}
			fs, _ := scan(t, detect.DefaultConfig(), deps, 1, filepath.Join(stratus, c.file))
			checkCapture(t, fs, c.want)
		})
	}

	bank := filepath.Join(sharedData, "otrf-aws-cloud-bank-breach-s3", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
	t.Run("otrf-cloud-bank-breach", func(t *testing.T) {
		// Every address in the capture was anonymised to 1.2.3.4 and it starts
		// with the theft: without an inventory nothing can tell the thief's
		// address from the instance's.
		fs, _ := scan(t, detect.DefaultConfig(), detect.Deps{}, 1, bank)
		checkCapture(t, fs, nil)
	})
	t.Run("otrf-cloud-bank-breach+inventory", func(t *testing.T) {
		inv, _, err := inventory.Load("testdata/captures/otrf-bank-breach-inventory.json")
		if err != nil {
			t.Fatal(err)
		}
		fs, _ := scan(t, detect.DefaultConfig(), detect.Deps{Inventory: inv}, 1, bank)
		checkCapture(t, fs, []string{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS ASIA5FLZVX4OPVKKVBMX"})
	})
}

// checkCapture compares findings with "TYPE RESOURCE" strings, RESOURCE the
// finding's resource ID.
func checkCapture(t *testing.T, fs []*finding.Finding, want []string) {
	t.Helper()
	var got []string
	for _, f := range fs {
		got = append(got, string(f.Type)+" "+finding.ResourceID(&f.Resource))
	}
	slices.Sort(got)
	got = slices.Compact(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("findings:\n  got  %q\n  want %q", got, w)
	}
}
