package notify

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/secret"
)

// Config is the notify section of vigil.yaml. Decode it strictly (unknown keys
// are errors); Validate checks the values and names the key path of the first
// problem, relative to the section ("destinations[1].slack.webhook_url").
//
//	update_frequency: FIFTEEN_MINUTES
//	link_url: https://vigil.example.com
//	destinations:
//	  - name: security
//	    min_severity: HIGH
//	    exclude_types: ["Recon:*"]
//	    slack:
//	      webhook_url: {env: SLACK_WEBHOOK_URL}
//	      channel: "#security"
type Config struct {
	// UpdateFrequency is how often more occurrences of a finding already
	// announced are announced: FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS, as
	// GuardDuty's findingPublishingFrequency. New findings go out at once.
	UpdateFrequency Frequency `yaml:"update_frequency"`
	// LinkURL makes alerts link to the finding: a base URL (the link is
	// <base>/findings/<id>) or a template with {id}, {region}, {account} and
	// {type} placeholders, for example GuardDuty's console:
	// https://console.aws.amazon.com/guardduty/home?region={region}#/findings?fId={id}
	LinkURL string `yaml:"link_url"`
	// Destinations are where alerts go.
	Destinations []DestinationConfig `yaml:"destinations"`
	// DeadLetterRetention is how long dead letters are kept for inspection and
	// requeueing.
	DeadLetterRetention Duration `yaml:"dead_letter_retention"`
	// PollInterval bounds how long a destination's worker sleeps before looking
	// at the outbox again: alerts queued by another process, a lease to take over.
	PollInterval Duration `yaml:"poll_interval"`
}

// DefaultConfig returns the defaults: updates every 15 minutes (GuardDuty's
// default is 6 hours, which its users find too slow), dead letters kept 30 days,
// a 5-second poll, no destinations.
func DefaultConfig() Config {
	return Config{
		UpdateFrequency:     FifteenMinutes,
		DeadLetterRetention: Duration(30 * 24 * time.Hour),
		PollInterval:        Duration(5 * time.Second),
	}
}

// DestinationConfig is one destination: a name, exactly one of the notifier
// sections, and the filters and delivery settings.
type DestinationConfig struct {
	// Name identifies the destination in the outbox, metrics and logs; letters,
	// digits, '.', '_' and '-'. Renaming a destination orphans its queue.
	Name string `yaml:"name"`

	Slack     *SlackConfig     `yaml:"slack,omitempty"`
	Webhook   *WebhookConfig   `yaml:"webhook,omitempty"`
	Teams     *TeamsConfig     `yaml:"teams,omitempty"`
	PagerDuty *PagerDutyConfig `yaml:"pagerduty,omitempty"`
	Email     *EmailConfig     `yaml:"email,omitempty"`

	FilterConfig   `yaml:",inline"`
	DeliveryConfig `yaml:",inline"`
}

// FilterConfig chooses the findings a destination hears about.
type FilterConfig struct {
	// MinSeverity is the lowest severity band sent: LOW (the default), MEDIUM,
	// HIGH or CRITICAL, as in AWS's GuardDuty-to-Slack template.
	MinSeverity string `yaml:"min_severity,omitempty"`
	// IncludeTypes, when not empty, sends only finding types matching one of
	// its patterns; ExcludeTypes drops types matching one of its patterns. A
	// pattern is a finding type where '*' matches any run of characters:
	// "Recon:*", "*:EC2/*", "UnauthorizedAccess:IAMUser/*".
	IncludeTypes []string `yaml:"include_types,omitempty"`
	ExcludeTypes []string `yaml:"exclude_types,omitempty"`
}

// DeliveryConfig tunes how a destination is delivered to. Zero values take the
// notifier's defaults (see Defaults).
type DeliveryConfig struct {
	// BatchWindow is how long the first due alert waits for others to join its
	// message. Alerts that wait anyway (rate limit, retry) are batched too.
	BatchWindow Duration `yaml:"batch_window,omitempty"`
	// MaxBatch caps alerts per message, below the notifier's own cap.
	MaxBatch int `yaml:"max_batch,omitempty"`
	// RateLimit spaces messages: "1/s", "20/m", "100/h".
	RateLimit Rate `yaml:"rate_limit,omitempty"`
	// Timeout bounds one send.
	Timeout Duration `yaml:"timeout,omitempty"`
	// MaxAttempts and MaxAge bound the retries of an alert before it is
	// dead-lettered.
	MaxAttempts int      `yaml:"max_attempts,omitempty"`
	MaxAge      Duration `yaml:"max_age,omitempty"`
}

// Defaults returns the delivery settings of a kind of destination: chat and mail
// (slack, teams, email) batch for 2 seconds and send at most one message a
// second; machines (webhook, pagerduty) get alerts at once, up to 10 messages a
// second. All time out a send after 10 seconds and give up after 12 attempts
// or 24 hours.
func Defaults(kind string) DeliveryConfig {
	d := DeliveryConfig{
		BatchWindow: Duration(2 * time.Second),
		RateLimit:   Rate{N: 1, Per: time.Second},
		Timeout:     Duration(10 * time.Second),
		MaxAttempts: 12,
		MaxAge:      Duration(24 * time.Hour),
	}
	if kind == "webhook" || kind == "pagerduty" {
		d.BatchWindow = 0
		d.RateLimit = Rate{N: 10, Per: time.Second}
	}
	return d
}

// SlackConfig is a Slack incoming webhook.
type SlackConfig struct {
	// WebhookURL is the incoming webhook (https://hooks.slack.com/services/…).
	WebhookURL Secret `yaml:"webhook_url"`
	// Channel, Username and IconEmoji override the webhook's defaults where
	// Slack allows it (legacy webhooks).
	Channel   string `yaml:"channel,omitempty"`
	Username  string `yaml:"username,omitempty"`
	IconEmoji string `yaml:"icon_emoji,omitempty"`
}

// WebhookConfig is a generic HTTP endpoint that receives alerts as JSON.
type WebhookConfig struct {
	// URL receives POST requests; a secret, since URLs often carry tokens.
	URL Secret `yaml:"url"`
	// Secret, when set, signs every request: X-Vigil-Signature is
	// "v1=" + hex(HMAC-SHA256(secret, X-Vigil-Timestamp + "." + body)).
	Secret Secret `yaml:"secret,omitempty"`
	// Headers are added to every request (Authorization, a tenant header…).
	Headers map[string]Secret `yaml:"headers,omitempty"`
}

// TeamsConfig is a Microsoft Teams incoming webhook (a Workflows "When a Teams
// webhook request is received" URL, or a legacy connector).
type TeamsConfig struct {
	WebhookURL Secret `yaml:"webhook_url"`
}

// PagerDutyConfig is a PagerDuty Events API v2 integration.
type PagerDutyConfig struct {
	// RoutingKey is the integration key of the service or ruleset.
	RoutingKey Secret `yaml:"routing_key"`
	// URL is the Events API endpoint; empty means
	// https://events.pagerduty.com/v2/enqueue (use events.eu.pagerduty.com for
	// an EU account).
	URL string `yaml:"url,omitempty"`
}

// EmailConfig sends alerts by e-mail over SMTP.
type EmailConfig struct {
	// Host and Port are the mail server (port 587 by default, 465 with TLS
	// implicit).
	Host string `yaml:"host"`
	Port int    `yaml:"port,omitempty"`
	// TLS is auto (STARTTLS when the server offers it; the default), required
	// (refuse a server without STARTTLS), implicit (TLS from the first byte,
	// SMTPS) or none.
	TLS string `yaml:"tls,omitempty"`
	// CAFile is a PEM file of the certificate authorities to trust instead of
	// the system's, for a private mail relay.
	CAFile string `yaml:"ca_file,omitempty"`
	// Username and Password authenticate (AUTH PLAIN, over TLS only).
	Username string `yaml:"username,omitempty"`
	Password Secret `yaml:"password,omitempty"`
	// From and To are the envelope and header addresses.
	From string   `yaml:"from"`
	To   []string `yaml:"to"`
	// SubjectPrefix starts every subject; empty means "[vigil]".
	SubjectPrefix string `yaml:"subject_prefix,omitempty"`
}

// Kind returns which notifier the destination configures: slack, webhook,
// teams, pagerduty or email ("" when none is set).
func (d *DestinationConfig) Kind() string {
	kinds := d.kinds()
	if len(kinds) == 1 {
		return kinds[0]
	}
	return ""
}

func (d *DestinationConfig) kinds() []string {
	var ks []string
	if d.Slack != nil {
		ks = append(ks, "slack")
	}
	if d.Webhook != nil {
		ks = append(ks, "webhook")
	}
	if d.Teams != nil {
		ks = append(ks, "teams")
	}
	if d.PagerDuty != nil {
		ks = append(ks, "pagerduty")
	}
	if d.Email != nil {
		ks = append(ks, "email")
	}
	return ks
}

var destinationName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks the configuration. The error names the key path of the
// first problem.
func (c *Config) Validate() error {
	if _, err := c.UpdateFrequency.Duration(); err != nil {
		return fmt.Errorf("update_frequency: %w", err)
	}
	if _, err := NewLinker(c.LinkURL); err != nil {
		return fmt.Errorf("link_url: %w", err)
	}
	if c.DeadLetterRetention < 0 {
		return fmt.Errorf("dead_letter_retention: negative")
	}
	if c.PollInterval < 0 {
		return fmt.Errorf("poll_interval: negative")
	}
	seen := make(map[string]int)
	for i := range c.Destinations {
		d := &c.Destinations[i]
		at := fmt.Sprintf("destinations[%d]", i)
		if j, dup := seen[d.Name]; dup {
			return fmt.Errorf("%s.name: %q is also the name of destinations[%d]", at, d.Name, j)
		}
		seen[d.Name] = i
		if err := d.Validate(); err != nil {
			return fmt.Errorf("%s.%w", at, err)
		}
	}
	return nil
}

// Validate checks one destination; the error starts with the key at fault.
func (d *DestinationConfig) Validate() error {
	if !destinationName.MatchString(d.Name) {
		return fmt.Errorf("name: %q is not a destination name (1–64 letters, digits, '.', '_', '-', starting with a letter or digit)", d.Name)
	}
	switch ks := d.kinds(); len(ks) {
	case 0:
		return errors.New("name: destination " + strconv.Quote(d.Name) + " has no notifier (want one of slack, webhook, teams, pagerduty, email)")
	case 1:
	default:
		return fmt.Errorf("%s: destination %q has %d notifiers (%s); want exactly one", ks[1], d.Name, len(ks), strings.Join(ks, ", "))
	}
	if _, err := NewFilter(d.FilterConfig); err != nil {
		return err
	}
	if err := d.DeliveryConfig.validate(); err != nil {
		return err
	}
	switch {
	case d.Slack != nil:
		if err := checkURL(d.Slack.WebhookURL.Reveal()); err != nil {
			return fmt.Errorf("slack.webhook_url: %w", err)
		}
	case d.Webhook != nil:
		if err := checkURL(d.Webhook.URL.Reveal()); err != nil {
			return fmt.Errorf("webhook.url: %w", err)
		}
		for name := range d.Webhook.Headers {
			if err := checkHeaderName(name); err != nil {
				return fmt.Errorf("webhook.headers.%s: %w", name, err)
			}
		}
	case d.Teams != nil:
		if err := checkURL(d.Teams.WebhookURL.Reveal()); err != nil {
			return fmt.Errorf("teams.webhook_url: %w", err)
		}
	case d.PagerDuty != nil:
		if d.PagerDuty.RoutingKey.Reveal() == "" {
			return errors.New("pagerduty.routing_key: missing")
		}
		if d.PagerDuty.URL != "" {
			if err := checkURL(d.PagerDuty.URL); err != nil {
				return fmt.Errorf("pagerduty.url: %w", err)
			}
		}
	case d.Email != nil:
		return d.Email.validate()
	}
	return nil
}

func (d *DeliveryConfig) validate() error {
	switch {
	case d.BatchWindow < 0:
		return errors.New("batch_window: negative")
	case d.BatchWindow > Duration(time.Hour):
		return errors.New("batch_window: longer than 1h")
	case d.MaxBatch < 0:
		return errors.New("max_batch: negative")
	case d.Timeout < 0:
		return errors.New("timeout: negative")
	case d.MaxAttempts < 0:
		return errors.New("max_attempts: negative")
	case d.MaxAge < 0:
		return errors.New("max_age: negative")
	}
	return nil
}

func (e *EmailConfig) validate() error {
	if e.Host == "" {
		return errors.New("email.host: missing")
	}
	if e.Port < 0 || e.Port > 65535 {
		return fmt.Errorf("email.port: %d outside 1–65535", e.Port)
	}
	switch e.TLS {
	case "", "auto", "required", "implicit", "none":
	default:
		return fmt.Errorf("email.tls: %q (want auto, required, implicit or none)", e.TLS)
	}
	if e.Password.Reveal() != "" && e.Username == "" {
		return errors.New("email.username: missing (a password is set)")
	}
	if e.Username != "" && e.TLS == "none" {
		return errors.New("email.tls: none would send the password in clear; use auto, required or implicit")
	}
	if err := checkAddress(e.From); err != nil {
		return fmt.Errorf("email.from: %w", err)
	}
	if len(e.To) == 0 {
		return errors.New("email.to: no recipient")
	}
	for i, to := range e.To {
		if err := checkAddress(to); err != nil {
			return fmt.Errorf("email.to[%d]: %w", i, err)
		}
	}
	if strings.ContainsAny(e.SubjectPrefix, "\r\n") {
		return errors.New("email.subject_prefix: contains a line break")
	}
	if e.CAFile != "" {
		if _, err := os.Stat(e.CAFile); err != nil {
			return fmt.Errorf("email.ca_file: %w", err)
		}
	}
	return nil
}

func checkAddress(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("contains a line break")
	}
	if _, err := mail.ParseAddress(s); err != nil {
		return fmt.Errorf("%q is not an e-mail address: %w", s, err)
	}
	return nil
}

// checkURL checks an http(s) URL without ever putting it in the error: URLs of
// webhooks are secrets.
func checkURL(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("not an http or https URL")
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	return nil
}

// reservedHeaders are set by the webhook notifier itself.
var reservedHeaders = []string{"content-type", "content-length", "host", "user-agent", "x-vigil-"}

func checkHeaderName(name string) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n:") {
		return fmt.Errorf("%q is not a header name", name)
	}
	lower := strings.ToLower(name)
	for _, r := range reservedHeaders {
		if lower == r || (strings.HasSuffix(r, "-") && strings.HasPrefix(lower, r)) {
			return fmt.Errorf("%s is set by vigil", name)
		}
	}
	return nil
}

// Frequency is GuardDuty's findingPublishingFrequency.
type Frequency string

// The frequencies.
const (
	FifteenMinutes Frequency = "FIFTEEN_MINUTES"
	OneHour        Frequency = "ONE_HOUR"
	SixHours       Frequency = "SIX_HOURS"
)

// Duration returns the period of f; the empty Frequency is FIFTEEN_MINUTES.
func (f Frequency) Duration() (time.Duration, error) {
	switch f {
	case FifteenMinutes, "":
		return 15 * time.Minute, nil
	case OneHour:
		return time.Hour, nil
	case SixHours:
		return 6 * time.Hour, nil
	}
	return 0, fmt.Errorf("%q (want FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS)", string(f))
}

// NextBoundary returns the first multiple of period (since the Unix epoch) after
// t: the time the updates of the current period go out together.
func NextBoundary(t time.Time, period time.Duration) time.Time {
	p := period.Milliseconds()
	if p <= 0 {
		return t
	}
	return time.UnixMilli((t.UnixMilli()/p + 1) * p)
}

// Duration is a time.Duration written as a string in YAML ("30s", "5m", "24h").
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as \"30s\"", n.Line)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (want a number with a unit, such as \"30s\", \"5m\", \"24h\")", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// String returns the duration as time.Duration writes it.
func (d Duration) String() string { return time.Duration(d).String() }

// Rate is a rate limit: at most N messages per Per.
type Rate struct {
	N   float64
	Per time.Duration
}

// ParseRate parses "N/s", "N/m" or "N/h" (N a positive number).
func ParseRate(s string) (Rate, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not a rate (want N/s, N/m or N/h, such as \"1/s\")", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return Rate{}, fmt.Errorf("%q is not a rate: %q is not a positive number", s, n)
	}
	r := Rate{N: v}
	switch strings.TrimSpace(unit) {
	case "s":
		r.Per = time.Second
	case "m":
		r.Per = time.Minute
	case "h":
		r.Per = time.Hour
	default:
		return Rate{}, fmt.Errorf("%q is not a rate: unit %q (want s, m or h)", s, unit)
	}
	return r, nil
}

// Interval is the least time between two messages; 0 for no limit.
func (r Rate) Interval() time.Duration {
	if r.N <= 0 || r.Per <= 0 {
		return 0
	}
	return time.Duration(float64(r.Per) / r.N)
}

// String writes the rate as ParseRate reads it; "" for no limit.
func (r Rate) String() string {
	if r.N <= 0 {
		return ""
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	return strconv.FormatFloat(r.N, 'g', -1, 64) + "/" + unit
}

// IsZero reports whether no rate is set (for omitempty).
func (r Rate) IsZero() bool { return r.N <= 0 }

// UnmarshalYAML reads a rate string.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseRate(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d: %q is not a rate (want N/s, N/m or N/h, such as \"1/s\")", n.Line, n.Value)
	}
	*r = v
	return nil
}

// MarshalYAML writes the rate as a string.
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }

// Secret is a value that must not be shown (a webhook URL, a routing key, a
// password, a signing key): secret.Value, which prints, logs and marshals
// redacted and reads {env: NAME} and {file: PATH} in YAML.
type Secret = secret.Value

// parseBand parses a min_severity ("" is LOW).
func parseBand(s string) (finding.Band, error) {
	if s == "" {
		return finding.BandLow, nil
	}
	return finding.ParseBand(s)
}
