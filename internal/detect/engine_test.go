package detect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/cloudtrail"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/simulate"
)

// TestSameInputSameOutput scans one simulated corpus with different numbers of
// shards and reading workers. With one reader (the same record order) the
// findings must be byte-identical whatever the shards; with several readers,
// whose files interleave differently from run to run, the findings must be the
// same findings (identity, resource, times, count, severity, title): only the
// evidence sample and the number of records seen after the threshold can differ.
func TestSameInputSameOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a simulated corpus seven times")
	}
	dir, _ := simulateCorpus(t, 20000, simulate.LayoutS3)
	inv, _, err := inventory.Load(filepath.Join(dir, "inventory"))
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	var firstSummary string
	for _, c := range []struct {
		shards, workers int
		ordered         bool
	}{{1, 1, false}, {4, 1, false}, {3, 1, false}, {4, 2, false}, {3, 3, false}, {4, 2, true}, {3, 3, true}} {
		cfg := detect.DefaultConfig()
		cfg.Shards, cfg.Ordered = c.shards, c.ordered
		fs, _ := scan(t, cfg, detect.Deps{Inventory: inv, Intel: intel.NewSet(intel.BuiltinLists()...)}, c.workers, filepath.Join(dir, "AWSLogs"))
		b, err := json.Marshal(fs)
		if err != nil {
			t.Fatal(err)
		}
		var sum strings.Builder
		for _, f := range fs {
			fmt.Fprintf(&sum, "%s %s %s %s %s %s %s %d %g %s\n", f.ID, f.Type, finding.ResourceID(&f.Resource), f.Service.ResourceRole,
				f.CreatedAt, f.Service.EventFirstSeen, f.Service.EventLastSeen, f.Service.Count, float64(f.Severity), f.Title)
		}
		if first == nil {
			first, firstSummary = b, sum.String()
			continue
		}
		if (c.workers == 1 || c.ordered) && !bytes.Equal(first, b) {
			t.Errorf("shards %d, workers %d, ordered %v: findings are not byte-identical to one shard's and one reader's", c.shards, c.workers, c.ordered)
		}
		if sum.String() != firstSummary {
			t.Errorf("shards %d, workers %d: other findings than one shard and one reader:\n%s\nwant:\n%s", c.shards, c.workers, sum.String(), firstSummary)
		}
	}
}

// TestCancel stops the engine's context in the middle of a run: Process
// reports the cancellation, and Close returns it with what was found.
func TestCancel(t *testing.T) {
	rules, err := detect.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.New(detect.DefaultConfig(), detect.Deps{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.Start(ctx)
	batches := newFlowGen(9).batches(4)
	if err := e.Process(0, batches[0]); err != nil {
		t.Fatal(err)
	}
	cancel()
	var perr error
	for _, b := range batches[1:] {
		if perr = e.Process(0, b); perr != nil {
			break
		}
	}
	if !errors.Is(perr, context.Canceled) {
		t.Errorf("Process after cancel: %v, want context.Canceled", perr)
	}
	if _, err := e.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close after cancel: %v, want context.Canceled", err)
	}
}

// TestMissingFieldsCounted runs a user rule that groups by a field many events
// lack: those events are skipped by that rule, counted by field, and the rest
// is detected.
func TestMissingFieldsCounted(t *testing.T) {
	dir := t.TempDir()
	rule := "id: bucket-deleter\nkind: cloudtrail\nfilter: eventName like /^Delete/\ngroupBy: [requestParameters.bucketName]\nwindow: 10m\nthreshold:\n  count: true\n  atLeast: 2\nfinding:\n  type: Policy:S3/BucketBlockPublicAccessDisabled\n  resources: [{side: bucket}]\n"
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := detect.LoadRules(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.New(detect.DefaultConfig(), detect.Deps{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	events := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAX","userName":"x","principalId":"P"},"eventTime":"2026-11-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"DeleteBucketPolicy","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","requestParameters":{"bucketName":"b1"},"eventID":"1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}
{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAX","userName":"x","principalId":"P"},"eventTime":"2026-11-01T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"DeleteBucketPolicy","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","requestParameters":{"bucketName":"b1"},"eventID":"2","eventType":"AwsApiCall","recipientAccountId":"111122223333"}
{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAX","userName":"x","principalId":"P"},"eventTime":"2026-11-01T10:00:02Z","eventSource":"iam.amazonaws.com","eventName":"DeleteUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","requestParameters":{"userName":"y"},"eventID":"3","eventType":"AwsApiCall","recipientAccountId":"111122223333"}
{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAX","userName":"x","principalId":"P"},"eventTime":"2026-11-01T10:00:03Z","eventSource":"iam.amazonaws.com","eventName":"DeleteRole","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","eventID":"4","eventType":"AwsApiCall","recipientAccountId":"111122223333"}
`
	d := cloudtrail.New(cloudtrail.DefaultConfig())
	if _, err := d.Decode(context.Background(), decode.Input{Name: "t"}, bytes.NewReader([]byte(events)),
		func(b *decode.Batch) error { return e.Process(0, b) }, nil); err != nil {
		t.Fatal(err)
	}
	fs, err := e.Close()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, f := range fs {
		if f.Service.AdditionalInfo["vigilRule"] == "bucket-deleter" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d bucket-deleter findings, want 1", n)
	}
	st := e.Stats()
	for _, r := range st.Rules {
		if r.ID == "bucket-deleter" {
			if r.Missing["requestParameters.bucketName"] != 2 {
				t.Errorf("missing counts %v, want 2 for requestParameters.bucketName", r.Missing)
			}
			return
		}
	}
	t.Error("no stats for bucket-deleter")
}
