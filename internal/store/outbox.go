package store

import (
	"context"
	"time"
)

// Outbox is the notification outbox: the alerts still to be delivered, per
// destination, kept in the same database as the findings so that an alert
// survives a restart (internal/notify enqueues, delivers and acknowledges).
//
// A destination's entries are delivered in queue order (ID). At most one entry
// waits per destination and finding: Enqueue folds a later change of the same
// finding into the waiting entry — its payload is replaced and Rev incremented, it
// keeps its place in the queue, becomes a new-finding entry if either was one, and
// is due at the earlier of the two due times. So a queue holds at most one entry
// per finding, however often the finding repeats while the destination is down.
//
// Methods are safe for concurrent use, also from several processes or nodes on
// one database; Lease lets one dispatcher at a time deliver for a destination,
// which is what keeps a destination's alerts in order and single. Writes are
// atomic per call. Cancelling ctx stops the call and rolls back what it had not
// committed. Nothing here retries a delivery: the dispatcher decides when to try
// again (Fail records an attempt) and when to give up (DeadLetter).
//
// Errors wrap ErrInvalid when an argument is at fault (an entry without a
// destination or finding ID, an unknown kind, a payload over MaxOutboxPayload).
type Outbox interface {
	// Enqueue adds entries (ID, Rev, Attempts and LastError are ignored),
	// folding each into the waiting entry of its destination and finding if
	// there is one. All are written or none.
	Enqueue(ctx context.Context, entries []OutboxEntry) error

	// NextDue returns the earliest DueAt among dest's entries; ok is false when
	// dest has none.
	NextDue(ctx context.Context, dest string) (due time.Time, ok bool, err error)

	// Due returns at most limit entries of dest due at now (DueAt ≤ now), in
	// queue order. The entries are the caller's.
	Due(ctx context.Context, dest string, now time.Time, limit int) ([]OutboxEntry, error)

	// Ack removes delivered entries of dest. An entry that Enqueue folded into
	// after it was read (its Rev moved on) carries news the destination has not
	// seen: it stays, as an update due at updateDue, with its attempts cleared.
	Ack(ctx context.Context, dest string, delivered []OutboxEntry, updateDue time.Time) error

	// Fail records a failed delivery attempt of the entries with the given IDs:
	// Attempts is incremented and LastError set.
	Fail(ctx context.Context, dest string, ids []int64, lastErr string) error

	// DeadLetter moves the entries with the given IDs to the dead letters, with
	// lastErr as the reason, at now.
	DeadLetter(ctx context.Context, dest string, ids []int64, lastErr string, now time.Time) error

	// DeadLetters returns at most limit dead letters of dest (of every
	// destination when dest is empty), newest first.
	DeadLetters(ctx context.Context, dest string, limit int) ([]DeadLetter, error)

	// Requeue moves the dead letters of dest (of every destination when dest is
	// empty) back into the queue, due at now, and returns how many it queued. A
	// dead letter whose finding has a waiting entry again is dropped: the
	// waiting entry is newer.
	Requeue(ctx context.Context, dest string, now time.Time) (int, error)

	// PurgeDeadLetters deletes the dead letters that died before t and returns
	// how many it deleted.
	PurgeDeadLetters(ctx context.Context, before time.Time) (int64, error)

	// Depth counts the waiting entries and the dead letters of each destination
	// that has any.
	Depth(ctx context.Context) (map[string]QueueDepth, error)

	// Lease takes or renews the delivery lease of dest for owner until until.
	// It reports false when another owner holds a lease that has not expired at
	// now.
	Lease(ctx context.Context, dest, owner string, now, until time.Time) (bool, error)
}

// HasOutbox is implemented by the stores that keep a notification outbox (both
// the SQLite and the PostgreSQL store do).
type HasOutbox interface {
	Outbox() Outbox
}

// OutboxKind says what an outbox entry announces.
type OutboxKind string

// The kinds of outbox entries.
const (
	// OutboxNew announces a new finding (or one made current again).
	OutboxNew OutboxKind = "new"
	// OutboxUpdate announces more occurrences of a finding already announced.
	OutboxUpdate OutboxKind = "update"
)

// Outbox limits.
const (
	// MaxOutboxPayload bounds an entry's payload (a finding's JSON, whose
	// evidence sample is itself bounded).
	MaxOutboxPayload = 1 << 20
	// MaxOutboxName bounds a destination name.
	MaxOutboxName = 200
	// MaxOutboxError bounds the stored last error; longer ones are cut.
	MaxOutboxError = 1000
	// MaxOutboxLimit bounds the entries or dead letters of one read.
	MaxOutboxLimit = 10000
)

// OutboxEntry is one alert waiting for one destination.
type OutboxEntry struct {
	// ID orders a destination's queue; the store sets it.
	ID int64
	// Rev moves on whenever Enqueue folds a change into the entry (several
	// changes in one call move it once); Ack compares it.
	Rev         int64
	Destination string
	FindingID   string
	Kind        OutboxKind
	// Payload is what the dispatcher delivers: the finding's JSON.
	Payload []byte
	// CreatedAt is when the entry was first queued, DueAt when it may be sent.
	CreatedAt, DueAt time.Time
	// Attempts counts failed deliveries; LastError is the latest one's error.
	Attempts  int
	LastError string
}

// DeadLetter is an outbox entry given up on.
type DeadLetter struct {
	ID          int64
	Destination string
	FindingID   string
	Kind        OutboxKind
	Payload     []byte
	CreatedAt   time.Time
	// DiedAt is when it was given up on, LastError why.
	DiedAt    time.Time
	Attempts  int
	LastError string
}

// QueueDepth is how much a destination has waiting and dead.
type QueueDepth struct {
	Pending int64
	Dead    int64
}
