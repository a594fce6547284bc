// Package client is the Go client of vigil's HTTP API (package api): one
// method per operation, taking and returning the API's own request and
// response types. The CLI (vigil findings, filters, lists) and the tests use
// it.
//
// A Client is safe for concurrent use. Every method takes a context that
// bounds the request; nothing retries (a 5xx or a network error is returned,
// and the caller decides). Errors the server answered are *api.Error values
// (errors.As), with the HTTP status, GuardDuty's exception name, vigil's code
// and the message.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// Config configures a Client.
type Config struct {
	// Server is the API's base URL, e.g. http://127.0.0.1:8080.
	Server string
	// Token is the bearer token's secret (vgl_…).
	Token string
	// DetectorID is the detector of GuardDuty's paths; "" asks the server
	// (ListDetectors) on first use.
	DetectorID string
	// HTTPClient sends the requests; nil means one with Timeout.
	HTTPClient *http.Client
	// Timeout bounds a request when HTTPClient is nil. Default 2 minutes.
	Timeout time.Duration
	// UserAgent is sent as User-Agent; default "vigil-client/1".
	UserAgent string
}

// Client calls the API.
type Client struct {
	base     *url.URL
	cfg      Config
	http     *http.Client
	detector string
}

// New checks cfg and returns a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.Server == "" {
		return nil, errors.New("no server URL")
	}
	u, err := url.Parse(cfg.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want an http:// or https:// URL such as http://127.0.0.1:8080", cfg.Server)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, cfg: cfg, http: cfg.HTTPClient, detector: cfg.DetectorID}
	if c.http == nil {
		t := cfg.Timeout
		if t <= 0 {
			t = 2 * time.Minute
		}
		c.http = &http.Client{Timeout: t}
	}
	if c.cfg.UserAgent == "" {
		c.cfg.UserAgent = "vigil-client/1"
	}
	return c, nil
}

// do sends a request and decodes the JSON answer into out (nil: discard).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	// path is escaped already (url.PathEscape of each name).
	target := c.base.String() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	var body io.Reader
	if in != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // lists (STIX XML) stay their own size
		if err := enc.Encode(in); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = &buf
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s %s: %w", method, u.Redacted(), ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &api.Error{}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			return fmt.Errorf("%s %s: HTTP %s: %s", method, path, resp.Status, strings.TrimSpace(string(data[:min(len(data), 200)])))
		}
		e.Status = resp.StatusCode
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

// detectorPath returns /detector/{id}, asking the server for the ID once.
func (c *Client) detectorPath(ctx context.Context) (string, error) {
	if c.detector == "" {
		ids, err := c.ListDetectors(ctx)
		if err != nil {
			return "", err
		}
		if len(ids) == 0 {
			return "", errors.New("the server lists no detector")
		}
		c.detector = ids[0]
	}
	return "/detector/" + url.PathEscape(c.detector), nil
}

// ListDetectors returns the detector IDs the server serves (one).
func (c *Client) ListDetectors(ctx context.Context) ([]string, error) {
	var out api.ListDetectorsResponse
	if err := c.do(ctx, "GET", "/detector", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.DetectorIDs, nil
}

func (c *Client) detectorCall(ctx context.Context, method, sub string, query url.Values, in, out any) error {
	p, err := c.detectorPath(ctx)
	if err != nil {
		return err
	}
	return c.do(ctx, method, p+sub, query, in, out)
}

// ListFindings returns a page of finding IDs.
func (c *Client) ListFindings(ctx context.Context, req api.ListFindingsRequest) (*api.ListFindingsResponse, error) {
	var out api.ListFindingsResponse
	return &out, c.detectorCall(ctx, "POST", "/findings", nil, req, &out)
}

// GetFindings returns findings by ID (sort nil: in the order of ids).
func (c *Client) GetFindings(ctx context.Context, ids []string, sort *store.Sort) ([]finding.Finding, error) {
	var out api.GetFindingsResponse
	err := c.detectorCall(ctx, "POST", "/findings/get", nil, api.GetFindingsRequest{FindingIDs: ids, SortCriteria: sort}, &out)
	return out.Findings, err
}

// EachFinding lists the findings matching criteria in sort order, page by
// page (pageSize IDs, then GetFindings), and calls fn with each page until
// fn returns false, the listing ends or limit findings were given (0: no
// limit).
func (c *Client) EachFinding(ctx context.Context, criteria *store.Criteria, sort *store.Sort, pageSize, limit int, fn func([]finding.Finding) bool) error {
	var tok string
	n := 0
	for {
		size := pageSize
		if limit > 0 && limit-n < size {
			size = limit - n
		}
		p, err := c.ListFindings(ctx, api.ListFindingsRequest{FindingCriteria: criteria, SortCriteria: sort, MaxResults: size, NextToken: tok})
		if err != nil {
			return err
		}
		if len(p.FindingIDs) > 0 {
			fs, err := c.GetFindings(ctx, p.FindingIDs, sort)
			if err != nil {
				return err
			}
			n += len(p.FindingIDs)
			if !fn(fs) {
				return nil
			}
		}
		if p.NextToken == "" || limit > 0 && n >= limit {
			return nil
		}
		tok = p.NextToken
	}
}

// ArchiveFindings archives findings and returns how many were found.
func (c *Client) ArchiveFindings(ctx context.Context, ids []string) (int, error) {
	var out api.UpdatedResponse
	err := c.detectorCall(ctx, "POST", "/findings/archive", nil, api.FindingIDsRequest{FindingIDs: ids}, &out)
	return out.Updated, err
}

// UnarchiveFindings unarchives findings and returns how many were found.
func (c *Client) UnarchiveFindings(ctx context.Context, ids []string) (int, error) {
	var out api.UpdatedResponse
	err := c.detectorCall(ctx, "POST", "/findings/unarchive", nil, api.FindingIDsRequest{FindingIDs: ids}, &out)
	return out.Updated, err
}

// UpdateFindingsFeedback records feedback and returns how many findings were
// found.
func (c *Client) UpdateFindingsFeedback(ctx context.Context, ids []string, fb store.Feedback, comments string) (int, error) {
	var out api.UpdatedResponse
	err := c.detectorCall(ctx, "POST", "/findings/feedback", nil, api.FeedbackRequest{FindingIDs: ids, Feedback: fb, Comments: comments}, &out)
	return out.Updated, err
}

// GetFindingsStatistics counts findings.
func (c *Client) GetFindingsStatistics(ctx context.Context, req api.StatisticsRequest) (*api.StatisticsResponse, error) {
	var out api.StatisticsResponse
	return &out, c.detectorCall(ctx, "POST", "/findings/statistics", nil, req, &out)
}

// CreateSampleFindings stores sample findings and returns their IDs.
func (c *Client) CreateSampleFindings(ctx context.Context, types []string) ([]string, error) {
	var out api.CreateSampleFindingsResponse
	err := c.detectorCall(ctx, "POST", "/findings/create", nil, api.CreateSampleFindingsRequest{FindingTypes: types}, &out)
	return out.FindingIDs, err
}

// CreateFilter creates a filter.
func (c *Client) CreateFilter(ctx context.Context, req api.CreateFilterRequest) (*api.FilterResponse, error) {
	var out api.FilterResponse
	return &out, c.detectorCall(ctx, "POST", "/filter", nil, req, &out)
}

// GetFilter returns a filter.
func (c *Client) GetFilter(ctx context.Context, name string) (*api.GetFilterResponse, error) {
	var out api.GetFilterResponse
	return &out, c.detectorCall(ctx, "GET", "/filter/"+url.PathEscape(name), nil, nil, &out)
}

// UpdateFilter changes the filter req.FilterName.
func (c *Client) UpdateFilter(ctx context.Context, req api.UpdateFilterRequest) (*api.FilterResponse, error) {
	var out api.FilterResponse
	return &out, c.detectorCall(ctx, "POST", "/filter/"+url.PathEscape(req.FilterName), nil, req, &out)
}

// DeleteFilter deletes a filter.
func (c *Client) DeleteFilter(ctx context.Context, name string) error {
	return c.detectorCall(ctx, "DELETE", "/filter/"+url.PathEscape(name), nil, nil, nil)
}

func pageQuery(maxResults int, next string) url.Values {
	q := url.Values{}
	if maxResults > 0 {
		q.Set("maxResults", strconv.Itoa(maxResults))
	}
	if next != "" {
		q.Set("nextToken", next)
	}
	return q
}

// ListFilters returns a page of filter names.
func (c *Client) ListFilters(ctx context.Context, maxResults int, next string) (*api.ListFiltersResponse, error) {
	var out api.ListFiltersResponse
	return &out, c.detectorCall(ctx, "GET", "/filter", pageQuery(maxResults, next), nil, &out)
}

// ListKind selects GuardDuty's IP sets (trusted) or threat intel sets.
type ListKind = store.ListKind

func listPath(kind ListKind) string {
	if kind == store.ListTrusted {
		return "/ipset"
	}
	return "/threatintelset"
}

// CreateList creates a trusted list (CreateIPSet) or threat list
// (CreateThreatIntelSet) and returns its ID, entries and warnings.
func (c *Client) CreateList(ctx context.Context, kind ListKind, req api.CreateListRequest) (id string, entries int, warnings []string, err error) {
	if kind == store.ListTrusted {
		var out api.CreateIPSetResponse
		err = c.detectorCall(ctx, "POST", "/ipset", nil, req, &out)
		return out.IPSetID, out.Entries, out.Warnings, err
	}
	var out api.CreateThreatIntelSetResponse
	err = c.detectorCall(ctx, "POST", "/threatintelset", nil, req, &out)
	return out.ThreatIntelSetID, out.Entries, out.Warnings, err
}

// GetList returns a list.
func (c *Client) GetList(ctx context.Context, kind ListKind, id string) (*api.GetListResponse, error) {
	var out api.GetListResponse
	return &out, c.detectorCall(ctx, "GET", listPath(kind)+"/"+url.PathEscape(id), nil, nil, &out)
}

// UpdateList changes a list.
func (c *Client) UpdateList(ctx context.Context, kind ListKind, id string, req api.UpdateListFields) (*api.UpdateListResponse, error) {
	var out api.UpdateListResponse
	return &out, c.detectorCall(ctx, "POST", listPath(kind)+"/"+url.PathEscape(id), nil, req, &out)
}

// DeleteList deletes a list.
func (c *Client) DeleteList(ctx context.Context, kind ListKind, id string) error {
	return c.detectorCall(ctx, "DELETE", listPath(kind)+"/"+url.PathEscape(id), nil, nil, nil)
}

// ListLists returns a page of list IDs of kind.
func (c *Client) ListLists(ctx context.Context, kind ListKind, maxResults int, next string) (ids []string, nextToken string, err error) {
	if kind == store.ListTrusted {
		var out api.ListIPSetsResponse
		err = c.detectorCall(ctx, "GET", "/ipset", pageQuery(maxResults, next), nil, &out)
		return out.IPSetIDs, out.NextToken, err
	}
	var out api.ListThreatIntelSetsResponse
	err = c.detectorCall(ctx, "GET", "/threatintelset", pageQuery(maxResults, next), nil, &out)
	return out.ThreatIntelSetIDs, out.NextToken, err
}

// ListAuditEvents returns a page of audit events, newest first.
func (c *Client) ListAuditEvents(ctx context.Context, req api.AuditRequest) (*api.AuditResponse, error) {
	q := pageQuery(req.MaxResults, req.NextToken)
	if req.ResourceType != "" {
		q.Set("resourceType", req.ResourceType)
	}
	if req.ResourceID != "" {
		q.Set("resourceId", req.ResourceID)
	}
	if req.BlindingOnly {
		q.Set("blindingOnly", "true")
	}
	var out api.AuditResponse
	return &out, c.do(ctx, "GET", "/vigil/audit", q, nil, &out)
}

// Query runs a Logs Insights query on the server.
func (c *Client) Query(ctx context.Context, req api.QueryRequest) (*api.QueryResponse, error) {
	var out api.QueryResponse
	return &out, c.do(ctx, "POST", "/vigil/query", nil, req, &out)
}
