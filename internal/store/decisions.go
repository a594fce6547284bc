package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Decisions keeps the responders' decisions (package respond): which address or
// network each blocking target must block, until when and why, and an audit
// trail of every decision added, extended and removed. sqlite.Store and
// postgres.Store implement it beside Store; the contract suite
// storetest.RunDecisions runs against both.
//
// A decision is keyed by (Target, Prefix): one target blocks one network once.
// Writes are atomic per call and write their audit entries in the same
// transaction, so the trail never misses a change nor records one that did not
// happen. Implementations are safe for concurrent use; two processes expiring at
// once each get a disjoint share of the expired decisions (the delete decides).
// Cancelling ctx rolls back a write not yet committed.
type Decisions interface {
	// PutDecisions adds or extends decisions at time now. A decision whose key is
	// not stored, or is stored but expired at now (the expiry loop has not run
	// yet), is inserted as given with Hits 1 and audited as DecisionAdd. One that is
	// stored and active is extended: ExpiresAt becomes the later of the two
	// (a repeat never shortens a block), Hits grows by one, UpdatedAt is now and
	// the origin, reason and finding fields are the new decision's; it is audited
	// as DecisionExtend. The results are in the order of ds, with the decision as
	// stored. Every decision needs a Target, a valid Prefix, an Origin and an
	// ExpiresAt after now (else ErrInvalid and nothing is written).
	PutDecisions(ctx context.Context, ds []Decision, now time.Time) ([]DecisionChange, error)

	// DeleteDecisions deletes the decisions with the given keys, audits each
	// deleted one with action and reason, and returns them (keys not stored are
	// skipped). action is DecisionRemove (a user or the API) or DecisionEvict (a target
	// was full).
	DeleteDecisions(ctx context.Context, keys []DecisionKey, action DecisionAction, reason string, now time.Time) ([]Decision, error)

	// ExpireDecisions deletes at most limit decisions whose ExpiresAt is at or
	// before now, soonest first, audits them as DecisionExpire and returns them.
	ExpireDecisions(ctx context.Context, now time.Time, limit int) ([]Decision, error)

	// ListDecisions returns stored decisions matching f, ordered by target and
	// prefix (address order), at most f.Limit (0 means DefaultLimit, at most
	// MaxLimit), after f.After. Expired decisions not yet deleted are included
	// unless f.ActiveAt is set.
	ListDecisions(ctx context.Context, f DecisionFilter) ([]Decision, error)

	// CountDecisions returns how many decisions target holds that are active at
	// now.
	CountDecisions(ctx context.Context, target string, now time.Time) (int, error)

	// OldestDecisions returns up to n active decisions of target that expire
	// soonest (ties: created first, then prefix): the ones to evict when the
	// target is full.
	OldestDecisions(ctx context.Context, target string, now time.Time, n int) ([]Decision, error)

	// AuditDecisions appends entries to the audit trail as they are (for what
	// happens outside the store: a dry run, a target that failed).
	AuditDecisions(ctx context.Context, entries []DecisionAudit) error

	// ListDecisionAudit returns audit entries matching f, newest first.
	ListDecisionAudit(ctx context.Context, f DecisionAuditFilter) ([]DecisionAudit, error)

	// DeleteDecisionAuditBefore deletes the audit entries older than t and
	// returns how many it deleted.
	DeleteDecisionAuditBefore(ctx context.Context, t time.Time) (int64, error)
}

// Decision is one block: Target blocks Prefix until ExpiresAt, because of a
// finding (or a user). Times are wall-clock, stored to the millisecond.
type Decision struct {
	// Target is the name of the responder target that enforces the decision.
	Target string
	// Prefix is the blocked network: a /32 or /128 for one address. It is stored
	// masked (Prefix.Masked).
	Prefix netip.Prefix
	// Origin says what made the decision: "rule:<name>", "cli", "api".
	Origin string
	// Reason is a human sentence: why this block.
	Reason string
	// The finding behind the decision (empty for a manual one).
	FindingID   string
	FindingType finding.Type
	Severity    finding.Severity
	// CreatedAt is when the block began, UpdatedAt when it was last extended,
	// ExpiresAt when it ends.
	CreatedAt, UpdatedAt, ExpiresAt time.Time
	// Hits counts the times the decision was made: 1, plus one per extension.
	Hits int64
}

// Key returns the decision's key.
func (d *Decision) Key() DecisionKey { return DecisionKey{Target: d.Target, Prefix: d.Prefix} }

// Active reports whether the decision is in force at now.
func (d *Decision) Active(now time.Time) bool { return d.ExpiresAt.After(now) }

// DecisionKey identifies a decision.
type DecisionKey struct {
	Target string
	Prefix netip.Prefix
}

// String returns "target prefix".
func (k DecisionKey) String() string { return k.Target + " " + k.Prefix.String() }

// DecisionChange is what PutDecisions did with one decision.
type DecisionChange struct {
	// Decision is the decision as stored.
	Decision Decision
	// Created is true when the decision is new (or replaced an expired one);
	// false when it extended an active one.
	Created bool
}

// DecisionFilter selects decisions for ListDecisions. Zero fields select all.
type DecisionFilter struct {
	// Target selects one target's decisions.
	Target string
	// Contains selects the decisions whose prefix contains this address or
	// overlaps this prefix.
	Contains netip.Prefix
	// ActiveAt, when not zero, leaves out decisions expired at that time.
	ActiveAt time.Time
	// After continues a listing after this key (the last one of the previous
	// page).
	After *DecisionKey
	// Limit bounds the page: 0 means DefaultLimit, at most MaxLimit.
	Limit int
}

// DecisionAction is what an audit entry records.
type DecisionAction string

// The audit actions.
const (
	DecisionAdd    DecisionAction = "add"     // a new decision
	DecisionExtend DecisionAction = "extend"  // a repeat moved the expiry
	DecisionRemove DecisionAction = "remove"  // a user or the API deleted it
	DecisionExpire DecisionAction = "expire"  // its time ran out
	DecisionEvict  DecisionAction = "evict"   // its target was full and it was the oldest
	DecisionDryRun DecisionAction = "dry-run" // a decision a dry run would have made
	DecisionSkip   DecisionAction = "skip"    // a rule matched but a safety check refused
)

// DecisionAudit is one entry of the audit trail.
type DecisionAudit struct {
	// ID orders entries; the store assigns it.
	ID     int64
	At     time.Time
	Action DecisionAction
	// The decision's fields at the time.
	Target      string
	Prefix      netip.Prefix
	Origin      string
	Reason      string
	FindingID   string
	FindingType finding.Type
	Severity    finding.Severity
	ExpiresAt   time.Time
}

// DecisionAuditFilter selects audit entries. Zero fields select all.
type DecisionAuditFilter struct {
	Target string
	// Contains selects the entries whose prefix contains this address or
	// overlaps this prefix.
	Contains netip.Prefix
	// Since leaves out entries before it.
	Since time.Time
	// BeforeID continues a listing below this ID (newest first).
	BeforeID int64
	// Limit bounds the page: 0 means DefaultLimit, at most MaxLimit.
	Limit int
}

// CheckDecision returns an ErrInvalid error when d cannot be stored at now.
func CheckDecision(d *Decision, now time.Time) error {
	switch {
	case d.Target == "":
		return fmt.Errorf("%w: decision without a target", ErrInvalid)
	case !d.Prefix.IsValid():
		return fmt.Errorf("%w: decision for %s without a valid prefix", ErrInvalid, d.Target)
	case d.Origin == "":
		return fmt.Errorf("%w: decision %s %s without an origin", ErrInvalid, d.Target, d.Prefix)
	case !d.ExpiresAt.After(now):
		return fmt.Errorf("%w: decision %s %s expires at %s, not after %s", ErrInvalid, d.Target, d.Prefix,
			d.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
