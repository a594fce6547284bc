package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/suppress"
)

// maxIDs bounds the finding IDs of one call (GuardDuty allows 50; vigil a
// page's worth).
const maxIDs = store.MaxLimit

// maxFeedbackComments bounds UpdateFindingsFeedback's comments.
const maxFeedbackComments = 4096

func (s *Server) listDetectors(c *call, _ *Empty) (*ListDetectorsResponse, error) {
	return &ListDetectorsResponse{DetectorIDs: []string{s.cfg.DetectorID}}, nil
}

func (s *Server) health(c *call, _ *Empty) (*HealthResponse, error) {
	return &HealthResponse{Status: "ok"}, nil
}

// checkCriteria checks the criteria of ListFindings and GetFindingsStatistics
// up front, so that the error names the field. Matches and NotMatches are
// refused: GuardDuty takes them in filters only (CreateFilter, UpdateFilter).
func checkCriteria(field string, c *store.Criteria) (store.Criteria, error) {
	if c == nil {
		return store.Criteria{}, nil
	}
	if attrs := c.PatternAttributes(); len(attrs) > 0 {
		return store.Criteria{}, apiErr("InvalidCriteria",
			"%s: %s: matches/notMatches (wildcards) are accepted only by filters (CreateFilter, UpdateFilter), as in GuardDuty; "+
				"select with equals/notEquals and the range operators here, or save the criteria as a filter",
			field, strings.Join(attrs, ", "))
	}
	if err := store.CheckCriteriaBounds(*c); err != nil {
		return store.Criteria{}, apiErr("InvalidCriteria", "%s: %s", field, message(err))
	}
	if _, err := c.Terms(); err != nil {
		return store.Criteria{}, apiErr("InvalidCriteria", "%s: %s", field, message(err))
	}
	return *c, nil
}

func checkSort(s *store.Sort) (store.Sort, error) {
	if s == nil {
		return store.Sort{}, nil
	}
	srt, err := s.Check()
	if err != nil {
		return store.Sort{}, apiErr("InvalidCriteria", "sortCriteria: %s", message(err))
	}
	return srt, nil
}

func checkMaxResults(n, max int) (int, error) {
	switch {
	case n == 0:
		return store.DefaultLimit, nil
	case n < 0 || n > max:
		return 0, apiErr("InvalidParameter", "maxResults %d: want 1 to %d", n, max)
	}
	return n, nil
}

func checkIDs(ids []string) error {
	switch {
	case len(ids) == 0:
		return apiErr("InvalidParameter", "findingIds: give 1 to %d finding IDs", maxIDs)
	case len(ids) > maxIDs:
		return apiErr("InvalidParameter", "findingIds: %d IDs, at most %d", len(ids), maxIDs)
	}
	for i, id := range ids {
		if id == "" || len(id) > 300 {
			return apiErr("InvalidParameter", "findingIds[%d]: a finding ID has 1 to 300 characters", i)
		}
	}
	return nil
}

func (s *Server) listFindings(c *call, req *ListFindingsRequest) (*ListFindingsResponse, error) {
	crit, err := checkCriteria("findingCriteria", req.FindingCriteria)
	if err != nil {
		return nil, err
	}
	srt, err := checkSort(req.SortCriteria)
	if err != nil {
		return nil, err
	}
	limit, err := checkMaxResults(req.MaxResults, store.MaxLimit)
	if err != nil {
		return nil, err
	}
	p, err := s.deps.Store.List(c.r.Context(), crit, srt, store.PageToken(req.NextToken), limit)
	if err != nil {
		return nil, err
	}
	ids := p.IDs
	if ids == nil {
		ids = []string{}
	}
	return &ListFindingsResponse{FindingIDs: ids, NextToken: string(p.Next)}, nil
}

func (s *Server) getFindings(c *call, req *GetFindingsRequest) (*GetFindingsResponse, error) {
	if err := checkIDs(req.FindingIDs); err != nil {
		return nil, err
	}
	var srt store.Sort
	if req.SortCriteria != nil {
		var err error
		if srt, err = checkSort(req.SortCriteria); err != nil {
			return nil, err
		}
	}
	fs, err := s.deps.Store.Get(c.r.Context(), req.FindingIDs)
	if err != nil {
		return nil, err
	}
	if req.SortCriteria != nil {
		slices.SortStableFunc(fs, func(a, b finding.Finding) int {
			r := suppress.CompareAttribute(&a, &b, srt.Attribute)
			if srt.Order == store.Desc {
				r = -r
			}
			return r
		})
	}
	if fs == nil {
		fs = []finding.Finding{}
	}
	return &GetFindingsResponse{Findings: fs}, nil
}

func (s *Server) archiveFindings(c *call, req *FindingIDsRequest) (*UpdatedResponse, error) {
	if err := checkIDs(req.FindingIDs); err != nil {
		return nil, err
	}
	n, err := s.deps.Store.Archive(c.r.Context(), req.FindingIDs)
	if err != nil {
		return nil, err
	}
	return &UpdatedResponse{Updated: n}, nil
}

func (s *Server) unarchiveFindings(c *call, req *FindingIDsRequest) (*UpdatedResponse, error) {
	if err := checkIDs(req.FindingIDs); err != nil {
		return nil, err
	}
	n, err := s.deps.Store.Unarchive(c.r.Context(), req.FindingIDs)
	if err != nil {
		return nil, err
	}
	return &UpdatedResponse{Updated: n}, nil
}

func (s *Server) updateFeedback(c *call, req *FeedbackRequest) (*UpdatedResponse, error) {
	if err := checkIDs(req.FindingIDs); err != nil {
		return nil, err
	}
	fb := store.Feedback(strings.ToUpper(string(req.Feedback)))
	if !fb.Valid() {
		return nil, apiErr("InvalidParameter", "feedback %q: want USEFUL or NOT_USEFUL", clip(string(req.Feedback)))
	}
	if len(req.Comments) > maxFeedbackComments {
		return nil, apiErr("InvalidParameter", "comments of %d bytes: at most %d", len(req.Comments), maxFeedbackComments)
	}
	n, err := s.deps.Store.Feedback(c.r.Context(), req.FindingIDs, fb, req.Comments)
	if err != nil {
		return nil, err
	}
	return &UpdatedResponse{Updated: n}, nil
}

func (s *Server) statistics(c *call, req *StatisticsRequest) (*StatisticsResponse, error) {
	crit, err := checkCriteria("findingCriteria", req.FindingCriteria)
	if err != nil {
		return nil, err
	}
	legacy := len(req.FindingStatisticTypes) > 0
	switch {
	case legacy && req.GroupBy != "":
		return nil, apiErr("InvalidParameter", "give findingStatisticTypes or groupBy, not both")
	case legacy:
		if len(req.FindingStatisticTypes) != 1 || req.FindingStatisticTypes[0] != "COUNT_BY_SEVERITY" {
			return nil, apiErr("InvalidParameter", "findingStatisticTypes: the only type is COUNT_BY_SEVERITY")
		}
	case req.GroupBy == "":
		return nil, apiErr("InvalidParameter", "groupBy: want ACCOUNT, DATE, FINDING_TYPE, RESOURCE or SEVERITY (or findingStatisticTypes [\"COUNT_BY_SEVERITY\"])")
	}
	max := 0
	if !legacy {
		switch {
		case req.MaxResults == 0:
			max = 25
		case req.MaxResults < 1 || req.MaxResults > 100:
			return nil, apiErr("InvalidParameter", "maxResults %d: want 1 to 100", req.MaxResults)
		default:
			max = req.MaxResults
		}
	}
	order := store.Order(strings.ToUpper(req.OrderBy))
	if order != "" && order != store.Asc && order != store.Desc {
		return nil, apiErr("InvalidParameter", "orderBy %q: want ASC or DESC", clip(req.OrderBy))
	}
	q := store.StatisticsQuery{Criteria: crit, GroupBy: store.GroupBy(strings.ToUpper(req.GroupBy)), Order: order, Limit: max}
	if legacy {
		q.GroupBy = store.GroupBySeverity
	}
	switch q.GroupBy {
	case store.GroupByAccount, store.GroupByDate, store.GroupByType, store.GroupByResource, store.GroupBySeverity:
	default:
		return nil, apiErr("InvalidParameter", "groupBy %q: want ACCOUNT, DATE, FINDING_TYPE, RESOURCE or SEVERITY", clip(req.GroupBy))
	}
	gs, err := s.deps.Store.Statistics(c.r.Context(), q)
	if err != nil {
		return nil, err
	}
	var st FindingStatistics
	if legacy {
		st.CountBySeverity = map[string]int64{}
		for _, g := range gs {
			st.CountBySeverity[strconv.FormatFloat(float64(g.Severity), 'g', -1, 64)] = g.Total
		}
		return &StatisticsResponse{FindingStatistics: st}, nil
	}
	for _, g := range gs {
		switch q.GroupBy {
		case store.GroupByAccount:
			st.GroupedByAccount = append(st.GroupedByAccount, AccountGroup{AccountID: g.AccountID, LastGeneratedAt: g.LastGeneratedAt, TotalFindings: g.Total})
		case store.GroupByDate:
			st.GroupedByDate = append(st.GroupedByDate, DateGroup{Date: g.Key, LastGeneratedAt: g.LastGeneratedAt, Severity: g.Severity, TotalFindings: g.Total})
		case store.GroupByType:
			st.GroupedByFindingType = append(st.GroupedByFindingType, TypeGroup{FindingType: g.Key, LastGeneratedAt: g.LastGeneratedAt, TotalFindings: g.Total})
		case store.GroupByResource:
			st.GroupedByResource = append(st.GroupedByResource, ResourceGroup{AccountID: g.AccountID, ResourceID: g.Key, ResourceType: string(g.ResourceType), LastGeneratedAt: g.LastGeneratedAt, TotalFindings: g.Total})
		case store.GroupBySeverity:
			st.GroupedBySeverity = append(st.GroupedBySeverity, SeverityGroup{Severity: g.Severity, LastGeneratedAt: g.LastGeneratedAt, TotalFindings: g.Total})
		}
	}
	return &StatisticsResponse{FindingStatistics: st}, nil
}

// maxSampleTypes is GuardDuty's limit on CreateSampleFindings' types.
const maxSampleTypes = 50

func (s *Server) createSamples(c *call, req *CreateSampleFindingsRequest) (*CreateSampleFindingsResponse, error) {
	if len(req.FindingTypes) > maxSampleTypes {
		return nil, apiErr("InvalidParameter", "findingTypes: %d types, at most %d", len(req.FindingTypes), maxSampleTypes)
	}
	var infos []*finding.TypeInfo
	if len(req.FindingTypes) == 0 {
		for i := range finding.Types() {
			infos = append(infos, &finding.Types()[i])
		}
	}
	for i, t := range req.FindingTypes {
		ti, ok := finding.Lookup(finding.Type(t))
		if !ok {
			return nil, apiErr("InvalidParameter", "findingTypes[%d]: %q is not in vigil's finding catalogue%s", i, clip(t), suggestType(t))
		}
		infos = append(infos, ti)
	}
	now := finding.TimeOf(s.now())
	fs := make([]finding.Finding, 0, len(infos))
	for _, ti := range infos {
		f, err := SampleFinding(ti, s.cfg.AccountID, s.cfg.Region, now)
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", ti.Type, err)
		}
		fs = append(fs, *f)
	}
	res, err := s.deps.Store.Upsert(c.r.Context(), fs, now)
	if err != nil {
		return nil, err
	}
	if s.deps.OnFindings != nil {
		s.deps.OnFindings(res)
	}
	ids := make([]string, len(fs))
	for i := range fs {
		ids[i] = fs[i].ID
	}
	return &CreateSampleFindingsResponse{FindingIDs: ids}, nil
}

// suggestType returns "; did you mean X?" for a type that differs from a
// catalogued one only in case.
func suggestType(t string) string {
	for _, ti := range finding.Types() {
		if strings.EqualFold(string(ti.Type), t) {
			return fmt.Sprintf("; did you mean %q?", ti.Type)
		}
	}
	return " (vigil rules types lists them)"
}
