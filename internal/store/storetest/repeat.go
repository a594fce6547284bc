package storetest

import (
	"slices"
	"strconv"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// testRepeatColumns: whichever way a store writes a repeat — only the columns
// a repeat changes, or all of them when an indexed attribute moved (a higher
// severity, a new remote address, the archived flag of a suppressed
// occurrence) — every attribute column agrees with the stored finding: an
// Equals on its value finds the finding, a NotEquals does not.
func testRepeatColumns(t *testing.T, s store.Store) {
	f := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	f.Severity = finding.SeverityLow
	upsert(t, s, Base, f)
	checkColumns(t, s, f.ID, "insert")

	same := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base+60_000)
	same.Severity = finding.SeverityLow
	upsert(t, s, Base+60_000, same)
	checkColumns(t, s, f.ID, "plain repeat")

	higher := same
	higher.Severity = finding.SeverityHigh
	upsert(t, s, Base+120_000, higher)
	checkColumns(t, s, f.ID, "repeat of higher severity")

	moved := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "203.0.113.9", Base+180_000)
	moved.ID = f.ID // the same finding, seen from another address
	upsert(t, s, Base+180_000, moved)
	checkColumns(t, s, f.ID, "repeat from another address")

	suppressed := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "203.0.113.9", Base+240_000)
	suppressed.ID, suppressed.Service.Archived = f.ID, true
	upsert(t, s, Base+240_000, suppressed)
	got := checkColumns(t, s, f.ID, "suppressed repeat")
	if !got.Service.Archived || got.Service.Count != 5 || got.Severity != finding.SeverityHigh ||
		got.Service.Action.NetworkConnectionAction.RemoteIPDetails.IPAddressV4 != "203.0.113.9" {
		t.Errorf("after the repeats: archived %v count %d severity %v address %s", got.Service.Archived, got.Service.Count, got.Severity,
			got.Service.Action.NetworkConnectionAction.RemoteIPDetails.IPAddressV4)
	}
	// Sorting by severity (its own index) sees the new severity.
	low := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-2", "198.51.100.2", Base)
	low.Severity = finding.SeverityMedium
	upsert(t, s, Base, low)
	if ids := listAll(t, s, store.Criteria{}, store.Sort{Attribute: "severity", Order: store.Desc}, 0); !slices.Equal(ids, []string{f.ID, low.ID}) {
		t.Errorf("by severity: %v", ids)
	}
}

// checkColumns reads finding id and checks that every attribute's column
// holds the finding's value; it returns the finding.
func checkColumns(t *testing.T, s store.Store, id, step string) *finding.Finding {
	t.Helper()
	f := get(t, s, id)
	if f == nil {
		t.Fatalf("%s: finding %s not found", step, id)
	}
	for attr := range store.Attributes {
		var v string
		switch x := store.AttributeValue(f, attr).(type) {
		case string:
			v = x
		case float64:
			v = strconvG(x)
		case int64:
			v = strconv.FormatInt(x, 10)
		case bool:
			v = strconv.FormatBool(x)
		}
		if ids := listAll(t, s, eq(attr, v), store.Sort{}, 0); !slices.Contains(ids, id) {
			t.Errorf("%s: %s = %q does not find the finding: the column disagrees with the finding", step, attr, v)
		}
		neq := store.Criteria{Criterion: map[string]store.Condition{attr: {NotEquals: []string{v}}}}
		if ids := listAll(t, s, neq, store.Sort{}, 0); slices.Contains(ids, id) {
			t.Errorf("%s: %s != %q finds the finding: the column disagrees with the finding", step, attr, v)
		}
	}
	return f
}
