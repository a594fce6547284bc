package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/finding"
)

// decode reads a notify section as the serve helper will: strictly.
func decode(t testing.TB, src string) (Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	err := dec.Decode(&cfg)
	return cfg, err
}

const fullConfig = `
update_frequency: ONE_HOUR
link_url: https://vigil.example.com
dead_letter_retention: 720h
destinations:
  - name: security-slack
    min_severity: HIGH
    exclude_types: ["Recon:*"]
    batch_window: 5s
    rate_limit: 1/s
    slack:
      webhook_url: https://hooks.slack.com/services/T000/B000/SLACKSECRET
      channel: "#security"
  - name: soar
    webhook:
      url: {env: VIGIL_TEST_HOOK_URL}
      secret: {file: %s}
      headers:
        Authorization: Bearer HEADERSECRET
    max_attempts: 20
    max_age: 48h
  - name: teams
    teams: {webhook_url: https://example.webhook.office.com/TEAMSSECRET}
  - name: pager
    min_severity: CRITICAL
    pagerduty: {routing_key: PDSECRET}
  - name: mail
    email:
      host: smtp.example.com
      username: vigil
      password: MAILSECRET
      from: vigil@example.com
      to: [soc@example.com]
`

func TestConfigDecodeAndRedact(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "hook-secret")
	if err := os.WriteFile(secretFile, []byte("FILESECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_TEST_HOOK_URL", "https://soar.example.com/hook?token=ENVSECRET")
	cfg, err := decode(t, fmt.Sprintf(fullConfig, secretFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.UpdateFrequency != OneHour || len(cfg.Destinations) != 5 {
		t.Fatalf("decoded %+v", cfg)
	}
	d := cfg.Destinations[0]
	if d.Kind() != "slack" || d.MinSeverity != "HIGH" || d.BatchWindow != Duration(5*time.Second) || d.RateLimit.Interval() != time.Second ||
		d.Slack.WebhookURL.Reveal() != "https://hooks.slack.com/services/T000/B000/SLACKSECRET" {
		t.Errorf("slack destination %+v", d)
	}
	hook := cfg.Destinations[1].Webhook
	if hook.URL.Reveal() != "https://soar.example.com/hook?token=ENVSECRET" || hook.Secret.Reveal() != "FILESECRET" || hook.Headers["Authorization"].Reveal() != "Bearer HEADERSECRET" {
		t.Errorf("webhook secrets from env and file: %+v", hook)
	}
	if cfg.Destinations[1].MaxAge != Duration(48*time.Hour) || cfg.Destinations[1].MaxAttempts != 20 {
		t.Errorf("delivery %+v", cfg.Destinations[1].DeliveryConfig)
	}

	// However the configuration is printed, no secret shows.
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(cfg)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "key", cfg.Destinations[3].PagerDuty.RoutingKey)
	for name, text := range map[string]string{
		"yaml": string(out), "json": string(js), "%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg), "%s": fmt.Sprint(cfg.Destinations[4].Email.Password), "slog": logged.String(),
	} {
		for _, secret := range []string{"SLACKSECRET", "ENVSECRET", "FILESECRET", "HEADERSECRET", "TEAMSSECRET", "PDSECRET", "MAILSECRET"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s output shows %s:\n%s", name, secret, text)
			}
		}
	}
	if !strings.Contains(string(out), "webhook_url: '[redacted]'") || !strings.Contains(string(out), "batch_window: 5s") || !strings.Contains(string(out), "rate_limit: 1/s") {
		t.Errorf("marshalled YAML:\n%s", out)
	}
	// The printed (redacted) configuration does not load back as secrets.
	if _, err := decode(t, string(out)); err == nil || !strings.Contains(err.Error(), "redacted") {
		t.Errorf("decoding a redacted config: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{"update_frequency: DAILY", "update_frequency: \"DAILY\""},
		{"link_url: ftp://x", "link_url: not an http or https URL"},
		{"link_url: https://x/{finding}", "link_url: unknown placeholder"},
		{"destinations: [{name: a}]", "destinations[0].name: destination \"a\" has no notifier"},
		{"destinations: [{name: 'bad name', slack: {webhook_url: https://x}}]", "destinations[0].name: \"bad name\" is not a destination name"},
		{"destinations: [{name: a, slack: {webhook_url: https://x}}, {name: a, teams: {webhook_url: https://y}}]", "destinations[1].name: \"a\" is also the name of destinations[0]"},
		{"destinations: [{name: a, slack: {webhook_url: https://x}, teams: {webhook_url: https://y}}]", "destinations[0].teams: destination \"a\" has 2 notifiers"},
		{"destinations: [{name: a, slack: {webhook_url: 'not a url'}}]", "destinations[0].slack.webhook_url: not an http or https URL"},
		{"destinations: [{name: a, slack: {}}]", "destinations[0].slack.webhook_url: missing"},
		{"destinations: [{name: a, min_severity: SEVERE, slack: {webhook_url: https://x}}]", "destinations[0].min_severity: unknown severity \"SEVERE\""},
		{"destinations: [{name: a, include_types: [''], slack: {webhook_url: https://x}}]", "destinations[0].include_types[0]: empty pattern"},
		{"destinations: [{name: a, webhook: {url: https://x, headers: {X-Vigil-Signature: x}}}]", "destinations[0].webhook.headers.X-Vigil-Signature: X-Vigil-Signature is set by vigil"},
		{"destinations: [{name: a, pagerduty: {}}]", "destinations[0].pagerduty.routing_key: missing"},
		{"destinations: [{name: a, email: {host: h, from: 'not an address', to: [b@example.com]}}]", "destinations[0].email.from: \"not an address\" is not an e-mail address"},
		{"destinations: [{name: a, email: {host: h, from: a@example.com}}]", "destinations[0].email.to: no recipient"},
		{"destinations: [{name: a, email: {host: h, tls: none, username: u, password: p, from: a@example.com, to: [b@example.com]}}]", "destinations[0].email.tls: none would send the password in clear"},
		{"destinations: [{name: a, email: {host: h, tls: maybe, from: a@example.com, to: [b@example.com]}}]", "destinations[0].email.tls: \"maybe\""},
		{"destinations: [{name: a, max_attempts: -1, slack: {webhook_url: https://x}}]", "destinations[0].max_attempts: negative"},
	} {
		cfg, err := decode(t, tc.src)
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant …%s…", tc.src, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "https://x") {
			t.Errorf("%s: error shows a URL: %v", tc.src, err)
		}
	}
}

func TestConfigDecodeErrors(t *testing.T) {
	t.Setenv("VIGIL_TEST_UNSET", "")
	os.Unsetenv("VIGIL_TEST_UNSET")
	for _, tc := range []struct{ src, want string }{
		{"destinations: [{name: a, slack: {webhook_url: https://x, chanel: '#x'}}]", "field chanel not found"},
		{"destinations: [{name: a, batch_window: 5, slack: {webhook_url: https://x}}]", "\"5\" is not a duration"},
		{"destinations: [{name: a, batch_window: soon, slack: {webhook_url: https://x}}]", "\"soon\" is not a duration"},
		{"destinations: [{name: a, rate_limit: fast, slack: {webhook_url: https://x}}]", "\"fast\" is not a rate"},
		{"destinations: [{name: a, rate_limit: 0/s, slack: {webhook_url: https://x}}]", "\"0/s\" is not a rate"},
		{"destinations: [{name: a, slack: {webhook_url: {env: VIGIL_TEST_UNSET}}}]", "environment variable VIGIL_TEST_UNSET is not set"},
		{"destinations: [{name: a, slack: {webhook_url: {file: /nonexistent/secret}}}]", "read secret file"},
		{"destinations: [{name: a, slack: {webhook_url: {vault: x}}}]", "unknown secret key \"vault\""},
		{"destinations: [{name: a, slack: {webhook_url: [a, b]}}]", "expected a string, {env: NAME}"},
	} {
		_, err := decode(t, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant …%s…", tc.src, err, tc.want)
		}
		if err != nil && !regexp.MustCompile(`line \d+`).MatchString(err.Error()) {
			t.Errorf("%s: error names no line: %v", tc.src, err)
		}
	}
}

func TestRate(t *testing.T) {
	for in, want := range map[string]time.Duration{"1/s": time.Second, "20/m": 3 * time.Second, "0.5/s": 2 * time.Second, "3600/h": time.Second} {
		r, err := ParseRate(in)
		if err != nil || r.Interval() != want {
			t.Errorf("ParseRate(%q) = %v (%v), want interval %v", in, r, err, want)
		}
		if r2, err := ParseRate(r.String()); err != nil || r2 != r {
			t.Errorf("round trip of %q: %q %v", in, r.String(), err)
		}
	}
	for _, in := range []string{"", "1", "1/d", "-1/s", "x/s", "NaN/s", "Inf/s", "1/"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"Recon:*", "Recon:EC2/Portscan", true},
		{"Recon:*", "UnauthorizedAccess:EC2/SSHBruteForce", false},
		{"*:EC2/*", "Trojan:EC2/DNSDataExfiltration", true},
		{"*:EC2/*", "Stealth:IAMUser/CloudTrailLoggingDisabled", false},
		{"*BruteForce", "UnauthorizedAccess:EC2/RDPBruteForce", true},
		{"Recon:EC2/Portscan", "Recon:EC2/Portscan", true},
		{"Recon:EC2/Portscan", "Recon:EC2/PortscanX", false},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXcYYb", false},
		{"**", "anything", true},
	} {
		if got := Wildcard(tc.p, tc.s); got != tc.want {
			t.Errorf("Wildcard(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func TestLinker(t *testing.T) {
	f := &finding.Finding{ID: "abc/def", Region: "eu-west-1", AccountID: "111122223333", Type: "Recon:EC2/Portscan"}
	for tmpl, want := range map[string]string{
		"":                           "",
		"https://vigil.example.com":  "https://vigil.example.com/findings/abc%2Fdef",
		"https://vigil.example.com/": "https://vigil.example.com/findings/abc%2Fdef",
		"https://console.aws.amazon.com/guardduty/home?region={region}#/findings?fId={id}": "https://console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?fId=abc%2Fdef",
		"https://x.example/{account}/{type}":                                               "https://x.example/111122223333/Recon%3AEC2%2FPortscan",
	} {
		l, err := NewLinker(tmpl)
		if err != nil {
			t.Fatalf("%q: %v", tmpl, err)
		}
		if got := l.Link(f); got != want {
			t.Errorf("%q: %q, want %q", tmpl, got, want)
		}
	}
}

func TestNextBoundary(t *testing.T) {
	at := time.Date(2026, 1, 1, 10, 7, 30, 0, time.UTC)
	for period, want := range map[time.Duration]time.Time{
		15 * time.Minute: time.Date(2026, 1, 1, 10, 15, 0, 0, time.UTC),
		time.Hour:        time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC),
		6 * time.Hour:    time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
	} {
		if got := NextBoundary(at, period); !got.Equal(want) {
			t.Errorf("NextBoundary(%v, %v) = %v, want %v", at, period, got, want)
		}
	}
	// On a boundary, the next one.
	on := time.Date(2026, 1, 1, 10, 15, 0, 0, time.UTC)
	if got := NextBoundary(on, 15*time.Minute); !got.Equal(on.Add(15 * time.Minute)) {
		t.Errorf("from a boundary: %v", got)
	}
}

func FuzzWildcard(f *testing.F) {
	for _, seed := range [][2]string{{"Recon:*", "Recon:EC2/Portscan"}, {"*:EC2/*", "Trojan:EC2/X"}, {"a*b*c", "aXbYc"}, {"**a", "ba"}, {"", ""}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 256 {
			return
		}
		got := Wildcard(pattern, s)
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return // the reference below compares runes; Wildcard bytes
		}
		// The reference: the same pattern as an anchored regular expression.
		parts := strings.Split(pattern, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
		if want := re.MatchString(s); got != want {
			t.Errorf("Wildcard(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"1/s", "20/m", "0.5/h", "1e3/s", "x", "/", "1/s/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.N <= 0 || r.Interval() < 0 {
			t.Errorf("ParseRate(%q) = %+v", s, r)
		}
	})
}

func FuzzConfigYAML(f *testing.F) {
	f.Add(fmt.Sprintf(fullConfig, "/nonexistent"))
	f.Add("destinations: [{name: a, slack: {webhook_url: https://x}}]")
	f.Add("update_frequency: [1]")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := decode(t, src)
		if err != nil {
			return
		}
		_ = cfg.Validate() // must not panic, whatever it holds
		if _, err := yaml.Marshal(cfg); err != nil {
			t.Errorf("marshal a decoded config: %v", err)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Thu, 01 Jan 2026 10:01:00 GMT", "", "-5", "1e9"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if ok && (d < 0 || d > MaxRetryAfter) {
			t.Errorf("parseRetryAfter(%q) = %v", s, d)
		}
	})
}
