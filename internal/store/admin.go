package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Admin keeps what users configure through the API, beside the findings it
// governs: saved filters and suppression rules (GuardDuty's filters), trusted
// and threat lists with their content, the API's bearer tokens, and the audit
// log of every change to them.
//
// Every change is one transaction that also appends its AuditEvent, so the log
// cannot miss a change that committed, nor record one that did not. Changes
// are serialised with one another (SQLite has one writer; PostgreSQL takes an
// advisory lock), so a count limit checked in Create cannot be overrun by
// concurrent creates and an update's function sees the latest committed
// version. Update functions may run more than once (a PostgreSQL transaction
// that is retried) and must only edit their argument.
//
// Values are the caller's after the call: the store keeps copies. Errors wrap
// ErrNotFound (no such name or ID), ErrExists (the name is taken),
// ErrLimitExceeded (a count limit) or ErrInvalid (a bad argument); anything
// else is the database's.
type Admin interface {
	// CreateFilter stores a new filter, unless one with its name exists or
	// max filters exist already (max ≤ 0: no limit). It sets CreatedAt,
	// UpdatedAt and Version 1.
	CreateFilter(ctx context.Context, f Filter, max int, a Actor) (Filter, error)
	// GetFilter returns the filter named name.
	GetFilter(ctx context.Context, name string) (Filter, error)
	// UpdateFilter applies update to the stored filter and stores the result
	// with UpdatedAt moved and Version incremented; the name cannot change. It
	// returns the filter before and after.
	UpdateFilter(ctx context.Context, name string, update func(*Filter) error, a Actor) (before, after Filter, err error)
	// DeleteFilter deletes the filter and returns it as it was.
	DeleteFilter(ctx context.Context, name string, a Actor) (Filter, error)
	// ListFilters returns every filter ordered by rank, then name.
	ListFilters(ctx context.Context) ([]Filter, error)

	// CreateList stores a new list with its content, unless a list of that
	// name exists or max lists of its kind exist already (max ≤ 0: no limit).
	// It sets ID, Size, SHA256, CreatedAt, UpdatedAt and Version 1; the caller
	// sets Entries (it parsed the content).
	CreateList(ctx context.Context, l IntelList, content []byte, max int, a Actor) (IntelList, error)
	// GetList returns the list with the given ID, without its content.
	GetList(ctx context.Context, id string) (IntelList, error)
	// ListContent returns the content of the list with the given ID.
	ListContent(ctx context.Context, id string) ([]byte, error)
	// UpdateList applies update to the stored list; content, when not nil,
	// replaces the list's content (update must then set Entries). ID, Kind and
	// the timestamps are the store's.
	UpdateList(ctx context.Context, id string, update func(*IntelList) error, content []byte, a Actor) (before, after IntelList, err error)
	// DeleteList deletes the list and returns it as it was.
	DeleteList(ctx context.Context, id string, a Actor) (IntelList, error)
	// ListLists returns the lists of kind (every kind for ""), by name.
	ListLists(ctx context.Context, kind ListKind) ([]IntelList, error)

	// CreateToken stores a token: its name must be unused and Hash (the
	// SHA-256 of its secret) set. The store never sees the secret.
	CreateToken(ctx context.Context, t Token, a Actor) (Token, error)
	// TokenByHash returns the token whose secret hashes to hash, revoked or
	// expired ones included (the caller decides; see Token.Usable).
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// ListTokens returns every token, by name, with Hash left empty.
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes the token with the given name or ID at time at.
	// Revoking a revoked token changes nothing and is not an error.
	RevokeToken(ctx context.Context, nameOrID string, at finding.Time, a Actor) (Token, error)
	// TouchToken records that the token was used at time at. It is not
	// audited.
	TouchToken(ctx context.Context, id string, at finding.Time) error

	// ListAudit returns audit events, newest first.
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}

// Errors of Admin, besides ErrInvalid.
var (
	// ErrNotFound is a name or ID that is not stored: the API answers 404.
	ErrNotFound = errors.New("not found")
	// ErrExists is a name that is taken: the API answers 409.
	ErrExists = errors.New("already exists")
	// ErrLimitExceeded is a create past a count limit: the API answers 400, as
	// GuardDuty does.
	ErrLimitExceeded = errors.New("limit exceeded")
)

// Actor is who makes a change, as the audit log records it.
type Actor struct {
	// Name is the token's name through the API, "local:<user>" on the command
	// line.
	Name string `json:"name"`
	// TokenID is the token's ID; empty on the command line.
	TokenID string `json:"tokenId,omitempty"`
	// Address is the client's address; empty on the command line.
	Address string `json:"address,omitempty"`
	// UserAgent is the client's User-Agent header, cut to 256 bytes.
	UserAgent string `json:"userAgent,omitempty"`
}

// FilterAction is what a filter does to the findings it matches.
type FilterAction string

// The actions, as GuardDuty names them.
const (
	// FilterNoop: the filter is a saved view.
	FilterNoop FilterAction = "NOOP"
	// FilterArchive: the filter is a suppression rule; new findings and new
	// occurrences it matches are stored archived.
	FilterArchive FilterAction = "ARCHIVE"
)

// Filter is a saved FindingCriteria with an action: GuardDuty's filter. A
// filter has criteria, or (a vigil extension) a filter expression in vigil's
// query language over the finding's JSON; not both.
type Filter struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Action      FilterAction      `json:"action"`
	Rank        int               `json:"rank"`
	Criteria    Criteria          `json:"findingCriteria"`
	Expression  string            `json:"expression,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	CreatedAt   finding.Time      `json:"createdAt"`
	UpdatedAt   finding.Time      `json:"updatedAt"`
	Version     int64             `json:"version"`
}

// filterName is GuardDuty's rule for filter names.
var filterName = regexp.MustCompile(`^[A-Za-z0-9._-]{3,64}$`)

// Filter limits, GuardDuty's.
const (
	MaxFilterDescription = 512
	MinFilterRank        = 1
	MaxFilterRank        = 100
	// DefaultMaxFilters is GuardDuty's limit of filters per detector.
	DefaultMaxFilters = 100
	// MaxCriteriaAttributes bounds the attributes of one criteria, and
	// MaxCriteriaValues the values of one Eq/Neq list.
	MaxCriteriaAttributes = 50
	MaxCriteriaValues     = 50
	// MaxExpression bounds a filter expression.
	MaxExpression = 4096
	// MaxTags bounds a resource's tags; tag keys and values are bounded by
	// MaxTagKey and MaxTagValue bytes (GuardDuty's limits).
	MaxTags     = 50
	MaxTagKey   = 128
	MaxTagValue = 256
)

// CheckFilterName checks a filter name against GuardDuty's rule: 3 to 64 letters,
// digits, '.', '_' or '-'.
func CheckFilterName(name string) error {
	if !filterName.MatchString(name) {
		return fmt.Errorf("%w: filter name %q: want 3 to 64 letters, digits, '.', '_' or '-'", ErrInvalid, name)
	}
	return nil
}

// Check checks what the store relies on: the name, action, rank, description,
// tags, the bounds of the criteria, and that exactly one of criteria and
// expression is given. The criteria's attributes and values are checked by
// Criteria.Terms, and the expression by whoever compiles it (the suppression
// engine).
func (f *Filter) Check() error {
	if err := CheckFilterName(f.Name); err != nil {
		return err
	}
	switch f.Action {
	case FilterNoop, FilterArchive:
	default:
		return fmt.Errorf("%w: filter %s: action %q: want NOOP or ARCHIVE", ErrInvalid, f.Name, f.Action)
	}
	if f.Rank < MinFilterRank || f.Rank > MaxFilterRank {
		return fmt.Errorf("%w: filter %s: rank %d: want %d to %d", ErrInvalid, f.Name, f.Rank, MinFilterRank, MaxFilterRank)
	}
	if len(f.Description) > MaxFilterDescription {
		return fmt.Errorf("%w: filter %s: description of %d bytes: at most %d", ErrInvalid, f.Name, len(f.Description), MaxFilterDescription)
	}
	if err := CheckTags(f.Tags); err != nil {
		return fmt.Errorf("filter %s: %w", f.Name, err)
	}
	hasCriteria := len(f.Criteria.Criterion) > 0
	switch {
	case hasCriteria && f.Expression != "":
		return fmt.Errorf("%w: filter %s: give findingCriteria or expression, not both", ErrInvalid, f.Name)
	case !hasCriteria && f.Expression == "":
		return fmt.Errorf("%w: filter %s: no findingCriteria and no expression: a filter must select something", ErrInvalid, f.Name)
	case len(f.Expression) > MaxExpression:
		return fmt.Errorf("%w: filter %s: expression of %d bytes: at most %d", ErrInvalid, f.Name, len(f.Expression), MaxExpression)
	}
	return CheckCriteriaBounds(f.Criteria)
}

// CheckCriteriaBounds checks GuardDuty's bounds on criteria: at most
// MaxCriteriaAttributes attributes, MaxCriteriaValues values per list and
// MaxPatterns patterns per Matches or NotMatches list (whose patterns'
// lengths Criteria.Terms checks).
func CheckCriteriaBounds(c Criteria) error {
	if len(c.Criterion) > MaxCriteriaAttributes {
		return fmt.Errorf("%w: %d attributes: at most %d", ErrInvalidCriteria, len(c.Criterion), MaxCriteriaAttributes)
	}
	for attr, cond := range c.Criterion {
		for _, l := range [][]string{cond.Eq, cond.Neq, cond.Equals, cond.NotEquals} {
			if len(l) > MaxCriteriaValues {
				return fmt.Errorf("%w: %s: %d values: at most %d", ErrInvalidCriteria, attr, len(l), MaxCriteriaValues)
			}
		}
		for _, l := range []struct {
			name string
			pats []string
		}{{"Matches", cond.Matches}, {"NotMatches", cond.NotMatches}} {
			if len(l.pats) > MaxPatterns {
				return fmt.Errorf("%w: %s: %s has %d patterns: at most %d", ErrInvalidCriteria, attr, l.name, len(l.pats), MaxPatterns)
			}
		}
	}
	return nil
}

// CheckTags checks tags against GuardDuty's bounds.
func CheckTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%w: %d tags: at most %d", ErrInvalid, len(tags), MaxTags)
	}
	for k, v := range tags {
		if k == "" || len(k) > MaxTagKey {
			return fmt.Errorf("%w: tag key %q: want 1 to %d bytes", ErrInvalid, k, MaxTagKey)
		}
		if len(v) > MaxTagValue {
			return fmt.Errorf("%w: tag %q: value of %d bytes: at most %d", ErrInvalid, k, len(v), MaxTagValue)
		}
	}
	return nil
}

// ListKind is a list's kind: trusted (GuardDuty's IPSet) or threat
// (ThreatIntelSet).
type ListKind string

// The kinds.
const (
	ListTrusted ListKind = "TRUSTED"
	ListThreat  ListKind = "THREAT"
)

// ListStatus is whether a list is in effect. vigil activates and deactivates
// at once, so GuardDuty's transitional states (ACTIVATING, …) never appear.
type ListStatus string

// The statuses.
const (
	ListActive   ListStatus = "ACTIVE"
	ListInactive ListStatus = "INACTIVE"
)

// IntelList is a trusted or threat list as stored: what it is, where it came
// from and a digest of its content (ListContent returns the content).
type IntelList struct {
	ID   string   `json:"id"`
	Kind ListKind `json:"kind"`
	// Name is the list's name, unique across lists: findings report it as
	// threatListName.
	Name string `json:"name"`
	// Format is the content's format, as intel.Format names it (TXT, STIX, …).
	Format string `json:"format"`
	// Location is the URL the content was fetched from; empty for uploaded
	// content.
	Location string            `json:"location,omitempty"`
	Status   ListStatus        `json:"status"`
	Tags     map[string]string `json:"tags,omitempty"`
	// Entries is the number of entries the content parsed into; Size its
	// length and SHA256 its digest (hex).
	Entries   int          `json:"entries"`
	Size      int64        `json:"size"`
	SHA256    string       `json:"sha256"`
	CreatedAt finding.Time `json:"createdAt"`
	UpdatedAt finding.Time `json:"updatedAt"`
	Version   int64        `json:"version"`
}

// listName is GuardDuty's rule for list names, with the length it allows.
var listName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,300}$`)

// CheckListName checks a list name: 1 to 300 letters, digits, '-' or '_'.
func CheckListName(name string) error {
	if !listName.MatchString(name) {
		return fmt.Errorf("%w: list name %q: want 1 to 300 letters, digits, '-' or '_'", ErrInvalid, name)
	}
	return nil
}

// Check checks what the store relies on.
func (l *IntelList) Check() error {
	if err := CheckListName(l.Name); err != nil {
		return err
	}
	if l.Kind != ListTrusted && l.Kind != ListThreat {
		return fmt.Errorf("%w: list %s: kind %q: want TRUSTED or THREAT", ErrInvalid, l.Name, l.Kind)
	}
	if l.Status != ListActive && l.Status != ListInactive {
		return fmt.Errorf("%w: list %s: status %q: want ACTIVE or INACTIVE", ErrInvalid, l.Name, l.Status)
	}
	if l.Format == "" {
		return fmt.Errorf("%w: list %s: no format", ErrInvalid, l.Name)
	}
	if len(l.Location) > 2048 {
		return fmt.Errorf("%w: list %s: location of %d bytes: at most 2048", ErrInvalid, l.Name, len(l.Location))
	}
	if l.Entries < 0 {
		return fmt.Errorf("%w: list %s: negative entries", ErrInvalid, l.Name)
	}
	return CheckTags(l.Tags)
}

// Scope is what a token may do.
type Scope string

// The scopes.
const (
	// ScopeRead reads findings, filters, lists, statistics and the audit log,
	// and runs queries.
	ScopeRead Scope = "read"
	// ScopeAdmin also changes them: archive, feedback, filters, lists.
	ScopeAdmin Scope = "admin"
)

// Token is an API bearer token. The store keeps the SHA-256 of its secret,
// never the secret.
type Token struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Scope Scope  `json:"scope"`
	// Hash is the SHA-256 of the secret.
	Hash      []byte       `json:"-"`
	CreatedAt finding.Time `json:"createdAt"`
	// ExpiresAt is when the token stops working; 0 never.
	ExpiresAt finding.Time `json:"expiresAt,omitempty"`
	// LastUsedAt is when it was last used (to the minute); 0 never.
	LastUsedAt finding.Time `json:"lastUsedAt,omitempty"`
	// RevokedAt is when it was revoked; 0 if it is not.
	RevokedAt finding.Time `json:"revokedAt,omitempty"`
}

// tokenName is the rule for token names.
var tokenName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// Check checks the token's name, scope and hash.
func (t *Token) Check() error {
	if !tokenName.MatchString(t.Name) {
		return fmt.Errorf("%w: token name %q: want 1 to 64 letters, digits, '.', '_', '@' or '-'", ErrInvalid, t.Name)
	}
	if t.Scope != ScopeRead && t.Scope != ScopeAdmin {
		return fmt.Errorf("%w: token %s: scope %q: want read or admin", ErrInvalid, t.Name, t.Scope)
	}
	if len(t.Hash) != 32 {
		return fmt.Errorf("%w: token %s: hash of %d bytes, want a SHA-256", ErrInvalid, t.Name, len(t.Hash))
	}
	return nil
}

// Usable reports whether the token may be used at time now: not revoked, not
// expired.
func (t *Token) Usable(now finding.Time) bool {
	return t.RevokedAt == 0 && (t.ExpiresAt == 0 || now < t.ExpiresAt)
}

// AuditResource is the kind of thing an audit event changed.
type AuditResource string

// The audited resources.
const (
	AuditResourceFilter AuditResource = "FILTER"
	AuditResourceList   AuditResource = "LIST"
	AuditResourceToken  AuditResource = "TOKEN"
)

// AuditEvent is one change in the audit log: who, when, what, and the
// resource before and after (without list content: its size, entries and
// digest stand for it; without token hashes).
type AuditEvent struct {
	ID    int64        `json:"id"`
	Time  finding.Time `json:"time"`
	Actor Actor        `json:"actor"`
	// Action is the operation, as the API names it: CreateFilter,
	// UpdateThreatIntelSet, RevokeToken, …
	Action       string          `json:"action"`
	ResourceType AuditResource   `json:"resourceType"`
	ResourceID   string          `json:"resourceId"`
	Before       json.RawMessage `json:"before,omitempty"`
	After        json.RawMessage `json:"after,omitempty"`
	// Blinding marks a change that can hide activity from vigil: a
	// suppression rule created or changed, a trusted list activated or
	// changed while active, an active threat list deactivated, deleted or
	// shrunk. See Blinding.
	Blinding bool `json:"blinding"`
}

// AuditQuery selects audit events.
type AuditQuery struct {
	// Before continues a listing: only events with a lower ID (0: from the
	// newest).
	Before int64
	// Limit bounds the events returned: 0 means DefaultLimit, at most
	// MaxLimit.
	Limit int
	// ResourceType and ResourceID, when set, select one resource's events.
	ResourceType AuditResource
	ResourceID   string
	// BlindingOnly selects the changes that can blind detection.
	BlindingOnly bool
}

// FilterBlinds reports whether changing a filter from before to after (nil:
// created or deleted) can hide findings: any create or change that leaves an
// ARCHIVE rule. Deleting a rule only shows more.
func FilterBlinds(before, after *Filter) bool {
	if after == nil || after.Action != FilterArchive {
		return false
	}
	return before == nil || before.Action != FilterArchive || before.Expression != after.Expression ||
		!sameCriteria(before.Criteria, after.Criteria) || before.Rank != after.Rank
}

func sameCriteria(a, b Criteria) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// ListBlinds reports whether changing a list from before to after (nil:
// created or deleted) can hide findings: a trusted list that becomes active
// or changes while active (trusted entries stop findings), or an active threat
// list that is deactivated, deleted or loses entries.
func ListBlinds(before, after *IntelList) bool {
	active := func(l *IntelList) bool { return l != nil && l.Status == ListActive }
	kind := ListThreat
	if before != nil {
		kind = before.Kind
	} else if after != nil {
		kind = after.Kind
	}
	switch kind {
	case ListTrusted:
		return active(after) && (!active(before) || before.SHA256 != after.SHA256)
	default:
		return active(before) && (!active(after) || after.Entries < before.Entries)
	}
}
