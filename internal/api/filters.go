package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/suppress"
)

// pageToken encodes a position in a listing of kind (filters, lists, audit
// events) as an opaque token. These listings are small and their positions
// are names, so the tokens are not signed: a forged one just lists from
// elsewhere in what the caller may read anyway.
func pageToken(kind string, parts ...string) string {
	b, _ := json.Marshal(append([]string{kind}, parts...))
	return base64.RawURLEncoding.EncodeToString(b)
}

// parsePageToken decodes a token of kind with n parts.
func parsePageToken(tok, kind string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	var parts []string
	if err == nil {
		err = json.Unmarshal(b, &parts)
	}
	if err != nil || len(parts) != n+1 || parts[0] != kind {
		return nil, apiErr("InvalidPageToken", "nextToken %q was not issued by this listing", clip(tok))
	}
	return parts[1:], nil
}

func (s *Server) createFilter(c *call, req *CreateFilterRequest) (*FilterResponse, error) {
	f := store.Filter{
		Name: req.Name, Description: req.Description, Action: req.Action, Rank: req.Rank,
		Expression: req.Expression, Tags: req.Tags,
	}
	if f.Action == "" {
		f.Action = store.FilterNoop
	}
	if req.FindingCriteria != nil {
		f.Criteria = *req.FindingCriteria
	}
	ctx := c.r.Context()
	if f.Rank == 0 {
		fs, err := s.deps.Store.ListFilters(ctx)
		if err != nil {
			return nil, err
		}
		f.Rank = min(len(fs)+1, store.MaxFilterRank)
	}
	rule, err := compileFilter(f)
	if err != nil {
		return nil, err
	}
	f, err = s.deps.Store.CreateFilter(ctx, f, s.cfg.Limits.MaxFilters, c.actor)
	if err != nil {
		return nil, err
	}
	s.filtersChanged(ctx)
	if store.FilterBlinds(nil, &f) {
		s.raiseBlinding(c, "Policy:Vigil/SuppressionRuleChanged", "CreateFilter", "filter "+f.Name)
	}
	return s.filterResponse(ctx, rule)
}

// compileFilter checks a filter as the suppression engine will run it, with
// errors that name the field.
func compileFilter(f store.Filter) (*suppress.Rule, error) {
	rule, err := suppress.Compile(f)
	if err == nil {
		return rule, nil
	}
	var ee *suppress.ExpressionError
	if errors.As(err, &ee) {
		e := toError(ee.Err)
		e.Message = "expression: " + e.Message
		return nil, e
	}
	if errors.Is(err, store.ErrInvalidCriteria) {
		return nil, apiErr("InvalidCriteria", "findingCriteria: %s", message(err))
	}
	return nil, err
}

func (s *Server) filterResponse(ctx context.Context, rule *suppress.Rule) (*FilterResponse, error) {
	n, complete, err := suppress.Preview(ctx, s.deps.Store, rule, s.cfg.PreviewMaxScan)
	if err != nil {
		return nil, err
	}
	return &FilterResponse{Name: rule.Filter.Name, PreviewCount: n, PreviewComplete: complete}, nil
}

// filtersChanged reloads the suppression engine, so a change applies to the
// next finding. A failed reload is logged: the engine's own timer retries.
func (s *Server) filtersChanged(ctx context.Context) {
	if s.deps.Suppress == nil {
		return
	}
	if err := s.deps.Suppress.Reload(ctx); err != nil {
		s.log.Error("reload suppression rules after a filter change", "err", err)
	}
}

func (s *Server) getFilter(c *call, req *FilterPath) (*GetFilterResponse, error) {
	if err := store.CheckFilterName(req.FilterName); err != nil {
		return nil, err
	}
	f, err := s.deps.Store.GetFilter(c.r.Context(), req.FilterName)
	if err != nil {
		return nil, err
	}
	resp := &GetFilterResponse{Name: f.Name, Description: f.Description, Action: f.Action, Rank: f.Rank,
		Expression: f.Expression, Tags: f.Tags, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, Version: f.Version}
	if len(f.Criteria.Criterion) > 0 {
		resp.FindingCriteria = &f.Criteria
	}
	return resp, nil
}

func (s *Server) updateFilter(c *call, req *UpdateFilterRequest) (*FilterResponse, error) {
	if err := store.CheckFilterName(req.FilterName); err != nil {
		return nil, err
	}
	if req.FindingCriteria != nil && req.Expression != nil {
		return nil, apiErr("InvalidParameter", "give findingCriteria or expression, not both")
	}
	ctx := c.r.Context()
	var rule *suppress.Rule
	before, after, err := s.deps.Store.UpdateFilter(ctx, req.FilterName, func(f *store.Filter) error {
		if req.Description != nil {
			f.Description = *req.Description
		}
		if req.Action != nil {
			f.Action = *req.Action
		}
		if req.Rank != nil {
			f.Rank = *req.Rank
		}
		if req.FindingCriteria != nil {
			f.Criteria, f.Expression = *req.FindingCriteria, ""
		}
		if req.Expression != nil {
			f.Criteria, f.Expression = store.Criteria{}, *req.Expression
		}
		var err error
		rule, err = compileFilter(*f)
		return err
	}, c.actor)
	if err != nil {
		return nil, err
	}
	s.filtersChanged(ctx)
	if store.FilterBlinds(&before, &after) {
		s.raiseBlinding(c, "Policy:Vigil/SuppressionRuleChanged", "UpdateFilter", "filter "+after.Name)
	}
	return s.filterResponse(ctx, rule)
}

func (s *Server) deleteFilter(c *call, req *FilterPath) (*Empty, error) {
	if err := store.CheckFilterName(req.FilterName); err != nil {
		return nil, err
	}
	if _, err := s.deps.Store.DeleteFilter(c.r.Context(), req.FilterName, c.actor); err != nil {
		return nil, err
	}
	s.filtersChanged(c.r.Context())
	return &Empty{}, nil
}

func (s *Server) listFilters(c *call, req *PageRequest) (*ListFiltersResponse, error) {
	limit, err := checkMaxResults(req.MaxResults, store.MaxLimit)
	if err != nil {
		return nil, err
	}
	afterRank, afterName := -1, ""
	if req.NextToken != "" {
		parts, err := parsePageToken(req.NextToken, "filter", 2)
		if err != nil {
			return nil, err
		}
		if afterRank, err = strconv.Atoi(parts[0]); err != nil {
			return nil, apiErr("InvalidPageToken", "nextToken %q was not issued by this listing", clip(req.NextToken))
		}
		afterName = parts[1]
	}
	fs, err := s.deps.Store.ListFilters(c.r.Context())
	if err != nil {
		return nil, err
	}
	resp := &ListFiltersResponse{FilterNames: []string{}}
	for _, f := range fs {
		if f.Rank < afterRank || f.Rank == afterRank && f.Name <= afterName {
			continue
		}
		if len(resp.FilterNames) == limit {
			last := resp.FilterNames[len(resp.FilterNames)-1]
			lastRank := 0
			for _, g := range fs {
				if g.Name == last {
					lastRank = g.Rank
				}
			}
			resp.NextToken = pageToken("filter", strconv.Itoa(lastRank), last)
			break
		}
		resp.FilterNames = append(resp.FilterNames, f.Name)
	}
	return resp, nil
}

// raiseBlinding stores a finding about a change that can blind detection:
// directly, never through the suppression rules (a rule must not hide its own
// creation), and hands it to OnFindings for the notifiers. A failure is
// logged, not returned: the change itself committed, with its audit event.
func (s *Server) raiseBlinding(c *call, typ finding.Type, api, resource string) {
	s.Counters.Blinding.Add(1)
	ti, ok := finding.Lookup(typ)
	if !ok {
		s.log.Error("BUG: audit finding type not in the catalogue", "type", typ)
		return
	}
	now := finding.TimeOf(s.now())
	f := ti.New(s.cfg.AccountID, s.cfg.Region, now)
	f.Resource.AccessKeyDetails = &finding.AccessKeyDetails{AccessKeyID: c.actor.TokenID, UserName: c.actor.Name, UserType: "VigilToken"}
	call := &finding.AWSAPICallAction{API: api, ServiceName: "vigil", CallerType: "Remote IP", UserAgent: c.actor.UserAgent}
	if c.actor.Address != "" {
		call.RemoteIPDetails = &finding.RemoteIPDetails{IPAddressV4: c.actor.Address}
	}
	f.Service.Action.AWSAPICallAction = call
	f.Service.AdditionalInfo = finding.AdditionalInfo{"vigilResource": resource}
	if err := f.Complete(""); err != nil {
		s.log.Error("audit finding", "type", typ, "err", err)
		return
	}
	res, err := s.deps.Store.Upsert(context.WithoutCancel(c.r.Context()), []finding.Finding{*f}, now)
	if err != nil {
		s.log.Error("store audit finding", "type", typ, "err", err)
		return
	}
	s.log.Warn("change that can blind detection", "type", typ, "api", api, "resource", resource, "token", c.actor.Name, "finding", f.ID)
	if s.deps.OnFindings != nil {
		s.deps.OnFindings(res)
	}
}

// describe is for messages.
func describe(l *store.IntelList) string { return fmt.Sprintf("%s list %s (%s)", l.Kind, l.Name, l.ID) }
