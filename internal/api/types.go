package api

import (
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// The request and response bodies of the operations, in GuardDuty's
// camelCase. Fields GuardDuty has keep its names; vigil's additions are
// documented as such. Struct tags: json for the body, path and query for URL
// parameters, doc for the OpenAPI document, required for fields that must be
// present.

// Empty is the body of operations that take or return nothing.
type Empty struct{}

// DetectorPath is the {detectorId} every GuardDuty path has.
type DetectorPath struct {
	DetectorID string `path:"detectorId" json:"-" doc:"the detector ID (GET /detector lists it)"`
}

// ListDetectorsResponse lists the detector vigil serves.
type ListDetectorsResponse struct {
	DetectorIDs []string `json:"detectorIds"`
}

// ListFindingsRequest is ListFindings' body.
type ListFindingsRequest struct {
	DetectorPath
	FindingCriteria *store.Criteria `json:"findingCriteria,omitempty" doc:"conditions by attribute, AND-ed; values of one list OR-ed; no matches/notMatches (filters only, as in GuardDuty)"`
	SortCriteria    *store.Sort     `json:"sortCriteria,omitempty" doc:"default updatedAt DESC"`
	MaxResults      int             `json:"maxResults,omitempty" doc:"page size, 1 to 1000 (GuardDuty: 50); default 50"`
	NextToken       string          `json:"nextToken,omitempty" doc:"the previous page's nextToken"`
}

// ListFindingsResponse is a page of finding IDs.
type ListFindingsResponse struct {
	FindingIDs []string `json:"findingIds"`
	NextToken  string   `json:"nextToken,omitempty" doc:"absent on the last page"`
}

// GetFindingsRequest is GetFindings' body.
type GetFindingsRequest struct {
	DetectorPath
	FindingIDs   []string    `json:"findingIds" required:"true" doc:"1 to 1000 IDs (GuardDuty: 50)"`
	SortCriteria *store.Sort `json:"sortCriteria,omitempty" doc:"order of the findings returned; default the order of findingIds"`
}

// GetFindingsResponse holds findings in GuardDuty's JSON.
type GetFindingsResponse struct {
	Findings []finding.Finding `json:"findings"`
}

// FindingIDsRequest is the body of ArchiveFindings and UnarchiveFindings.
type FindingIDsRequest struct {
	DetectorPath
	FindingIDs []string `json:"findingIds" required:"true" doc:"1 to 1000 IDs (GuardDuty: 50)"`
}

// UpdatedResponse answers the finding updates: GuardDuty's empty body, with
// vigil's count of the findings found.
type UpdatedResponse struct {
	Updated int `json:"updated" doc:"vigil: how many of the IDs were found and updated"`
}

// FeedbackRequest is UpdateFindingsFeedback's body.
type FeedbackRequest struct {
	DetectorPath
	FindingIDs []string       `json:"findingIds" required:"true" doc:"1 to 1000 IDs (GuardDuty: 50)"`
	Feedback   store.Feedback `json:"feedback" required:"true" doc:"USEFUL or NOT_USEFUL"`
	Comments   string         `json:"comments,omitempty" doc:"at most 4096 bytes"`
}

// StatisticsRequest is GetFindingsStatistics' body: findingStatisticTypes
// ["COUNT_BY_SEVERITY"] (the legacy form), or groupBy.
type StatisticsRequest struct {
	DetectorPath
	FindingStatisticTypes []string        `json:"findingStatisticTypes,omitempty" doc:"[\"COUNT_BY_SEVERITY\"]: the legacy form"`
	FindingCriteria       *store.Criteria `json:"findingCriteria,omitempty" doc:"as ListFindings': no matches/notMatches (filters only)"`
	GroupBy               string          `json:"groupBy,omitempty" doc:"ACCOUNT, DATE, FINDING_TYPE, RESOURCE or SEVERITY"`
	OrderBy               string          `json:"orderBy,omitempty" doc:"ASC or DESC (default), by total"`
	MaxResults            int             `json:"maxResults,omitempty" doc:"groups returned, 1 to 100; default 25"`
}

// StatisticsResponse holds the counts.
type StatisticsResponse struct {
	FindingStatistics FindingStatistics `json:"findingStatistics"`
}

// FindingStatistics are GuardDuty's statistics: one of the members is set.
type FindingStatistics struct {
	CountBySeverity      map[string]int64 `json:"countBySeverity,omitempty" doc:"severity (as text) → findings"`
	GroupedByAccount     []AccountGroup   `json:"groupedByAccount,omitempty"`
	GroupedByDate        []DateGroup      `json:"groupedByDate,omitempty"`
	GroupedByFindingType []TypeGroup      `json:"groupedByFindingType,omitempty"`
	GroupedByResource    []ResourceGroup  `json:"groupedByResource,omitempty"`
	GroupedBySeverity    []SeverityGroup  `json:"groupedBySeverity,omitempty"`
}

// AccountGroup counts findings of one account.
type AccountGroup struct {
	AccountID       string       `json:"accountId"`
	LastGeneratedAt finding.Time `json:"lastGeneratedAt"`
	TotalFindings   int64        `json:"totalFindings"`
}

// DateGroup counts findings last updated on one UTC day.
type DateGroup struct {
	Date            string           `json:"date" doc:"YYYY-MM-DD"`
	LastGeneratedAt finding.Time     `json:"lastGeneratedAt"`
	Severity        finding.Severity `json:"severity" doc:"the highest of the day"`
	TotalFindings   int64            `json:"totalFindings"`
}

// TypeGroup counts findings of one type.
type TypeGroup struct {
	FindingType     string       `json:"findingType"`
	LastGeneratedAt finding.Time `json:"lastGeneratedAt"`
	TotalFindings   int64        `json:"totalFindings"`
}

// ResourceGroup counts findings about one resource.
type ResourceGroup struct {
	AccountID       string       `json:"accountId"`
	ResourceID      string       `json:"resourceId"`
	ResourceType    string       `json:"resourceType"`
	LastGeneratedAt finding.Time `json:"lastGeneratedAt"`
	TotalFindings   int64        `json:"totalFindings"`
}

// SeverityGroup counts findings of one severity.
type SeverityGroup struct {
	Severity        finding.Severity `json:"severity"`
	LastGeneratedAt finding.Time     `json:"lastGeneratedAt"`
	TotalFindings   int64            `json:"totalFindings"`
}

// CreateSampleFindingsRequest is CreateSampleFindings' body.
type CreateSampleFindingsRequest struct {
	DetectorPath
	FindingTypes []string `json:"findingTypes,omitempty" doc:"types from vigil's catalogue, at most 50; omitted: every type"`
}

// CreateSampleFindingsResponse is GuardDuty's empty body with the IDs vigil
// stored.
type CreateSampleFindingsResponse struct {
	FindingIDs []string `json:"findingIds" doc:"vigil: the sample findings' IDs"`
}

// CreateFilterRequest is CreateFilter's body.
type CreateFilterRequest struct {
	DetectorPath
	Name            string             `json:"name" required:"true" doc:"3 to 64 letters, digits, '.', '_' or '-'"`
	Description     string             `json:"description,omitempty" doc:"at most 512 bytes"`
	Action          store.FilterAction `json:"action,omitempty" doc:"NOOP (default: a saved view) or ARCHIVE (a suppression rule)"`
	Rank            int                `json:"rank,omitempty" doc:"1 to 100, the order rules are applied in; default after the last filter"`
	FindingCriteria *store.Criteria    `json:"findingCriteria,omitempty" doc:"what the filter selects, matches/notMatches wildcards included; or expression"`
	Expression      string             `json:"expression,omitempty" doc:"vigil: a filter expression in vigil's query language over the finding's JSON, instead of findingCriteria"`
	ClientToken     string             `json:"clientToken,omitempty" doc:"accepted for compatibility; a repeated name is a conflict"`
	Tags            map[string]string  `json:"tags,omitempty"`
}

// FilterResponse answers CreateFilter and UpdateFilter: the name, and how many
// stored findings the filter selects now.
type FilterResponse struct {
	Name            string `json:"name"`
	PreviewCount    int64  `json:"previewCount" doc:"vigil: stored findings the filter matches (archived or not)"`
	PreviewComplete bool   `json:"previewComplete" doc:"vigil: false when an expression filter's preview stopped at the scan limit"`
}

// FilterPath names a filter in the path.
type FilterPath struct {
	DetectorPath
	FilterName string `path:"filterName" json:"-" doc:"the filter's name"`
}

// UpdateFilterRequest is UpdateFilter's body: the fields given change.
type UpdateFilterRequest struct {
	FilterPath
	Description     *string             `json:"description,omitempty"`
	Action          *store.FilterAction `json:"action,omitempty"`
	Rank            *int                `json:"rank,omitempty"`
	FindingCriteria *store.Criteria     `json:"findingCriteria,omitempty" doc:"replaces the criteria (and drops an expression)"`
	Expression      *string             `json:"expression,omitempty" doc:"vigil: replaces the selection by an expression (and drops criteria)"`
}

// GetFilterResponse is a filter.
type GetFilterResponse struct {
	Name            string             `json:"name"`
	Description     string             `json:"description,omitempty"`
	Action          store.FilterAction `json:"action"`
	Rank            int                `json:"rank"`
	FindingCriteria *store.Criteria    `json:"findingCriteria,omitempty"`
	Expression      string             `json:"expression,omitempty" doc:"vigil: the filter expression"`
	Tags            map[string]string  `json:"tags,omitempty"`
	CreatedAt       finding.Time       `json:"createdAt"`
	UpdatedAt       finding.Time       `json:"updatedAt"`
	Version         int64              `json:"version"`
}

// PageRequest is the query of the GET list operations.
type PageRequest struct {
	DetectorPath
	MaxResults int    `query:"maxResults" json:"-" doc:"page size, 1 to 1000; default 50"`
	NextToken  string `query:"nextToken" json:"-" doc:"the previous page's nextToken"`
}

// ListFiltersResponse is a page of filter names, in rank order.
type ListFiltersResponse struct {
	FilterNames []string `json:"filterNames"`
	NextToken   string   `json:"nextToken,omitempty"`
}

// CreateListRequest is the body of CreateIPSet and CreateThreatIntelSet. The
// content comes from location (an http(s) URL or an s3://bucket/key object,
// read once, as GuardDuty reads its S3 object when the list is created or
// updated) or from content.
type CreateListRequest struct {
	DetectorPath
	Name     string `json:"name" required:"true" doc:"1 to 300 letters, digits, '-' or '_'; findings report it as threatListName"`
	Format   string `json:"format" required:"true" doc:"TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE (GuardDuty's), or vigil's TOR_EXIT_ADDRESSES, ABUSE_CH_CSV, SPAMHAUS_DROP, SPAMHAUS_DROP_JSON, AUTO"`
	Location string `json:"location,omitempty" doc:"an http:// or https:// URL, or s3://bucket/key (read through api.s3), to fetch the list from; or content"`
	Content  string `json:"content,omitempty" doc:"vigil: the list itself, instead of location"`
	Activate *bool  `json:"activate" required:"true" doc:"true: in effect at once; false: stored inactive"`
	// IgnoreInvalidLines loads a list with bad lines (they are reported in
	// warnings); by default a bad line rejects the list.
	IgnoreInvalidLines  bool              `json:"ignoreInvalidLines,omitempty" doc:"vigil: load the good lines of a list with bad ones; default: reject it"`
	ExpectedBucketOwner string            `json:"expectedBucketOwner,omitempty" doc:"accepted for compatibility; unused"`
	ClientToken         string            `json:"clientToken,omitempty" doc:"accepted for compatibility"`
	Tags                map[string]string `json:"tags,omitempty"`
}

// CreateIPSetResponse answers CreateIPSet.
type CreateIPSetResponse struct {
	IPSetID  string   `json:"ipSetId"`
	Entries  int      `json:"entries" doc:"vigil: entries loaded"`
	Warnings []string `json:"warnings,omitempty" doc:"vigil: lines skipped, as file:line: problem"`
}

// CreateThreatIntelSetResponse answers CreateThreatIntelSet.
type CreateThreatIntelSetResponse struct {
	ThreatIntelSetID string   `json:"threatIntelSetId"`
	Entries          int      `json:"entries" doc:"vigil: entries loaded"`
	Warnings         []string `json:"warnings,omitempty" doc:"vigil: lines skipped, as file:line: problem"`
}

// IPSetPath names a trusted list in the path.
type IPSetPath struct {
	DetectorPath
	ID string `path:"ipSetId" json:"-" doc:"the list's ID"`
}

// ThreatIntelSetPath names a threat list in the path.
type ThreatIntelSetPath struct {
	DetectorPath
	ID string `path:"threatIntelSetId" json:"-" doc:"the list's ID"`
}

// UpdateListFields are what UpdateIPSet and UpdateThreatIntelSet change. A
// new location is fetched again (also the same location: that is how a list
// is refreshed, as in GuardDuty).
type UpdateListFields struct {
	Name               *string `json:"name,omitempty"`
	Location           *string `json:"location,omitempty" doc:"an http(s):// URL or s3://bucket/key, fetched again, also when unchanged"`
	Content            *string `json:"content,omitempty" doc:"vigil: replaces the content"`
	Activate           *bool   `json:"activate,omitempty"`
	IgnoreInvalidLines bool    `json:"ignoreInvalidLines,omitempty" doc:"vigil: load the good lines of a list with bad ones"`
}

// UpdateIPSetRequest is UpdateIPSet's body.
type UpdateIPSetRequest struct {
	IPSetPath
	UpdateListFields
}

// UpdateThreatIntelSetRequest is UpdateThreatIntelSet's body.
type UpdateThreatIntelSetRequest struct {
	ThreatIntelSetPath
	UpdateListFields
}

// UpdateListResponse answers the list updates: GuardDuty's empty body with
// what vigil loaded.
type UpdateListResponse struct {
	Entries  int      `json:"entries" doc:"vigil: entries in effect"`
	Warnings []string `json:"warnings,omitempty" doc:"vigil: lines skipped, as file:line: problem"`
}

// GetListResponse is a trusted or threat list (without its content).
type GetListResponse struct {
	Name      string            `json:"name"`
	Format    string            `json:"format"`
	Location  string            `json:"location,omitempty"`
	Status    store.ListStatus  `json:"status" doc:"ACTIVE or INACTIVE"`
	Tags      map[string]string `json:"tags,omitempty"`
	ID        string            `json:"id" doc:"vigil: the list's ID"`
	Entries   int               `json:"entries" doc:"vigil: entries in the content"`
	Size      int64             `json:"size" doc:"vigil: content bytes"`
	SHA256    string            `json:"sha256" doc:"vigil: content digest"`
	CreatedAt finding.Time      `json:"createdAt"`
	UpdatedAt finding.Time      `json:"updatedAt"`
	Version   int64             `json:"version"`
}

// ListIPSetsResponse is a page of trusted list IDs.
type ListIPSetsResponse struct {
	IPSetIDs  []string `json:"ipSetIds"`
	NextToken string   `json:"nextToken,omitempty"`
}

// ListThreatIntelSetsResponse is a page of threat list IDs.
type ListThreatIntelSetsResponse struct {
	ThreatIntelSetIDs []string `json:"threatIntelSetIds"`
	NextToken         string   `json:"nextToken,omitempty"`
}

// AuditRequest is ListAuditEvents' query.
type AuditRequest struct {
	MaxResults   int    `query:"maxResults" json:"-" doc:"page size, 1 to 1000; default 50"`
	NextToken    string `query:"nextToken" json:"-"`
	ResourceType string `query:"resourceType" json:"-" doc:"FILTER, LIST or TOKEN"`
	ResourceID   string `query:"resourceId" json:"-" doc:"a filter name, list ID or token ID"`
	BlindingOnly bool   `query:"blindingOnly" json:"-" doc:"only changes that can blind detection"`
}

// AuditResponse is a page of audit events, newest first.
type AuditResponse struct {
	Events    []store.AuditEvent `json:"events"`
	NextToken string             `json:"nextToken,omitempty"`
}

// QueryRequest runs a Logs Insights query, shaped like CloudWatch Logs'
// StartQuery.
type QueryRequest struct {
	QueryString   string   `json:"queryString" required:"true" doc:"a Logs Insights query"`
	LogGroupNames []string `json:"logGroupNames,omitempty" doc:"names of the server's configured sources; default all"`
	StartTime     int64    `json:"startTime,omitempty" doc:"epoch seconds, inclusive; 0: no bound"`
	EndTime       int64    `json:"endTime,omitempty" doc:"epoch seconds, inclusive; 0: no bound"`
	Limit         int      `json:"limit,omitempty" doc:"rows returned at most; default and maximum the server's (10,000)"`
}

// QueryResponse is the query's result, shaped like GetQueryResults'.
type QueryResponse struct {
	Status     string          `json:"status" doc:"Complete"`
	Results    [][]ResultField `json:"results"`
	Statistics QueryStatistics `json:"statistics"`
	Warnings   []string        `json:"warnings,omitempty"`
	Truncated  bool            `json:"truncated,omitempty" doc:"vigil: more rows than returned"`
}

// ResultField is one field of a result row.
type ResultField struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// QueryStatistics are what the query read.
type QueryStatistics struct {
	RecordsScanned float64 `json:"recordsScanned"`
	RecordsMatched float64 `json:"recordsMatched"`
	BytesScanned   float64 `json:"bytesScanned"`
}

// HealthResponse answers GET /healthz.
type HealthResponse struct {
	Status string `json:"status"`
}
