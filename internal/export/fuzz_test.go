package export

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
)

// FuzzRecord decodes arbitrary JSON as a finding (as the API or a file would
// hand one over) and encodes it in every format: never a panic, always JSON, and
// the ASFF and OCSF records keep their required attributes.
func FuzzRecord(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "findings.json"))
	if err != nil {
		f.Fatal(err)
	}
	var seeds []json.RawMessage
	if err := json.Unmarshal(b, &seeds); err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"type":"Recon:EC2/Portscan","severity":1e308,"service":{"count":-5}}`))
	f.Add([]byte(`{"resource":{"s3BucketDetails":[{}]},"service":{"action":{"portProbeAction":{"portProbeDetails":[{}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fd finding.Finding
		if json.Unmarshal(data, &fd) != nil {
			return
		}
		for _, format := range Formats {
			rec, err := Record(&fd, format, Options{}, activityOf(&fd))
			if err != nil {
				// Only a time outside what JSON timestamps can hold may fail.
				if !strings.Contains(err.Error(), "year") {
					t.Errorf("%s: %v", format, err)
				}
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(rec, &m); err != nil {
				t.Fatalf("%s: not JSON: %v", format, err)
			}
			switch format {
			case ASFF:
				for _, k := range []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources"} {
					if _, ok := m[k]; !ok {
						t.Errorf("ASFF lacks %s", k)
					}
				}
				if r, _ := m["Resources"].([]any); len(r) == 0 {
					t.Error("ASFF without a resource")
				}
			case OCSF:
				for _, k := range []string{"activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata", "finding_info", "cloud"} {
					if _, ok := m[k]; !ok {
						t.Errorf("OCSF lacks %s", k)
					}
				}
			}
		}
	})
}

// FuzzObjectKey: whatever account and region a finding claims, its object stays
// in the layout and inside the export folder.
func FuzzObjectKey(f *testing.F) {
	for _, s := range [][2]string{{"111122223333", "eu-west-1"}, {"../../etc", ".."}, {"", ""}, {"a/b\\c", "é\x00"}, {".", "..."}} {
		f.Add(s[0], s[1])
	}
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, account, region string) {
		key := ObjectKey(account, region, day, "00000000-0000-8000-8000-000000000000")
		parts := strings.Split(key, "/")
		if len(parts) != 8 || parts[0] != "AWSLogs" || parts[2] != "GuardDuty" || parts[7] != "00000000-0000-8000-8000-000000000000.jsonl.gz" {
			t.Fatalf("key %q is not in the layout", key)
		}
		for _, p := range parts {
			if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "\\\x00") {
				t.Fatalf("key %q has segment %q", key, p)
			}
		}
		dir := "/exports"
		if full := filepath.Join(dir, filepath.FromSlash(key)); !strings.HasPrefix(full, dir+"/") {
			t.Fatalf("key %q leaves the folder: %s", key, full)
		}
	})
}
