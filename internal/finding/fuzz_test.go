package finding

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// FuzzFindingJSON decodes arbitrary JSON as a Finding: decoding must not panic,
// and a decoded finding must encode, and encode again after a second decode to the
// same bytes (what the store writes is a fixed point).
func FuzzFindingJSON(f *testing.F) {
	if b, err := os.ReadFile("testdata/skeleton.json"); err == nil {
		f.Add(b)
	}
	if b, err := os.ReadFile("testdata/ssh-bruteforce.golden.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"createdAt": 1509491783824, "service": {"additionalInfo": {"inBytes": 1e3, "x": [1, {"y": null}]}}}`))
	f.Add([]byte(`{"resource": {"s3BucketDetails": [], "instanceDetails": {"tags": [{"key": "<script>"}]}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a Finding
		if json.Unmarshal(in, &a) != nil {
			return
		}
		out1, err := json.Marshal(&a)
		if err != nil {
			return // e.g. a timestamp beyond year 9999: refused, not mangled
		}
		var b Finding
		if err := json.Unmarshal(out1, &b); err != nil {
			t.Fatalf("re-decode of %s: %v", out1, err)
		}
		out2, err := json.Marshal(&b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out1, out2) {
			t.Fatalf("not a fixed point:\n%s\n%s", out1, out2)
		}
	})
}
