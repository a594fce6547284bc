package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/ingest/s3"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/store"
)

// listID is the form of the IDs the store gives lists.
var listID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// maxWarnings bounds the bad lines a response or error names.
const maxWarnings = 20

func intelKind(k store.ListKind) intel.Kind {
	if k == store.ListTrusted {
		return intel.Trusted
	}
	return intel.Threat
}

// maxEntries is the entry limit of a kind.
func (s *Server) maxEntries(k store.ListKind) int {
	if k == store.ListTrusted {
		return s.cfg.Limits.MaxTrustedEntries
	}
	return s.cfg.Limits.MaxThreatEntries
}

// listSource gets a list's content from location or content, exactly one.
func (s *Server) listSource(ctx context.Context, location, content *string) ([]byte, string, error) {
	switch {
	case location != nil && content != nil:
		return nil, "", apiErr("InvalidParameter", "give location or content, not both")
	case content != nil:
		if int64(len(*content)) > s.cfg.Limits.MaxListBytes {
			return nil, "", apiErr("InvalidList", "content of %d bytes: the limit is %d (GuardDuty's is 35 MB)", len(*content), s.cfg.Limits.MaxListBytes)
		}
		return []byte(*content), "", nil
	case location != nil:
		b, err := s.fetchList(ctx, *location)
		return b, *location, err
	}
	return nil, "", apiErr("InvalidParameter", "give the list's location (an https:// or s3:// URL) or its content")
}

// fetchList downloads a list: from an http or https URL (200 only) or an
// s3://bucket/key object, at most Limits.MaxListBytes, within
// ListFetchTimeout.
func (s *Server) fetchList(ctx context.Context, location string) ([]byte, error) {
	if strings.HasPrefix(location, "s3://") {
		return s.fetchS3List(ctx, location)
	}
	u, err := url.Parse(location)
	if err == nil && u.RawQuery == "" && u.User == nil {
		// GuardDuty's https forms of an S3 object (a private one, which a
		// plain GET cannot read) go through the S3 client; a presigned URL,
		// which carries its signature in the query, is fetched as it is.
		if obj, ok := awsS3Object(u); ok {
			return s.fetchS3List(ctx, obj)
		}
	}
	switch {
	case err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https":
		return nil, apiErr("InvalidParameter", "location %q: want an http:// or https:// URL, or s3://bucket/key", clip(location))
	case u.User != nil:
		return nil, apiErr("InvalidParameter", "location: credentials in the URL are not accepted (they would be stored and shown)")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ListFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, apiErr("InvalidParameter", "location %q: %v", clip(location), err)
	}
	req.Header.Set("User-Agent", "vigil-api/1")
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, apiErr("ListFetchFailed", "fetch %s: no answer within %s", clip(location), s.cfg.ListFetchTimeout)
		}
		return nil, apiErr("ListFetchFailed", "fetch %s: %v", clip(location), unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, apiErr("ListFetchFailed", "fetch %s: HTTP status %s, expected 200 OK", clip(location), resp.Status)
	}
	max := s.cfg.Limits.MaxListBytes
	if resp.ContentLength > max {
		return nil, apiErr("InvalidList", "fetch %s: %d bytes, the limit is %d (GuardDuty's is 35 MB)", clip(location), resp.ContentLength, max)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, apiErr("ListFetchFailed", "fetch %s: no complete answer within %s", clip(location), s.cfg.ListFetchTimeout)
		}
		return nil, apiErr("ListFetchFailed", "fetch %s: reading the body: %v", clip(location), err)
	}
	if int64(len(b)) > max {
		return nil, apiErr("InvalidList", "fetch %s: more than %d bytes, the limit (GuardDuty's is 35 MB)", clip(location), max)
	}
	return b, nil
}

// awsS3Object returns the s3://bucket/key of a URL in one of the forms
// GuardDuty accepts for a list's location (and their dotted-region
// variants):
//
//	https://s3.amazonaws.com/bucket/key         https://bucket.s3.amazonaws.com/key
//	https://s3-REGION.amazonaws.com/bucket/key  https://bucket.s3-REGION.amazonaws.com/key
//	https://s3.REGION.amazonaws.com/bucket/key  https://bucket.s3.REGION.amazonaws.com/key
//
// or false for any other URL.
func awsS3Object(u *url.URL) (string, bool) {
	if u.Scheme != "https" && u.Scheme != "http" || u.Port() != "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	rest, ok := strings.CutSuffix(host, ".amazonaws.com")
	if !ok {
		return "", false
	}
	s3Endpoint := func(h string) bool { // s3, s3-REGION, s3.REGION
		if h == "s3" {
			return true
		}
		region, ok := strings.CutPrefix(h, "s3-")
		if !ok {
			region, ok = strings.CutPrefix(h, "s3.")
		}
		return ok && region != "" && !strings.Contains(region, ".") && region == strings.Trim(region, "-")
	}
	path := strings.TrimPrefix(u.Path, "/")
	if s3Endpoint(rest) { // path style: /bucket/key
		bucket, key, _ := strings.Cut(path, "/")
		if bucket == "" || key == "" {
			return "", false
		}
		return "s3://" + bucket + "/" + key, true
	}
	// Virtual-hosted style: the bucket is the host's first labels (a bucket
	// name may hold dots), the endpoint the rest.
	for i := 0; i < len(rest); i++ {
		if rest[i] == '.' && s3Endpoint(rest[i+1:]) {
			if bucket := rest[:i]; bucket != "" && path != "" {
				return "s3://" + bucket + "/" + path, true
			}
			return "", false
		}
	}
	return "", false
}

// errPastObject stops the listing of an s3:// list location.
var errPastObject = errors.New("listed past the object")

// fetchS3List reads the object s3://bucket/key through Deps.S3, with the
// bounds of fetchList. The content is taken as stored (GuardDuty reads plain
// list files; a gzipped one fails to parse). The lister lists by prefix in
// key order, so the object named exactly is the first one listed, if it
// exists: the listing stops there, which keeps a location that is a prefix of
// other keys (lists/bad of lists/bad.txt) from naming them and never lists a
// big prefix past its first page.
func (s *Server) fetchS3List(ctx context.Context, location string) ([]byte, error) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(location, "s3://"), "/")
	switch {
	case bucket == "" || key == "":
		return nil, apiErr("InvalidParameter", "location %q: want s3://bucket/key, the key of one object", clip(location))
	case strings.HasSuffix(key, "/"):
		return nil, apiErr("InvalidParameter", "location %q: a folder; want s3://bucket/key, the key of one object", clip(location))
	case s.deps.S3 == nil:
		return nil, apiErr("InvalidParameter", "location %q: this server has no S3 client for s3:// locations (configure api.s3); give an https:// URL or the content", clip(location))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ListFetchTimeout)
	defer cancel()
	var obj *ingest.Object
	err := s.deps.S3.List(ctx, location, ingest.Window{}, func(o ingest.Object) error {
		switch {
		case o.Name < location:
			return nil
		case o.Name == location:
			obj = &o
		}
		return errPastObject
	})
	if err != nil && !errors.Is(err, errPastObject) {
		return nil, s.s3Failure(ctx, location, err)
	}
	if obj == nil {
		return nil, apiErr("ListFetchFailed", "no object %s (a location names one object by its full key)", clip(location))
	}
	max := s.cfg.Limits.MaxListBytes
	if obj.Size > max {
		return nil, apiErr("InvalidList", "fetch %s: %d bytes, the limit is %d (GuardDuty's is 35 MB)", clip(location), obj.Size, max)
	}
	rc, err := obj.Open(ctx)
	if err != nil {
		return nil, s.s3Failure(ctx, location, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, s.s3Failure(ctx, location, err)
		}
		return nil, apiErr("ListFetchFailed", "fetch %s: reading the object: %v", clip(location), err)
	}
	if int64(len(b)) > max {
		return nil, apiErr("InvalidList", "fetch %s: more than %d bytes, the limit (GuardDuty's is 35 MB)", clip(location), max)
	}
	return b, nil
}

// s3Failure is the envelope of a failed listing or read of an s3:// list
// location: S3's reason (bucket does not exist, access denied, no
// credentials) as internal/ingest/s3 words it, without the location its
// message repeats.
func (s *Server) s3Failure(ctx context.Context, location string, err error) *Error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return apiErr("ListFetchFailed", "fetch %s: no answer within %s", clip(location), s.cfg.ListFetchTimeout)
	case errors.Is(err, s3.ErrObjectGone):
		return apiErr("ListFetchFailed", "no object %s (deleted while it was read)", clip(location))
	}
	msg := err.Error()
	for _, op := range []string{"list ", "get s3 object "} {
		msg = strings.TrimPrefix(msg, op+location+": ")
	}
	return apiErr("ListFetchFailed", "fetch %s: %s", clip(location), msg)
}

// unwrapURLError drops the *url.Error prefix, which repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseList parses content as a list of kind in format, as the detection
// engine will load it. Bad lines reject the list unless lenient; the list's
// warnings (file:line: problem) come back either way.
func (s *Server) parseList(name string, kind store.ListKind, format intel.Format, content []byte, lenient bool) (*intel.List, []string, error) {
	l, warns, err := intel.Parse(bytes.NewReader(content), intel.Options{
		Name: name, Kind: intelKind(kind), Format: format, Source: name,
		MaxEntries: s.maxEntries(kind), MaxBytes: s.cfg.Limits.MaxListBytes, MaxWarnings: maxWarnings,
	})
	var ws []string
	for _, w := range warns {
		ws = append(ws, w.String())
	}
	if err != nil {
		msg := err.Error()
		if errors.Is(err, intel.ErrTooManyEntries) {
			msg += fmt.Sprintf(" (the limit of a %s list is %d)", strings.ToLower(string(kind)), s.maxEntries(kind))
		}
		return nil, ws, apiErr("InvalidList", "list %s: %s", name, msg)
	}
	if len(ws) > 0 && !lenient {
		lines := fmt.Sprintf("%d bad lines", l.Bad)
		if l.Bad == 1 {
			lines = "a bad line"
		}
		return nil, ws, apiErr("InvalidList", "list %s has %s and was not stored (ignoreInvalidLines, or --ignore-invalid-lines, loads the good ones): %s",
			name, lines, strings.Join(ws[:min(len(ws), 5)], "; "))
	}
	if l.Len() == 0 {
		return nil, ws, apiErr("InvalidList", "list %s: no entries", name)
	}
	return l, ws, nil
}

func (s *Server) createList(c *call, kind store.ListKind, req *CreateListRequest) (store.IntelList, []string, error) {
	if err := store.CheckListName(req.Name); err != nil {
		return store.IntelList{}, nil, err
	}
	if req.Activate == nil {
		return store.IntelList{}, nil, apiErr("InvalidParameter", "activate: required (true to put the list in effect now)")
	}
	format, err := intel.ParseFormat(req.Format)
	if err != nil || req.Format == "" {
		return store.IntelList{}, nil, apiErr("InvalidParameter", "format %q: want TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE, TOR_EXIT_ADDRESSES, ABUSE_CH_CSV, SPAMHAUS_DROP, SPAMHAUS_DROP_JSON or AUTO", clip(req.Format))
	}
	if err := store.CheckTags(req.Tags); err != nil {
		return store.IntelList{}, nil, err
	}
	var loc, content *string
	if req.Location != "" {
		loc = &req.Location
	}
	if req.Content != "" {
		content = &req.Content
	}
	ctx := c.r.Context()
	body, location, err := s.listSource(ctx, loc, content)
	if err != nil {
		return store.IntelList{}, nil, err
	}
	parsed, warns, err := s.parseList(req.Name, kind, format, body, req.IgnoreInvalidLines)
	if err != nil {
		return store.IntelList{}, warns, err
	}
	status := store.ListInactive
	if *req.Activate {
		status = store.ListActive
	}
	max := s.cfg.Limits.MaxThreatLists
	if kind == store.ListTrusted {
		max = s.cfg.Limits.MaxTrustedLists
	}
	l, err := s.deps.Store.CreateList(ctx, store.IntelList{Kind: kind, Name: req.Name, Format: parsed.Format.String(),
		Location: location, Status: status, Tags: req.Tags, Entries: parsed.Len()}, body, max, c.actor)
	if err != nil {
		return store.IntelList{}, warns, err
	}
	s.listsChanged(c, nil, &l)
	return l, warns, nil
}

// listsChanged tells serve to reload its lists and raises a finding when the
// change can blind detection.
func (s *Server) listsChanged(c *call, before, after *store.IntelList) {
	if s.deps.OnListsChanged != nil {
		s.deps.OnListsChanged()
	}
	if !store.ListBlinds(before, after) {
		return
	}
	l := after
	if l == nil {
		l = before
	}
	typ, api := "Policy:Vigil/ThreatListDisabled", "UpdateThreatIntelSet"
	if l.Kind == store.ListTrusted {
		typ, api = "Policy:Vigil/TrustedListChanged", "UpdateIPSet"
	}
	switch {
	case before == nil:
		api = strings.Replace(api, "Update", "Create", 1)
	case after == nil:
		api = strings.Replace(api, "Update", "Delete", 1)
	}
	s.raiseBlinding(c, finding.Type(typ), api, describe(l))
}

// getListOfKind returns the list id if it is of kind; another kind's list is
// not found, as GuardDuty's IP sets and threat intel sets are separate.
func (s *Server) getListOfKind(ctx context.Context, kind store.ListKind, id string) (store.IntelList, error) {
	if !listID.MatchString(id) {
		return store.IntelList{}, apiErr("NotFound", "%s %q not found (list IDs are 32 hex digits)", listNoun(kind), clip(id))
	}
	l, err := s.deps.Store.GetList(ctx, id)
	if err == nil && l.Kind != kind {
		err = fmt.Errorf("%w: %s %s", store.ErrNotFound, listNoun(kind), id)
	}
	return l, err
}

func listNoun(kind store.ListKind) string {
	if kind == store.ListTrusted {
		return "IP set"
	}
	return "threat intel set"
}

func listResponse(l store.IntelList) *GetListResponse {
	return &GetListResponse{Name: l.Name, Format: l.Format, Location: l.Location, Status: l.Status, Tags: l.Tags,
		ID: l.ID, Entries: l.Entries, Size: l.Size, SHA256: l.SHA256, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, Version: l.Version}
}

func (s *Server) updateList(c *call, kind store.ListKind, id string, req *UpdateListFields) (*UpdateListResponse, error) {
	ctx := c.r.Context()
	cur, err := s.getListOfKind(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	if req.Name != nil {
		if err := store.CheckListName(*req.Name); err != nil {
			return nil, err
		}
	}
	var body []byte
	var warns []string
	entries := cur.Entries
	if req.Location != nil || req.Content != nil {
		var location string
		body, location, err = s.listSource(ctx, req.Location, req.Content)
		if err != nil {
			return nil, err
		}
		format, err := intel.ParseFormat(cur.Format)
		if err != nil {
			return nil, fmt.Errorf("stored list %s: %w", cur.ID, err)
		}
		name := cur.Name
		if req.Name != nil {
			name = *req.Name
		}
		parsed, ws, err := s.parseList(name, kind, format, body, req.IgnoreInvalidLines)
		if err != nil {
			return nil, err
		}
		warns, entries = ws, parsed.Len()
		req.Location = &location
	}
	before, after, err := s.deps.Store.UpdateList(ctx, id, func(l *store.IntelList) error {
		if req.Name != nil {
			l.Name = *req.Name
		}
		if req.Location != nil {
			l.Location = *req.Location
		}
		if req.Activate != nil {
			l.Status = store.ListInactive
			if *req.Activate {
				l.Status = store.ListActive
			}
		}
		l.Entries = entries
		return nil
	}, body, c.actor)
	if err != nil {
		return nil, err
	}
	s.listsChanged(c, &before, &after)
	return &UpdateListResponse{Entries: after.Entries, Warnings: warns}, nil
}

func (s *Server) deleteList(c *call, kind store.ListKind, id string) (*Empty, error) {
	ctx := c.r.Context()
	if _, err := s.getListOfKind(ctx, kind, id); err != nil {
		return nil, err
	}
	l, err := s.deps.Store.DeleteList(ctx, id, c.actor)
	if err != nil {
		return nil, err
	}
	s.listsChanged(c, &l, nil)
	return &Empty{}, nil
}

// listIDs returns a page of the IDs of kind's lists, by name.
func (s *Server) listIDs(c *call, kind store.ListKind, req *PageRequest) ([]string, string, error) {
	limit, err := checkMaxResults(req.MaxResults, store.MaxLimit)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if req.NextToken != "" {
		parts, err := parsePageToken(req.NextToken, "list", 1)
		if err != nil {
			return nil, "", err
		}
		after = parts[0]
	}
	ls, err := s.deps.Store.ListLists(c.r.Context(), kind)
	if err != nil {
		return nil, "", err
	}
	ids, next := []string{}, ""
	lastName := ""
	for _, l := range ls {
		if after != "" && l.Name <= after {
			continue
		}
		if len(ids) == limit {
			next = pageToken("list", lastName)
			break
		}
		ids, lastName = append(ids, l.ID), l.Name
	}
	return ids, next, nil
}

// The operations, by kind.

func (s *Server) createIPSet(c *call, req *CreateListRequest) (*CreateIPSetResponse, error) {
	l, warns, err := s.createList(c, store.ListTrusted, req)
	if err != nil {
		return nil, err
	}
	return &CreateIPSetResponse{IPSetID: l.ID, Entries: l.Entries, Warnings: warns}, nil
}

func (s *Server) createThreatIntelSet(c *call, req *CreateListRequest) (*CreateThreatIntelSetResponse, error) {
	l, warns, err := s.createList(c, store.ListThreat, req)
	if err != nil {
		return nil, err
	}
	return &CreateThreatIntelSetResponse{ThreatIntelSetID: l.ID, Entries: l.Entries, Warnings: warns}, nil
}

func (s *Server) getIPSet(c *call, req *IPSetPath) (*GetListResponse, error) {
	l, err := s.getListOfKind(c.r.Context(), store.ListTrusted, req.ID)
	if err != nil {
		return nil, err
	}
	return listResponse(l), nil
}

func (s *Server) getThreatIntelSet(c *call, req *ThreatIntelSetPath) (*GetListResponse, error) {
	l, err := s.getListOfKind(c.r.Context(), store.ListThreat, req.ID)
	if err != nil {
		return nil, err
	}
	return listResponse(l), nil
}

func (s *Server) updateIPSet(c *call, req *UpdateIPSetRequest) (*UpdateListResponse, error) {
	return s.updateList(c, store.ListTrusted, req.ID, &req.UpdateListFields)
}

func (s *Server) updateThreatIntelSet(c *call, req *UpdateThreatIntelSetRequest) (*UpdateListResponse, error) {
	return s.updateList(c, store.ListThreat, req.ID, &req.UpdateListFields)
}

func (s *Server) deleteIPSet(c *call, req *IPSetPath) (*Empty, error) {
	return s.deleteList(c, store.ListTrusted, req.ID)
}

func (s *Server) deleteThreatIntelSet(c *call, req *ThreatIntelSetPath) (*Empty, error) {
	return s.deleteList(c, store.ListThreat, req.ID)
}

func (s *Server) listIPSets(c *call, req *PageRequest) (*ListIPSetsResponse, error) {
	ids, next, err := s.listIDs(c, store.ListTrusted, req)
	if err != nil {
		return nil, err
	}
	return &ListIPSetsResponse{IPSetIDs: ids, NextToken: next}, nil
}

func (s *Server) listThreatIntelSets(c *call, req *PageRequest) (*ListThreatIntelSetsResponse, error) {
	ids, next, err := s.listIDs(c, store.ListThreat, req)
	if err != nil {
		return nil, err
	}
	return &ListThreatIntelSetsResponse{ThreatIntelSetIDs: ids, NextToken: next}, nil
}

// LoadLists parses the active lists of st into intel lists, in name order, for
// the detection engine's intel set (intel.NewSet). vigil serve calls it at
// start and from Deps.OnListsChanged. Every list parsed when it was stored, so
// a failure means a vigil that reads a format differently; such a list is
// skipped and reported in problems, and the others load. limits are the
// entry and size limits the lists were stored under.
func LoadLists(ctx context.Context, st store.Admin, limits Limits) (lists []*intel.List, problems []error, err error) {
	ls, err := st.ListLists(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	for _, l := range ls {
		if l.Status != store.ListActive {
			continue
		}
		content, err := st.ListContent(ctx, l.ID)
		if err != nil {
			return nil, nil, err
		}
		format, err := intel.ParseFormat(l.Format)
		if err != nil {
			problems = append(problems, fmt.Errorf("list %s: %w", l.Name, err))
			continue
		}
		max := limits.MaxThreatEntries
		if l.Kind == store.ListTrusted {
			max = limits.MaxTrustedEntries
		}
		parsed, _, err := intel.Parse(bytes.NewReader(content), intel.Options{Name: l.Name, Kind: intelKind(l.Kind), Format: format,
			Source: "vigil list " + l.Name, MaxEntries: max, MaxBytes: limits.MaxListBytes})
		if err != nil {
			problems = append(problems, fmt.Errorf("list %s: %w", l.Name, err))
			continue
		}
		lists = append(lists, parsed)
	}
	return lists, problems, nil
}
