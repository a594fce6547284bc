package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// capture is an HTTP endpoint on 127.0.0.1 that records requests and answers
// with a scripted status.
type capture struct {
	srv *httptest.Server

	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	paths    []string
	status   int
	respBody string
	header   http.Header
}

func newCapture(t *testing.T) *capture {
	c := &capture{status: http.StatusOK, header: http.Header{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.bodies = append(c.bodies, b)
		c.headers = append(c.headers, r.Header.Clone())
		c.paths = append(c.paths, r.URL.Path)
		for k, v := range c.header {
			w.Header()[k] = v
		}
		w.WriteHeader(c.status)
		fmt.Fprint(w, c.respBody)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *capture) answer(status int, body string, header ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.respBody = status, body
	c.header = http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		c.header.Set(header[i], header[i+1])
	}
}

func (c *capture) last(t *testing.T, v any) http.Header {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) == 0 {
		t.Fatal("no request arrived")
	}
	if err := json.Unmarshal(c.bodies[len(c.bodies)-1], v); err != nil {
		t.Fatalf("request body is not JSON: %v\n%s", err, c.bodies[len(c.bodies)-1])
	}
	return c.headers[len(c.headers)-1]
}

// hostile is a finding whose log-derived values try to inject markup, mentions,
// links and mail headers.
func hostile(t *testing.T) finding.Finding {
	f := storetest.DNSFinding(t, "Trojan:EC2/DNSDataExfiltration", "111122223333", "i-0123456789abcdef0",
		"x.<!channel>.evil.example", finding.TimeOf(start))
	f.Title = "Exfil via <!channel> & <https://evil.example|click here> [phish](https://evil.example)\r\nBcc: victim@example.com"
	return f
}

func alertOf(f finding.Finding, kind Kind, id int64) Alert {
	return Alert{Finding: f, Kind: kind, ID: id, Rev: 0, QueuedAt: start, Link: "https://vigil.example.com/findings/" + f.ID}
}

func TestSlackMessage(t *testing.T) {
	c := newCapture(t)
	s := NewSlack(SlackConfig{WebhookURL: Secret(c.srv.URL + "/services/T0/B0/XXXX"), Channel: "#security"}, newHTTPClient(5*time.Second))
	f := storetest.NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-0123456789abcdef0", "198.51.100.7", finding.TimeOf(start))
	f.Severity = 8
	if err := s.Send(context.Background(), []Alert{alertOf(f, KindNew, 1)}); err != nil {
		t.Fatal(err)
	}
	var m SlackMessage
	c.last(t, &m)
	if m.Channel != "#security" || !strings.Contains(m.Text, "HIGH") {
		t.Errorf("channel %q text %q", m.Channel, m.Text)
	}
	if len(m.Blocks) != 4 || m.Blocks[0].Type != "header" || m.Blocks[1].Type != "section" || m.Blocks[2].Type != "section" || m.Blocks[3].Type != "context" {
		t.Fatalf("blocks %+v", m.Blocks)
	}
	if h := m.Blocks[0].Text; h.Type != "plain_text" || !strings.Contains(h.Text, "New High finding: UnauthorizedAccess:EC2/SSHBruteForce") {
		t.Errorf("header %+v", h)
	}
	link := "https://vigil.example.com/findings/" + f.ID
	if title := m.Blocks[1].Text.Text; !strings.HasPrefix(title, "*<"+link+"|") {
		t.Errorf("title %q does not link to the finding", title)
	}
	fields := map[string]string{}
	for _, fl := range m.Blocks[2].Fields {
		name, value, _ := strings.Cut(fl.Text, "\n")
		fields[strings.Trim(name, "*")] = value
		if fl.Type != "mrkdwn" || len(fl.Text) > 2000 {
			t.Errorf("field %+v", fl)
		}
	}
	want := map[string]string{
		"Severity":         "8 (High)",
		"Type":             "UnauthorizedAccess:EC2/SSHBruteForce",
		"Resource":         "Instance i-0123456789abcdef0",
		"Account / Region": "111122223333 / eu-west-1",
		"Count":            "1",
		"First seen":       f.Service.EventFirstSeen.String(),
		"Last seen":        f.Service.EventLastSeen.String(),
		"Remote":           "198.51.100.7 (Example Networks, NL)",
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, fields[k], v)
		}
	}
	if ctx := m.Blocks[3].Elements[0].Text; !strings.Contains(ctx, f.ID) || !strings.Contains(ctx, "<"+link+"|View finding>") {
		t.Errorf("context %q", ctx)
	}
}

func TestSlackEscapesAndFits(t *testing.T) {
	c := newCapture(t)
	s := NewSlack(SlackConfig{WebhookURL: Secret(c.srv.URL)}, newHTTPClient(5*time.Second))
	f := hostile(t)
	f.Description = strings.Repeat("long ", 2000)
	alerts := make([]Alert, s.MaxBatch())
	for i := range alerts {
		alerts[i] = alertOf(f, KindUpdate, int64(i))
	}
	if err := s.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	var m SlackMessage
	c.last(t, &m)
	if len(m.Blocks) > 50 {
		t.Errorf("%d blocks; Slack accepts 50", len(m.Blocks))
	}
	raw, _ := json.Marshal(m)
	for _, bad := range []string{"<!channel>", "<https://evil.example|click here>"} {
		if strings.Contains(string(raw), strings.ReplaceAll(bad, "<", `\u003c`)) || strings.Contains(string(raw), bad) {
			t.Errorf("message carries %q unescaped", bad)
		}
	}
	if !strings.Contains(m.Blocks[1].Text.Text, "&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;") {
		t.Errorf("title not escaped: %q", m.Blocks[1].Text.Text)
	}
	for _, b := range m.Blocks {
		if b.Type == "header" && len(b.Text.Text) > 150 {
			t.Errorf("header of %d bytes", len(b.Text.Text))
		}
	}
}

// TestHTTPFailures: how responses and network errors classify, and that no
// error message reveals the webhook URL.
func TestHTTPFailures(t *testing.T) {
	c := newCapture(t)
	secretURL := c.srv.URL + "/services/T0/B0/SECRETPATH"
	s := NewSlack(SlackConfig{WebhookURL: Secret(secretURL)}, newHTTPClient(5*time.Second))
	f := storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.7", finding.TimeOf(start))
	send := func() error { return s.Send(context.Background(), []Alert{alertOf(f, KindNew, 1)}) }
	cases := []struct {
		status     int
		header     []string
		permanent  bool
		retryAfter time.Duration
	}{
		{status: 500},
		{status: 502},
		{status: 408},
		{status: 503, header: []string{"Retry-After", "7"}, retryAfter: 7 * time.Second},
		{status: 429, header: []string{"Retry-After", "30"}, retryAfter: 30 * time.Second},
		{status: 429},
		{status: 400, permanent: true},
		{status: 403, permanent: true},
		{status: 404, permanent: true},
		{status: 410, permanent: true},
		{status: 302, header: []string{"Location", "https://elsewhere.example/"}, permanent: true},
	}
	for _, tc := range cases {
		c.answer(tc.status, "invalid_token", tc.header...)
		err := send()
		if err == nil {
			t.Errorf("%d: no error", tc.status)
			continue
		}
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != tc.status || he.Body != "invalid_token" {
			t.Errorf("%d: %v is not the HTTPError", tc.status, err)
		}
		if got := errors.Is(err, ErrPermanent); got != tc.permanent {
			t.Errorf("%d: permanent %v, want %v (%v)", tc.status, got, tc.permanent, err)
		}
		var ra *RetryAfterError
		if got := errors.As(err, &ra); got != (tc.retryAfter > 0) || (got && ra.After != tc.retryAfter) {
			t.Errorf("%d: retry after %v (%v), want %v", tc.status, ra, got, tc.retryAfter)
		}
		if strings.Contains(err.Error(), "SECRETPATH") {
			t.Errorf("%d: error reveals the URL: %v", tc.status, err)
		}
	}
	c.answer(http.StatusOK, "ok")
	if err := send(); err != nil {
		t.Errorf("200: %v", err)
	}
	c.srv.Close()
	err := send()
	if err == nil || errors.Is(err, ErrPermanent) || strings.Contains(err.Error(), "SECRETPATH") {
		t.Errorf("server down: %v (want a transient error without the URL)", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"999999999999", MaxRetryAfter, true},
		{"Thu, 01 Jan 2026 10:01:00 GMT", time.Minute, true},
		{"Thu, 01 Jan 2026 09:00:00 GMT", 0, true},
		{"Sat, 03 Jan 2026 10:00:00 GMT", MaxRetryAfter, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWebhookSignatureAndHeaders(t *testing.T) {
	c := newCapture(t)
	now := time.Unix(1767261600, 0)
	w := NewWebhook(WebhookConfig{
		URL: Secret(c.srv.URL), Secret: "topsecret",
		Headers: map[string]Secret{"Authorization": "Bearer abc", "X-Team": "sec"},
	}, newHTTPClient(5*time.Second), func() time.Time { return now })
	fs := nets(t, 2, "Recon:EC2/Portscan")
	alerts := []Alert{alertOf(fs[0], KindNew, 7), alertOf(fs[1], KindUpdate, 8)}
	if err := w.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	var p WebhookPayload
	h := c.last(t, &p)
	c.mu.Lock()
	body := c.bodies[0]
	c.mu.Unlock()
	if h.Get("Authorization") != "Bearer abc" || h.Get("X-Team") != "sec" || h.Get("User-Agent") != userAgent {
		t.Errorf("headers %v", h)
	}
	if h.Get(HeaderTimestamp) != "1767261600" {
		t.Errorf("timestamp %q", h.Get(HeaderTimestamp))
	}
	if err := VerifySignature([]byte("topsecret"), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if err := VerifySignature([]byte("wrong"), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body, now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong secret: %v", err)
	}
	tampered := append(slices.Clone(body[:len(body)-1]), ' ', '}')
	if err := VerifySignature([]byte("topsecret"), h.Get(HeaderTimestamp), h.Get(HeaderSignature), tampered, now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered body: %v", err)
	}
	if err := VerifySignature([]byte("topsecret"), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body, now.Add(10*time.Minute), 5*time.Minute); !errors.Is(err, ErrStaleRequest) {
		t.Errorf("replayed 10 minutes later: %v", err)
	}
	if p.Version != "1" || p.Source != "vigil" || len(p.Alerts) != 2 || p.Alerts[0].Kind != KindNew || p.Alerts[1].Kind != KindUpdate ||
		p.Alerts[0].Finding.ID != fs[0].ID || p.Alerts[0].Link == "" || !p.Alerts[0].QueuedAt.Equal(start) {
		t.Errorf("payload %+v", p)
	}
	// The finding travels in GuardDuty's JSON.
	var raw struct {
		Alerts []struct {
			Finding map[string]any `json:"finding"`
		} `json:"alerts"`
	}
	_ = json.Unmarshal(body, &raw)
	for _, k := range []string{"schemaVersion", "accountId", "region", "id", "arn", "type", "resource", "service", "severity", "createdAt", "updatedAt"} {
		if _, ok := raw.Alerts[0].Finding[k]; !ok {
			t.Errorf("finding JSON lacks %s", k)
		}
	}
	// The delivery ID is the same when the same alerts are sent again.
	if err := w.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	var p2 WebhookPayload
	h2 := c.last(t, &p2)
	if h2.Get(HeaderDelivery) != h.Get(HeaderDelivery) || p2.Delivery != p.Delivery || p.Delivery == "" {
		t.Errorf("delivery IDs %q and %q differ for the same alerts", h.Get(HeaderDelivery), h2.Get(HeaderDelivery))
	}
}

func TestTeamsCard(t *testing.T) {
	c := newCapture(t)
	c.answer(http.StatusAccepted, "")
	tm := NewTeams(TeamsConfig{WebhookURL: Secret(c.srv.URL)}, newHTTPClient(5*time.Second))
	good := storetest.NetFinding(t, "Backdoor:EC2/C&CActivity.B", "111122223333", "i-1", "198.51.100.7", finding.TimeOf(start))
	if err := tm.Send(context.Background(), []Alert{alertOf(good, KindNew, 1), alertOf(hostile(t), KindNew, 2)}); err != nil {
		t.Fatal(err)
	}
	var m TeamsMessage
	c.last(t, &m)
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("message %+v", m)
	}
	card := m.Attachments[0].Content
	if card.Type != "AdaptiveCard" || card.Version != "1.4" || card.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" || len(card.Body) != 2 {
		t.Fatalf("card %+v", card)
	}
	first := card.Body[0]
	if first.Type != "Container" || len(first.Items) != 3 || first.Items[0].Type != "TextBlock" || first.Items[2].Type != "FactSet" {
		t.Fatalf("container %+v", first)
	}
	if !strings.Contains(first.Items[0].Text, "High finding: Backdoor:EC2/C&CActivity.B") || first.Items[0].Color != "Attention" {
		t.Errorf("heading %+v", first.Items[0])
	}
	facts := map[string]string{}
	for _, f := range first.Items[2].Facts {
		facts[f.Title] = f.Value
	}
	if facts["Severity"] != "8 (High)" || facts["Count"] != "1" || facts["Resource"] != "Instance i-1" || facts["Finding ID"] != good.ID {
		t.Errorf("facts %v", facts)
	}
	if len(card.Actions) != 2 || card.Actions[0].Type != "Action.OpenUrl" || card.Actions[0].URL != "https://vigil.example.com/findings/"+good.ID {
		t.Errorf("actions %+v", card.Actions)
	}
	if title := card.Body[1].Items[1].Text; strings.Contains(title, "[phish](") || strings.Contains(title, "<!channel>") {
		t.Errorf("hostile title not escaped: %q", title)
	}
}

func TestPagerDutyEvents(t *testing.T) {
	c := newCapture(t)
	c.answer(http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	pd := NewPagerDuty(PagerDutyConfig{RoutingKey: "R0UTINGKEY", URL: c.srv.URL + "/v2/enqueue"}, newHTTPClient(5*time.Second))
	if pd.MaxBatch() != 1 {
		t.Errorf("MaxBatch %d; the Events API takes one event per request", pd.MaxBatch())
	}
	for _, tc := range []struct {
		sev  finding.Severity
		want string
	}{{9.5, "critical"}, {8, "error"}, {5, "warning"}, {2, "info"}} {
		f := storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.7", finding.TimeOf(start))
		f.Severity = tc.sev
		if err := pd.Send(context.Background(), []Alert{alertOf(f, KindUpdate, 3)}); err != nil {
			t.Fatal(err)
		}
		var e PagerDutyEvent
		c.last(t, &e)
		if e.RoutingKey != "R0UTINGKEY" || e.EventAction != "trigger" || e.DedupKey != f.ID || e.Payload.Severity != tc.want {
			t.Errorf("severity %v: event %+v", tc.sev, e)
		}
		if e.Payload.Source != "i-1" || e.Payload.Class != "Recon:EC2/Portscan" || e.Payload.Timestamp != f.UpdatedAt.String() ||
			!strings.HasPrefix(e.Payload.Summary, "["+tc.sev.Band().String()+"] ") || e.Payload.CustomDetails["finding_id"] != f.ID ||
			len(e.Links) != 1 || e.Links[0].Href != "https://vigil.example.com/findings/"+f.ID {
			t.Errorf("event %+v", e)
		}
	}
	c.mu.Lock()
	path := c.paths[0]
	c.mu.Unlock()
	if path != "/v2/enqueue" {
		t.Errorf("posted to %s", path)
	}
	c.answer(http.StatusBadRequest, `{"status":"invalid event","errors":["'routing_key' is invalid"]}`)
	err := pd.Send(context.Background(), []Alert{alertOf(hostile(t), KindNew, 4)})
	if !errors.Is(err, ErrPermanent) || strings.Contains(err.Error(), "R0UTINGKEY") {
		t.Errorf("400: %v", err)
	}
}
