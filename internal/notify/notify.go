// Package notify tells people and systems about findings: Slack, generic
// webhooks, Microsoft Teams, PagerDuty and e-mail, each from a minimum severity
// and with type filters.
//
// # Flow
//
// The component that upserts findings hands each store.UpsertResult to
// Dispatcher.Enqueue right after the upsert returns. Enqueue decides, per
// destination, what the change calls for — a new finding (or one made current
// again) goes out at once, more occurrences of a known finding go out at the
// configured frequency (15 minutes, 1 hour or 6 hours, GuardDuty's
// findingPublishingFrequency), an archived or suppressed finding never — and
// writes the alerts to the store's outbox (store.Outbox) in one transaction.
// Run delivers them: one goroutine per destination takes the due entries in
// queue order, batches them (a batching window, then at most the notifier's
// batch size per message), paces messages under the destination's rate limit,
// sends, and acknowledges, which deletes the entries. So an alert is lost by
// neither a restart nor a destination that is down: it waits in the database.
//
// While a finding's alert waits, later changes of that finding fold into it (the
// outbox keeps one entry per destination and finding), so a destination that
// comes back after an outage receives each finding once, with its latest state,
// in the order the findings were first queued — no flood of repeats, no
// duplicates.
//
// # Failures
//
// The dispatcher retries, the notifiers do not. A failed send is retried after an
// exponential backoff with jitter, or after the delay the destination asked for
// (Retry-After on 429 and 503). Later alerts of that destination wait behind it,
// which keeps them in order. An alert is dead-lettered (store.Outbox.DeadLetter,
// with the last error) after MaxAttempts failures or once older than MaxAge, and
// at once when the destination refuses it for good (a 4xx other than 408 and
// 429, an SMTP 5xx: see Permanent). Dead letters can be listed and requeued
// through the outbox.
//
// Delivery is at least once: a message the destination received but whose
// acknowledgement was lost (a crash between send and ack, a timeout after the
// destination processed the request) is sent again. Receivers that must not see
// a repeat use the delivery ID (the webhook's X-Vigil-Delivery header, the
// PagerDuty dedup_key, the e-mail Message-ID), which is the same on every try.
//
// # Concurrency
//
// Enqueue may be called from any goroutine, before, during or after Run. Run
// blocks until ctx is cancelled; cancelling stops the destinations' workers,
// interrupting a send in flight (each send is also bounded by the destination's
// timeout), and leaves what was not acknowledged in the outbox for the next
// start.
// Several processes or nodes sharing a database may each run a dispatcher: a
// lease in the outbox lets one of them at a time deliver for a destination.
//
// Notifiers receive alerts that are theirs for the duration of Send only.
// Secrets in the configuration (webhook URLs, routing keys, passwords, signing
// keys) are Secret values, which print and marshal as "[redacted]".
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Kind says what an alert announces.
type Kind string

// The kinds of alerts.
const (
	// KindNew announces a new finding, or one made current again after it was
	// archived.
	KindNew Kind = "new"
	// KindUpdate announces more occurrences of a finding announced before.
	KindUpdate Kind = "update"
)

// Alert is one finding to tell a destination about.
type Alert struct {
	// Finding is the finding's latest stored state.
	Finding finding.Finding
	Kind    Kind
	// ID identifies the alert in the outbox; with Rev it names this exact
	// content, the same on every delivery attempt.
	ID, Rev int64
	// QueuedAt is when the alert was first queued.
	QueuedAt time.Time
	// Link is the finding's page (LinkTemplate filled in), empty when no
	// template is configured.
	Link string
}

// Notifier sends alerts to one destination.
//
// Send delivers alerts (at least one, at most MaxBatch) as one message where the
// destination allows it, or one after the other. It returns nil once the
// destination accepted all of them. It does not retry: an error means the
// dispatcher will try again later with the same alerts (and perhaps more), unless
// the error is Permanent. An error wrapping *RetryAfterError asks for a delay.
// Error messages never contain a secret (a webhook URL, a key). Send must return
// when ctx is done. Send is not called concurrently for one notifier.
type Notifier interface {
	Send(ctx context.Context, alerts []Alert) error
	// MaxBatch is the most alerts one Send accepts.
	MaxBatch() int
}

// ErrPermanent marks a refusal that trying again will not change: a rejected
// payload, an unknown webhook, a mailbox that does not exist.
var ErrPermanent = errors.New("permanent failure")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }

// RetryAfterError is a destination asking to be called again no sooner than
// After (HTTP 429 or 503 with Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }
