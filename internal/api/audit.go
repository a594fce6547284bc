package api

import (
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/store"
)

func (s *Server) listAudit(c *call, req *AuditRequest) (*AuditResponse, error) {
	limit, err := checkMaxResults(req.MaxResults, store.MaxLimit)
	if err != nil {
		return nil, err
	}
	q := store.AuditQuery{Limit: limit, ResourceID: req.ResourceID, BlindingOnly: req.BlindingOnly}
	switch rt := store.AuditResource(strings.ToUpper(req.ResourceType)); rt {
	case "", store.AuditResourceFilter, store.AuditResourceList, store.AuditResourceToken:
		q.ResourceType = rt
	default:
		return nil, apiErr("InvalidParameter", "resourceType %q: want FILTER, LIST or TOKEN", clip(req.ResourceType))
	}
	if req.NextToken != "" {
		parts, err := parsePageToken(req.NextToken, "audit", 1)
		if err != nil {
			return nil, err
		}
		id, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil || id <= 0 {
			return nil, apiErr("InvalidPageToken", "nextToken %q was not issued by this listing", clip(req.NextToken))
		}
		q.Before = id
	}
	evs, err := s.deps.Store.ListAudit(c.r.Context(), q)
	if err != nil {
		return nil, err
	}
	resp := &AuditResponse{Events: evs}
	if resp.Events == nil {
		resp.Events = []store.AuditEvent{}
	}
	if len(evs) == limit {
		resp.NextToken = pageToken("audit", strconv.FormatInt(evs[len(evs)-1].ID, 10))
	}
	return resp, nil
}
