package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/exec"
	"github.com/vigil-dev/vigil/internal/query/plan"
)

// runQuery runs a Logs Insights query over the configured sources: the same
// engine as `vigil query`, bounded by Query.Timeout, Query.MaxRows and
// Query.MaxGroups. Problems with the records (bad lines) are counted, not
// errors.
func (s *Server) runQuery(c *call, req *QueryRequest) (*QueryResponse, error) {
	qc := s.cfg.Query
	if strings.TrimSpace(req.QueryString) == "" {
		return nil, apiErr("InvalidParameter", "queryString: required")
	}
	if len(req.QueryString) > query.MaxQueryLen {
		return nil, apiErr("InvalidParameter", "queryString of %d bytes: at most %d", len(req.QueryString), query.MaxQueryLen)
	}
	if len(qc.Sources) == 0 {
		return nil, apiErr("InvalidParameter", "this server has no query sources configured (api.query.sources)")
	}
	var srcs []QuerySource
	if len(req.LogGroupNames) == 0 {
		srcs = qc.Sources
	}
	for i, name := range req.LogGroupNames {
		j := slices.IndexFunc(qc.Sources, func(q QuerySource) bool { return q.Name == name })
		if j < 0 {
			var names []string
			for _, q := range qc.Sources {
				names = append(names, q.Name)
			}
			return nil, apiErr("InvalidParameter", "logGroupNames[%d]: no source %q (this server has %s)", i, clip(name), strings.Join(names, ", "))
		}
		srcs = append(srcs, qc.Sources[j])
	}
	if req.StartTime < 0 || req.EndTime < 0 || req.EndTime != 0 && req.EndTime < req.StartTime {
		return nil, apiErr("InvalidParameter", "startTime %d, endTime %d: want epoch seconds with startTime ≤ endTime", req.StartTime, req.EndTime)
	}
	if req.Limit < 0 || req.Limit > qc.MaxRows {
		return nil, apiErr("InvalidParameter", "limit %d: want 1 to %d", req.Limit, qc.MaxRows)
	}
	chk, warns, err := query.ParseAndCheck(req.QueryString, nil)
	var ws []string
	for _, w := range warns {
		ws = append(ws, w.String())
	}
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			e := apiErr("InvalidQuery", "queryString: %s", qe.Error())
			e.Line, e.Column = qe.Line, qe.Column
			return nil, e
		}
		return nil, apiErr("InvalidQuery", "queryString: %v", err)
	}
	var since, until time.Time
	if req.StartTime > 0 {
		since = time.Unix(req.StartTime, 0).UTC()
	}
	if req.EndTime > 0 {
		until = time.Unix(req.EndTime, 0).UTC()
	}
	p, err := plan.Build(chk, plan.Options{Since: since, Until: until})
	if err != nil {
		return nil, apiErr("InvalidQuery", "queryString: %v", err)
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), qc.Timeout)
	defer cancel()
	var readers []*ingest.Reader
	source := func(ctx context.Context, emit func(int, *decode.Batch) error) error {
		for _, src := range srcs {
			acfg := auto.DefaultConfig()
			p.Project(&acfg)
			if src.Format != "" {
				f, err := auto.ParseFormat(src.Format)
				if err != nil { // Validate checked it
					return fmt.Errorf("query source %s: %w", src.Name, err)
				}
				acfg.Format = f
			}
			r := ingest.New(ingest.Config{Workers: qc.Workers, Window: ingest.Window{Since: since, Until: until}, S3: s.deps.S3},
				func() decode.Decoder { return auto.New(acfg) })
			readers = append(readers, r)
			if _, err := r.Read(ctx, src.Paths, emit, func(decode.Problem) {}); err != nil {
				if ctx.Err() != nil {
					return err
				}
				return apiErr("SourceUnavailable", "query source %s: %v", src.Name, err)
			}
		}
		return nil
	}
	start := time.Now()
	res, err := exec.Run(ctx, p, source, exec.Options{Workers: qc.Workers, MaxGroups: qc.MaxGroups,
		Eval: query.EvalOptions{Now: start, Start: since, End: until}})
	if err != nil {
		if ctx.Err() != nil && c.r.Context().Err() == nil {
			return nil, apiErr("QueryTimeout", "the query ran longer than %s; narrow its time range (startTime, endTime) or its sources", qc.Timeout)
		}
		return nil, err
	}
	out := &QueryResponse{Status: "Complete", Results: [][]ResultField{}, Warnings: ws, Truncated: res.Truncated}
	limit := qc.MaxRows
	if req.Limit > 0 {
		limit = req.Limit
	}
	for i, row := range res.Rows {
		if i == limit {
			out.Truncated = true
			break
		}
		fields := make([]ResultField, 0, len(row))
		for j, v := range row {
			if v.IsMissing() {
				continue
			}
			fields = append(fields, ResultField{Field: res.Columns[j], Value: query.FormatValue(v)})
		}
		out.Results = append(out.Results, fields)
	}
	out.Statistics = QueryStatistics{RecordsScanned: float64(res.RecordsScanned), RecordsMatched: float64(res.RecordsMatched)}
	for _, r := range readers {
		out.Statistics.BytesScanned += float64(r.Counters.BytesDecoded.Load())
		// Records passed over unread were scanned, for a text the filter
		// needs; their time was not read.
		out.Statistics.RecordsScanned += float64(r.Counters.Unread.Load())
	}
	return out, nil
}
