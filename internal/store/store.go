// Package store keeps findings: it aggregates repeats into the finding they repeat
// (finding.Merge), answers GuardDuty's ListFindings, GetFindings and
// GetFindingsStatistics, records the user's archive and feedback decisions, forgets
// findings past retention, and keeps the ingest checkpoints in the same transaction
// as the findings they produced.
//
// Two implementations satisfy the Store contract, and one contract suite
// (store/storetest) runs against both:
//
//   - store/sqlite, the embedded default: pure-Go SQLite (modernc.org/sqlite, so a
//     CGO_ENABLED=0 build is one static binary), WAL mode, one writer connection and
//     a pool of readers;
//   - store/postgres, for cluster mode: PostgreSQL through pgx/v5 (pgxpool), so
//     several vigil nodes share findings and checkpoints.
//
// # Schema
//
// Both keep one row per finding ID in a table findings. The finding's GuardDuty JSON
// (body) is the source of truth for everything but the user's decisions; the
// attributes that criteria filter on and that lists sort by are copied into
// columns when the row is written (see Attributes for the list), so a query never
// parses JSON. The columns archived, user_feedback and feedback_comments belong to
// the user (ArchiveFindings, UpdateFindingsFeedback) and are authoritative: Get
// writes them into the returned finding. Checkpoints live in a table checkpoints
// next to the findings, so one transaction commits both (UpsertWithCheckpoint).
// The schema is versioned by numbered SQL files embedded per dialect, applied at
// start-up in one transaction and recorded in schema_migrations.
//
// # Indexes
//
// Chosen for ListFindings as the console and the API use it: a filter on one
// selective attribute, newest first. The updatedAt indexes end in (updated_at,
// id), so a filter on their leading column followed by "ORDER BY updatedAt
// DESC" reads the first page straight off the index, and the keyset page token
// (updated_at, id) continues from the same place without OFFSET. They carry
// archived (and severity) too, so the ubiquitous "service.archived = false" and
// severity filters are checked in the index without touching the rows:
//
//	findings_updated    (updated_at, id, archived, severity)        no filter, archived, severity ranges, updatedAt ranges, retention
//	findings_type       (type, updated_at, id, archived, severity)  type Eq (and Matches with a literal prefix)
//	findings_instance   (instance_id, updated_at, id, archived)     resource.instanceDetails.instanceId Eq (likewise)
//	findings_remote_ip  (remote_ipv4, updated_at, id, archived)     …networkConnectionAction.remoteIpDetails.ipAddressV4 Eq (likewise)
//	findings_severity   (severity, id)                              sort by severity
//
// (PostgreSQL keeps the trailing archived and severity as INCLUDE columns.)
// There is no index led by archived or severity: their few values each match a
// large share of the findings, so walking findings_updated newest first and
// skipping the others finds a page as fast. Every index holding updated_at is
// rewritten by every repeat of a finding, which is what an upsert mostly costs;
// hence no more of them. Other attributes filter the rows found through one of
// these indexes (or a scan): cheap when the indexed condition is selective.
// Sorting by another attribute than updatedAt or severity sorts the matching
// rows.
//
// # Strings
//
// Values that reach a column are stored as valid UTF-8 without NUL bytes
// (PostgreSQL text accepts neither): invalid bytes and NUL become U+FFFD, as
// encoding/json already does for invalid bytes in the body. Criteria values and
// IDs are mapped the same way before they are compared, so a filter finds what a
// finding carried. All values travel as query parameters; no value from a finding,
// criteria or page token is ever spliced into SQL text.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Store keeps findings and checkpoints. Implementations are safe for concurrent
// use by many goroutines and, for the same database, by many processes (several
// vigil processes on one SQLite file, several nodes on one PostgreSQL).
//
// Writes are atomic per call: Upsert applies the whole batch (and its checkpoint)
// or nothing. Concurrent upserts of the same finding ID serialise on that finding:
// each reads the latest committed finding and merges into it, so no count or
// timestamp is lost, whatever the interleaving. Archive, Unarchive and Feedback are
// single statements; DeleteOlderThan deletes in chunks of its own transactions, so
// it does not hold writers up for long.
//
// Reads see committed data only. A List followed by Get may miss a finding deleted
// in between; Get returns what it finds.
//
// Cancelling ctx stops the call: a write not yet committed is rolled back and
// nothing is written (the error wraps ctx.Err()). A cancel that races the commit
// itself may report an error for a write that did commit; a caller that must not
// apply a batch twice guards it with a checkpoint (UpsertWithCheckpoint with
// Checkpoint.Guarded), which then reports ErrCheckpointConflict for the replay.
//
// Findings passed to Upsert are read, never modified; the caller must not
// modify them afterwards either, because the merged findings returned in
// UpsertResult share memory with them and with the store's cache of recent
// findings. Those returned findings are read-only (copy one before changing
// it). Findings returned by Get are the caller's.
//
// Errors wrap ErrInvalid (and a more specific error: ErrInvalidCriteria,
// ErrInvalidToken) when the arguments are at fault, ErrCheckpointConflict when a
// guarded checkpoint did not match, and the database's error otherwise.
type Store interface {
	// Upsert stores findings by ID at time now (the merging clock: event time when
	// logs are replayed). A finding whose ID is not stored is inserted as given
	// (count at least 1); one whose ID is stored is folded into the stored one with
	// finding.Merge(stored, new, now). Several findings with the same ID in one
	// batch are applied in batch order. After each merge the finding's archived
	// flag is the new occurrence's: a finding the user archived becomes current
	// again when it recurs, while an occurrence archived by a suppression rule
	// (Service.Archived set upstream) stays archived — GuardDuty's rules. The
	// user's feedback is kept. Every finding must have an ID (finding.Complete
	// sets it).
	Upsert(ctx context.Context, findings []finding.Finding, now finding.Time) (UpsertResult, error)

	// UpsertWithCheckpoint is Upsert that also writes cp in the same transaction:
	// both are committed or neither is. findings may be empty, to move a checkpoint
	// past input that raised nothing.
	UpsertWithCheckpoint(ctx context.Context, findings []finding.Finding, now finding.Time, cp Checkpoint) (UpsertResult, error)

	// Get returns the stored findings with the given IDs, in the order of ids;
	// IDs not stored are skipped, and a repeated ID is returned once.
	Get(ctx context.Context, ids []string) ([]finding.Finding, error)

	// List returns the IDs of findings matching c, ordered by s (ties by ID, in
	// the same direction), at most limit of them (0 means DefaultLimit), starting
	// after token (empty for the first page). Page.Next is empty on the last page.
	// A token is valid only for the criteria and sort it was issued with, and only
	// for the database that issued it; anything else is ErrInvalidToken. Pages are
	// keyset pages: a finding written between two pages is listed once or not at
	// all, never twice, and none is skipped that stayed in place.
	List(ctx context.Context, c Criteria, s Sort, token PageToken, limit int) (Page, error)

	// Archive and Unarchive set service.archived on the findings with the given
	// IDs and return how many were found. updatedAt does not change.
	Archive(ctx context.Context, ids []string) (int, error)
	Unarchive(ctx context.Context, ids []string) (int, error)

	// Feedback records the user's feedback (USEFUL or NOT_USEFUL) and comments on
	// the findings with the given IDs and returns how many were found.
	Feedback(ctx context.Context, ids []string, fb Feedback, comments string) (int, error)

	// Statistics counts the findings matching q.Criteria in groups (GuardDuty's
	// GetFindingsStatistics).
	Statistics(ctx context.Context, q StatisticsQuery) ([]Group, error)

	// DeleteOlderThan deletes the findings last updated before t and returns how
	// many it deleted. It works in chunks, each its own transaction; when ctx is
	// cancelled the chunks already deleted stay deleted.
	DeleteOlderThan(ctx context.Context, t finding.Time) (int64, error)

	// GetCheckpoint returns the position stored for source; ok is false when
	// there is none.
	GetCheckpoint(ctx context.Context, source string) (position []byte, ok bool, err error)

	// PutCheckpoint writes a checkpoint on its own.
	PutCheckpoint(ctx context.Context, cp Checkpoint) error

	// Close releases the database. Calls after Close fail.
	Close() error
}

// UpsertResult reports what an upsert did.
type UpsertResult struct {
	// Created and Updated count the distinct finding IDs inserted and merged.
	Created, Updated int
	// Changes has one entry per distinct finding ID of the batch, in order of first
	// appearance: what happened to it, and the finding as stored. Notifiers read it
	// to tell new findings from repeats.
	Changes []Change
}

// Change is what one upsert did to one finding.
type Change struct {
	// Finding is the finding as stored after the upsert.
	Finding finding.Finding
	// Created is true when the ID was not stored before.
	Created bool
	// Unarchived is true when the stored finding was archived and this upsert made
	// it current again (a recurrence that no suppression rule archived).
	Unarchived bool
}

// Feedback is service.userFeedback.
type Feedback string

// The feedback values of UpdateFindingsFeedback.
const (
	FeedbackUseful    Feedback = "USEFUL"
	FeedbackNotUseful Feedback = "NOT_USEFUL"
)

// Valid reports whether fb is USEFUL or NOT_USEFUL.
func (fb Feedback) Valid() bool { return fb == FeedbackUseful || fb == FeedbackNotUseful }

// Checkpoint is how far an input source has been read: Position is the source's
// own opaque encoding (a byte offset, an S3 key, a stream sequence).
type Checkpoint struct {
	Source   string
	Position []byte
	// Guarded makes the write a compare-and-set: it happens only if the stored
	// position of Source is Expect (or, with Expect nil, if Source has none), and
	// otherwise the whole call fails with ErrCheckpointConflict and writes nothing.
	// It fences a replayed batch, or a second writer of the same source.
	Guarded bool
	Expect  []byte
}

// GroupBy is how Statistics groups findings (GuardDuty's groupBy).
type GroupBy string

// The groupings.
const (
	// GroupBySeverity groups by the severity number (Group.Severity).
	GroupBySeverity GroupBy = "SEVERITY"
	// GroupByType groups by finding type (Group.Key).
	GroupByType GroupBy = "FINDING_TYPE"
	// GroupByAccount groups by account ID (Group.Key and Group.AccountID).
	GroupByAccount GroupBy = "ACCOUNT"
	// GroupByDate groups by the UTC day of updatedAt (Group.Key, YYYY-MM-DD);
	// Group.Severity is the highest of the day.
	GroupByDate GroupBy = "DATE"
	// GroupByResource groups by affected resource: account, resource type and
	// resource ID (finding.ResourceID) (Group.AccountID, Group.ResourceType,
	// Group.Key).
	GroupByResource GroupBy = "RESOURCE"
)

// StatisticsQuery asks for counts of findings by group.
type StatisticsQuery struct {
	Criteria Criteria
	GroupBy  GroupBy
	// Order orders groups by their total: Desc (the default) or Asc; ties by key.
	Order Order
	// Limit bounds the groups returned; 0 means all.
	Limit int
}

// Group is one group of Statistics.
type Group struct {
	// Key is the group's value: the type, account ID, day or resource ID; for
	// SEVERITY, the severity number as text.
	Key          string
	Severity     finding.Severity
	AccountID    string
	ResourceType finding.ResourceType
	// Total is the number of findings in the group, and LastGeneratedAt the latest
	// updatedAt among them.
	Total           int64
	LastGeneratedAt finding.Time
}

// PageToken continues a List where the previous page ended. It is opaque and
// signed by the store that issued it.
type PageToken string

// Page is one page of finding IDs.
type Page struct {
	IDs  []string
	Next PageToken
}

// List limits.
const (
	// DefaultLimit is the page size when none is given, GuardDuty's maxResults
	// default.
	DefaultLimit = 50
	// MaxLimit bounds a page, so that one call's memory stays bounded.
	MaxLimit = 1000
)

// Errors.
var (
	// ErrInvalid is wrapped by every error about a caller's arguments: the API
	// answers it with 400.
	ErrInvalid = errors.New("invalid argument")
	// ErrInvalidCriteria is a criteria problem: unknown attribute, wrong operator
	// for the attribute, a value of the wrong kind.
	ErrInvalidCriteria = fmt.Errorf("%w: finding criteria", ErrInvalid)
	// ErrInvalidToken is a page token that this store did not issue for this
	// query, or that was altered.
	ErrInvalidToken = fmt.Errorf("%w: page token", ErrInvalid)
	// ErrCheckpointConflict is a guarded checkpoint whose stored position was not
	// the expected one.
	ErrCheckpointConflict = errors.New("checkpoint conflict")
	// ErrSchemaTooNew is a database migrated by a newer vigil than this one.
	ErrSchemaTooNew = errors.New("database schema is newer than this vigil")
)

// CheckLimit returns the page size for a List limit: DefaultLimit for 0, an
// ErrInvalid error outside 0–MaxLimit.
func CheckLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultLimit, nil
	case limit < 0 || limit > MaxLimit:
		return 0, fmt.Errorf("%w: limit %d outside 1–%d", ErrInvalid, limit, MaxLimit)
	}
	return limit, nil
}
