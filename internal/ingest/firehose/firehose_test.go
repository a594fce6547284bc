package firehose_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/ingest/firehose"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/pipeline/pipelinetest"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

const accessKey = "fh-secret-key"

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// subscription is a CloudWatch Logs subscription payload (gzip JSON) whose
// log events are flow-log messages, as Firehose receives it.
func subscription(t *testing.T, msgs []string) []byte {
	t.Helper()
	type event struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	doc := struct {
		MessageType         string   `json:"messageType"`
		Owner               string   `json:"owner"`
		LogGroup            string   `json:"logGroup"`
		LogStream           string   `json:"logStream"`
		SubscriptionFilters []string `json:"subscriptionFilters"`
		LogEvents           []event  `json:"logEvents"`
	}{MessageType: "DATA_MESSAGE", Owner: "111122223333", LogGroup: "vpc-flow", LogStream: "eni-0a1b2c3d4e5f60718-all", SubscriptionFilters: []string{"to-firehose"}}
	for i, m := range msgs {
		doc.LogEvents = append(doc.LogEvents, event{ID: fmt.Sprint(i), Timestamp: t0.UnixMilli(), Message: m})
	}
	b, _ := json.Marshal(doc)
	return gzipBytes(t, b)
}

type response struct {
	RequestID    string `json:"requestId"`
	Timestamp    int64  `json:"timestamp"`
	ErrorMessage string `json:"errorMessage"`
}

// deliver posts a delivery as Firehose does and returns the status and answer.
func deliver(t *testing.T, url, key, id string, records [][]byte, gz bool) (int, response) {
	t.Helper()
	type rec struct {
		Data []byte `json:"data"`
	}
	body := struct {
		RequestID string `json:"requestId"`
		Timestamp int64  `json:"timestamp"`
		Records   []rec  `json:"records"`
	}{RequestID: id, Timestamp: time.Now().UnixMilli()}
	for _, r := range records {
		body.Records = append(body.Records, rec{r})
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	if gz {
		b = gzipBytes(t, b)
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Firehose-Protocol-Version", "1.0")
	req.Header.Set("X-Amz-Firehose-Request-Id", id)
	req.Header.Set("X-Amz-Firehose-Source-Arn", "arn:aws:firehose:us-east-1:111122223333:deliverystream/vigil")
	req.Header.Set("X-Amz-Firehose-Access-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("answer is not Firehose's JSON: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return resp.StatusCode, out
}

func newSource(t *testing.T) *firehose.Source {
	t.Helper()
	cfg := firehose.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.AccessKey = accessKey
	src, err := firehose.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestDeliveries: subscription payloads and plain lines, gzip or not, are
// counted once each; retries of a delivery (same request ID) are answered 200
// and not counted again, also after a restart; a wrong key gets 401, a bad
// body 400, each with Firehose's JSON answer.
func TestDeliveries(t *testing.T) {
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	rules := pipelinetest.Rules(t)
	src := newSource(t)
	r := pipelinetest.Start(t, st, rules, pipeline.NamedSource{Name: "cwl", Source: src})
	url := "http://" + src.Addr() + "/"

	lines := pipelinetest.BadPortLines(t0, 3)
	status, ans := deliver(t, url, accessKey, "req-1", [][]byte{subscription(t, lines[:2]), subscription(t, lines[2:])}, true)
	if status != 200 || ans.RequestID != "req-1" || ans.Timestamp == 0 || ans.ErrorMessage != "" {
		t.Fatalf("delivery: %d %+v", status, ans)
	}
	// Answered 200 only once committed: the findings are in the store now.
	if n := pipelinetest.Counts(t, st)[pipelinetest.BadPortType]; n != 3 {
		t.Fatalf("after the 200: count %d, want 3", n)
	}
	plain := []byte(strings.Join(pipelinetest.BadPortLines(t0.Add(time.Minute), 2), "\n") + "\n")
	if status, ans = deliver(t, url, accessKey, "req-2", [][]byte{plain}, false); status != 200 {
		t.Fatalf("plain delivery: %d %+v", status, ans)
	}
	if status, _ = deliver(t, url, accessKey, "req-1", [][]byte{subscription(t, lines)}, true); status != 200 {
		t.Fatalf("retry: %d", status)
	}
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 5, 5*time.Second)

	if status, ans = deliver(t, url, "wrong", "req-3", [][]byte{plain}, false); status != 401 || ans.RequestID != "req-3" || ans.ErrorMessage == "" {
		t.Errorf("wrong key: %d %+v", status, ans)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"requestId":"req-4","records":[{"data":"not base64!"}]}`))
	req.Header.Set("X-Amz-Firehose-Request-Id", "req-4")
	req.Header.Set("X-Amz-Firehose-Access-Key", accessKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var bad response
	json.NewDecoder(resp.Body).Decode(&bad)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(bad.ErrorMessage, "data") {
		t.Errorf("bad base64: %d %+v", resp.StatusCode, bad)
	}
	r.Stop(t)

	// After a restart, a retry of a committed delivery is still known.
	src = newSource(t)
	pipelinetest.Start(t, st, rules, pipeline.NamedSource{Name: "cwl", Source: src})
	url = "http://" + src.Addr() + "/"
	if status, _ = deliver(t, url, accessKey, "req-2", [][]byte{plain}, false); status != 200 {
		t.Fatalf("retry after restart: %d", status)
	}
	if status, _ = deliver(t, url, accessKey, "req-5", [][]byte{plain}, false); status != 200 {
		t.Fatalf("new delivery after restart: %d", status)
	}
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 7, 5*time.Second)
	if d := src.Counters.Duplicates.Load(); d != 1 {
		t.Errorf("duplicates after restart = %d, want 1", d)
	}
}

func TestParseRequestErrors(t *testing.T) {
	for _, c := range []struct{ body, enc, want string }{
		{`{"records":[]}`, "", "missing requestId"},
		{`{"requestId":"x","records":[{"data":5}]}`, "", "field records.data"},
		{`{"requestId":"x"} {}`, "", "more than one"},
		{`{"requestId":`, "", "body"},
		{`plain`, "gzip", "body is not"},
		{`{}`, "br", "Content-Encoding"},
		{strings.Repeat(" ", 2000) + `{"requestId":"x"}`, "", "larger than"},
	} {
		_, err := firehose.ParseRequest(strings.NewReader(c.body), c.enc, 1024, 4096)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.body, err, c.want)
		}
	}
}

// FuzzParseRequest: no body makes the parser panic, and what it accepts has a
// request ID.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"requestId":"a","timestamp":1,"records":[{"data":"aGVsbG8K"}]}`), false)
	f.Add([]byte(`{"requestId":"a","records":[{"data":""}]}`), true)
	f.Add([]byte(`[]`), false)
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		enc := ""
		if gz {
			enc = "gzip"
		}
		req, err := firehose.ParseRequest(bytes.NewReader(body), enc, 1<<16, 1<<18)
		if err == nil && req.RequestID == "" {
			t.Fatal("accepted a request without an ID")
		}
	})
}
