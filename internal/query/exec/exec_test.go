package exec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/exec"
	"github.com/vigil-dev/vigil/internal/query/plan"
	"github.com/vigil-dev/vigil/internal/record"
)

// The executor's results are specified by testdata/qtest (querytest); these
// tests cover what data files cannot: cancellation, limits, early stop.

// decodeSource decodes flow text afresh on every call, one batch per emit.
func decodeSource(text string, calls *atomic.Int64) exec.Source {
	return func(ctx context.Context, emit func(int, *decode.Batch) error) error {
		dec, err := vpcflow.New(vpcflow.DefaultConfig())
		if err != nil {
			return err
		}
		_, err = dec.Decode(ctx, decode.Input{Name: "t.log"}, strings.NewReader(text), func(b *decode.Batch) error {
			if calls != nil {
				calls.Add(1)
			}
			return emit(0, b)
		}, nil)
		return err
	}
}

func run(t *testing.T, q string, src exec.Source, opts exec.Options) (*exec.Result, error) {
	t.Helper()
	chk, _, err := query.ParseAndCheck(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(chk, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return exec.Run(context.Background(), p, src, opts)
}

func TestLimitAnyStopsReading(t *testing.T) {
	var calls atomic.Int64
	text := flowText(10 * decode.BatchSize)
	res, err := run(t, `limit any 5`, decodeSource(text, &calls), exec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 5 || calls.Load() != 1 {
		t.Errorf("%d rows after %d batches; want 5 rows after 1 batch", len(res.Rows), calls.Load())
	}
}

func TestLimitZeroReadsNothing(t *testing.T) {
	var calls atomic.Int64
	res, err := run(t, `filter dstPort = 22 | limit 0`, decodeSource(flowText(100), &calls), exec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 0 || calls.Load() != 0 {
		t.Errorf("%d rows, %d batches read", len(res.Rows), calls.Load())
	}
}

func TestTooManyGroups(t *testing.T) {
	_, err := run(t, `stats count(*) by srcPort`, decodeSource(flowText(2000), nil), exec.Options{MaxGroups: 100})
	if !errors.Is(err, exec.ErrTooManyGroups) {
		t.Errorf("got %v, want ErrTooManyGroups", err)
	}
}

func TestCancel(t *testing.T) {
	chk, _, err := query.ParseAndCheck(`stats count(*) by srcAddr`, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := plan.Build(chk, plan.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	src := func(ctx context.Context, emit func(int, *decode.Batch) error) error {
		cancel()
		return decodeSource(flowText(3000), nil)(ctx, emit)
	}
	if _, err := exec.Run(ctx, p, src, exec.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestWorkerOutOfRange(t *testing.T) {
	src := func(ctx context.Context, emit func(int, *decode.Batch) error) error {
		return emit(3, &decode.Batch{})
	}
	if _, err := run(t, `stats count(*)`, src, exec.Options{Workers: 2}); err == nil {
		t.Error("a worker index past Options.Workers must fail")
	}
}

func TestResultCounts(t *testing.T) {
	res, err := run(t, `filter action = "REJECT" | fields srcAddr`, decodeSource(flowText(1400), nil), exec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsScanned != 1400 || res.RecordsMatched != int64(len(res.Rows)) || res.RecordsMatched == 0 {
		t.Errorf("scanned %d matched %d rows %d", res.RecordsScanned, res.RecordsMatched, len(res.Rows))
	}
}

func TestTruncated(t *testing.T) {
	res, err := run(t, `stats count(*) by srcPort`, decodeSource(flowText(20000), nil), exec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated || len(res.Rows) != plan.DefaultMaxRows || res.TotalRows <= int64(len(res.Rows)) {
		t.Errorf("truncated %v, %d of %d rows", res.Truncated, len(res.Rows), res.TotalRows)
	}
}

// decodeAll decodes flow text into batches that own their memory.
func decodeAll(t testing.TB, text string) []*decode.Batch {
	t.Helper()
	dec, err := vpcflow.New(vpcflow.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	in := &decode.Input{Name: "t.log"}
	var out []*decode.Batch
	_, err = dec.Decode(context.Background(), *in, strings.NewReader(text), func(b *decode.Batch) error {
		c := &decode.Batch{Kind: b.Kind, Input: in, Flows: append(b.Flows[:0:0], b.Flows...)}
		for i := range c.Flows {
			f := &c.Flows[i]
			f.Raw = bytes.Clone(f.Raw)
			f.AccountID = strings.Clone(f.AccountID)
			f.InterfaceID = strings.Clone(f.InterfaceID)
			f.Stream = strings.Clone(f.Stream)
			f.Extra = nil
		}
		out = append(out, c)
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWorkersAgree checks that a stats over more groups than a worker keeps
// in a table of its own (so that the workers move to the shared table, part
// way through) gives the rows one worker gives, and that sort … | limit over
// the groups gives the first rows of the whole sort.
func TestWorkersAgree(t *testing.T) {
	batches := decodeAll(t, flowText(80_000))
	const stats = `stats sum(bytes) as b, count(*) as n, count(dstPort) as c, count_distinct(dstPort) as ports,
		avg(packets) as p, min(srcPort) as lo, max(dstAddr) as hi, earliest(srcPort) as first, latest(dstPort) as last,
		sortsFirst(action) as act
		by srcAddr, srcPort`
	for _, q := range []string{
		stats,
		stats + ` | sort b desc, n`,
		stats + ` | sort b desc, n | limit 25`,
		stats + ` | filter n > 1`,
		`stats count(*) as n by dstPort | sort n desc | limit 3`,
		`stats count(*) as n`,
	} {
		var want string
		for _, workers := range []int{1, 2} {
			res, err := run(t, q, source(batches, workers, 1), exec.Options{Workers: workers})
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			var b strings.Builder
			for _, row := range res.Rows {
				for _, v := range row {
					b.WriteString(query.FormatValue(v))
					b.WriteByte(' ')
				}
				b.WriteByte('\n')
			}
			if workers == 1 {
				want = b.String()
				if len(res.Rows) == 0 {
					t.Fatalf("%s: no rows", q)
				}
				continue
			}
			if got := b.String(); got != want {
				t.Errorf("%s: 2 workers give\n%.600s\none gives\n%.600s", q, got, want)
			}
		}
	}
	// The last 25 of the whole sort are the rows of the limited one.
	full, err := run(t, stats+` | sort b desc, n`, source(batches, 2, 1), exec.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	top, err := run(t, stats+` | sort b desc, n | limit 25`, source(batches, 2, 1), exec.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if full.TotalRows < 4*exec.LocalMaxGroups || len(top.Rows) != 25 {
		t.Fatalf("%d groups (want more than %d), %d rows", full.TotalRows, 4*exec.LocalMaxGroups, len(top.Rows))
	}
	for i, row := range top.Rows {
		for j, v := range row {
			if query.FormatValue(v) != query.FormatValue(full.Rows[i][j]) {
				t.Fatalf("row %d col %d: limited %v, full %v", i, j, row, full.Rows[i])
			}
		}
	}
}

// TestManyGroupsExact checks the group table against plain maps over the
// same records: tens of thousands of groups, so that every partition's index
// grows many times, with keys short enough to live in their slots (an
// address; two addresses) and longer ones (two addresses and a port; an
// interface id and two addresses), on one worker and on two.
func TestManyGroupsExact(t *testing.T) {
	batches := decodeAll(t, flowText(80_000))
	type agg struct{ sum, n int64 }
	for _, c := range []struct {
		by  string
		key func(f *record.Flow) string
	}{
		{"srcAddr", func(f *record.Flow) string { return f.SrcAddr.String() }},
		{"srcAddr, dstAddr", func(f *record.Flow) string { return f.SrcAddr.String() + " " + f.DstAddr.String() }},
		{"srcAddr, dstAddr, srcPort", func(f *record.Flow) string {
			return fmt.Sprint(f.SrcAddr, " ", f.DstAddr, " ", f.SrcPort)
		}},
		{"interfaceId, srcAddr, dstAddr", func(f *record.Flow) string {
			return f.InterfaceID + " " + f.SrcAddr.String() + " " + f.DstAddr.String()
		}},
	} {
		want := map[string]agg{}
		for _, b := range batches {
			for i := range b.Flows {
				f := &b.Flows[i]
				a := want[c.key(f)]
				a.sum += f.Bytes
				a.n++
				want[c.key(f)] = a
			}
		}
		for _, workers := range []int{1, 2} {
			res, err := run(t, `stats sum(bytes) as b, count(*) as n by `+c.by+` | limit 1000000`, source(batches, workers, 1), exec.Options{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != len(want) {
				t.Fatalf("by %s, %d workers: %d groups, want %d", c.by, workers, len(res.Rows), len(want))
			}
			for _, row := range res.Rows {
				var parts []string
				for _, v := range row[:len(row)-2] {
					parts = append(parts, query.FormatValue(v))
				}
				k := strings.Join(parts, " ")
				got := agg{row[len(row)-2].Int, row[len(row)-1].Int}
				if w, ok := want[k]; !ok || got != w {
					t.Fatalf("by %s, %d workers: group %q has sum %d, count %d; want %+v (found: %v)", c.by, workers, k, got.sum, got.n, w, ok)
				}
			}
		}
		if len(want) <= exec.LocalMaxGroups && c.by != "srcAddr" {
			t.Fatalf("by %s: only %d groups", c.by, len(want))
		}
	}
}
