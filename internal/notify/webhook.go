package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Webhook posts alerts as JSON to any HTTP endpoint (WebhookPayload), with the
// configured headers and, when a secret is set, an HMAC-SHA256 signature:
//
//	X-Vigil-Delivery:  the batch's delivery ID, the same on every retry
//	X-Vigil-Timestamp: Unix seconds when the request was signed
//	X-Vigil-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// A receiver recomputes the signature over the raw body (VerifySignature does
// it) and refuses old timestamps, which stops replays.
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
	now    func() time.Time
}

// The webhook's headers.
const (
	HeaderDelivery  = "X-Vigil-Delivery"
	HeaderTimestamp = "X-Vigil-Timestamp"
	HeaderSignature = "X-Vigil-Signature"
)

// NewWebhook returns the webhook notifier of cfg; now stamps signatures.
func NewWebhook(cfg WebhookConfig, client *http.Client, now func() time.Time) *Webhook {
	return &Webhook{cfg: cfg, client: client, now: now}
}

// MaxBatch implements Notifier.
func (w *Webhook) MaxBatch() int { return 100 }

// WebhookPayload is the body of a webhook request.
type WebhookPayload struct {
	// Version is the payload format, "1".
	Version  string `json:"version"`
	Source   string `json:"source"`
	Delivery string `json:"delivery"`
	// Alerts are in queue order.
	Alerts []WebhookAlert `json:"alerts"`
}

// WebhookAlert is one alert of a WebhookPayload.
type WebhookAlert struct {
	// Kind is "new" or "update".
	Kind     Kind      `json:"kind"`
	QueuedAt time.Time `json:"queuedAt"`
	Link     string    `json:"link,omitempty"`
	// Finding is the finding in GuardDuty's JSON.
	Finding finding.Finding `json:"finding"`
}

// Send implements Notifier.
func (w *Webhook) Send(ctx context.Context, alerts []Alert) error {
	p := WebhookPayload{Version: "1", Source: "vigil", Delivery: deliveryID(alerts), Alerts: make([]WebhookAlert, len(alerts))}
	for i := range alerts {
		a := &alerts[i]
		p.Alerts[i] = WebhookAlert{Kind: a.Kind, QueuedAt: a.QueuedAt.UTC(), Link: a.Link, Finding: a.Finding}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return Permanent(fmt.Errorf("encode webhook payload: %w", err))
	}
	h := make(http.Header, len(w.cfg.Headers)+3)
	for k, v := range w.cfg.Headers {
		h.Set(k, v.Reveal())
	}
	h.Set(HeaderDelivery, p.Delivery)
	if secret := w.cfg.Secret.Reveal(); secret != "" {
		ts := strconv.FormatInt(w.now().Unix(), 10)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, Sign([]byte(secret), ts, body))
	}
	return post(ctx, w.client, w.cfg.URL.Reveal(), body, h, "post to webhook")
}

// Sign returns the X-Vigil-Signature of body signed at timestamp (Unix seconds,
// as sent in X-Vigil-Timestamp).
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Signature errors.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStaleRequest = errors.New("webhook timestamp outside the tolerance")
)

// VerifySignature checks a webhook request as a receiver should: the signature
// over the raw body, in constant time, and a timestamp within tolerance of now.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrBadSignature, HeaderTimestamp, timestamp)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %s ago", ErrStaleRequest, d.Round(time.Second))
	}
	want := Sign(secret, timestamp, body)
	if !strings.HasPrefix(signature, "v1=") || !hmac.Equal([]byte(signature), []byte(want)) {
		return ErrBadSignature
	}
	return nil
}
