package sqlstore

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// hostileFinding carries s in every kind of place a finding has strings:
// top-level fields, nested structs, tags, additionalInfo keys and values (a
// map of any), evidence.
func hostileFinding(tb testing.TB, s string) finding.Finding {
	f := storetest.NetFinding(tb, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.7", storetest.Base)
	f.ID, f.Title, f.Description, f.Region = s, s, s, s
	d := *f.Resource.InstanceDetails
	d.InstanceID, d.Tags = s, []finding.Tag{{Key: s, Value: s}}
	f.Resource.InstanceDetails = &d
	f.Service.AdditionalInfo = finding.AdditionalInfo{s: s, "n": 1.5e300, "f": 0.1, "i": int64(-3), "b": true, "nil": nil, "list": []any{s, 1.0}}
	f.Evidence = []finding.EvidenceRecord{finding.NewEvidence(storetest.Base, "flow", s, []byte(s))}
	return f
}

// checkBody fails unless RowOf's JSON is encoding/json's, byte for byte.
func checkBody(t *testing.T, f *finding.Finding) {
	t.Helper()
	want, wantErr := json.Marshal(f)
	r, err := RowOf(f)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("RowOf error %v, encoding/json's %v", err, wantErr)
	}
	if err == nil && r.Body != string(want) {
		t.Fatalf("RowOf writes\n%s\nencoding/json\n%s", r.Body, want)
	}
}

// TestBodyIsEncodingJSON: the stored JSON is what encoding/json writes, so
// that choosing the faster encoder changed nothing: invalid UTF-8 and NUL
// become U+FFFD (store.Text relies on it), HTML characters and U+2028/U+2029
// are escaped, maps are sorted, numbers read the same.
func TestBodyIsEncodingJSON(t *testing.T) {
	for _, f := range storetest.Corpus(t, 200, 3) {
		checkBody(t, &f)
	}
	for _, s := range []string{"", "a\x00b", "bad\xff\xfe\xc3", "<script>&amp;</script>", "\u2028\u2029", "ünï 🦀 \u202e", `"\`,
		"\t\n\r\x01\x1f\x7f", strings.Repeat("long ", 2000), "\xed\xa0\x80", "\xf4\x90\x80\x80"} {
		f := hostileFinding(t, s)
		checkBody(t, &f)
	}
	// A time outside GuardDuty's format is an error either way.
	f := hostileFinding(t, "x")
	f.CreatedAt = finding.Time(1 << 62)
	if _, err := RowOf(&f); err == nil {
		t.Error("RowOf encoded a time of year 146140482")
	}
}

// FuzzBodyIsEncodingJSON: for any string in any place, RowOf's JSON is
// encoding/json's.
func FuzzBodyIsEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "a\x00b", "bad\xff", "<&>", "\u2028", "🦀", `"\`, "\x7f"} {
		f.Add(s, 1.5)
	}
	f.Fuzz(func(t *testing.T, s string, x float64) {
		fd := hostileFinding(t, s)
		fd.Service.AdditionalInfo["x"] = x
		want, wantErr := json.Marshal(&fd)
		r, err := RowOf(&fd)
		if (err == nil) != (wantErr == nil) || err == nil && !bytes.Equal([]byte(r.Body), want) {
			t.Fatalf("%q %v: RowOf %v\n%s\nencoding/json %v\n%s", s, x, err, r.Body, wantErr, want)
		}
	})
}
