package investigate

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/simulate"
)

// BenchmarkInvestigate2h answers the simulated abuse report over a two-hour
// window of a 10-million-record day of flow logs (S3 layout, gzip, 5-minute files;
// plus the corpus's 1,000,000 resolver and 100,000 CloudTrail records), with the
// detections and the Logs Insights queries on, as `vigil investigate` runs by
// default. The goal is under 5 s on the project's 2-core machine.
//
// VIGIL_BENCH_CORPUS names an existing corpus (vigil simulate --records 10000000
// --out DIR); without it the corpus is generated once into a temporary folder
// (about 330 MB, a few seconds), and VIGIL_BENCH_RECORDS changes its size.
func BenchmarkInvestigate2h(b *testing.B) {
	dir := os.Getenv("VIGIL_BENCH_CORPUS")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "corpus")
		cfg := simulate.DefaultConfig()
		cfg.Out, cfg.Records = dir, 10_000_000
		if n := os.Getenv("VIGIL_BENCH_RECORDS"); n != "" {
			var err error
			if cfg.Records, err = parseInt(n); err != nil {
				b.Fatal(err)
			}
		}
		sim, err := simulate.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sim.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "abuse-report", "nat-abuse.eml"))
	if err != nil {
		b.Fatal(err)
	}
	rep, err := Parse("nat-abuse.eml", data, ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	inv, _, err := inventory.Load(filepath.Join(dir, "inventory"))
	if err != nil {
		b.Fatal(err)
	}
	// Two hours around the reported activity.
	mid := rep.Window.From.Add(rep.Window.Until.Sub(rep.Window.From) / 2)
	req := Request{Report: rep, From: mid.Add(-time.Hour), Until: mid.Add(time.Hour)}
	workers := runtime.GOMAXPROCS(0)
	cfg := DefaultConfig()
	cfg.Workers = workers
	logs := []string{filepath.Join(dir, "AWSLogs")}
	b.ResetTimer()
	var res *Result
	for i := 0; i < b.N; i++ {
		in, err := New(cfg, Deps{Read: reader(logs, workers), Inventory: inv}, req)
		if err != nil {
			b.Fatal(err)
		}
		if res, err = in.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if len(res.Candidates) == 0 || res.Candidates[0].Confidence != ConfidenceHigh {
		b.Fatalf("no answer: %s", res.Verdict)
	}
	b.ReportMetric(float64(res.Stats.Records), "records/op")
	b.ReportMetric(float64(res.Stats.Records)/b.Elapsed().Seconds()*float64(b.N), "records/s")
}

func parseInt(s string) (int64, error) {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, os.ErrInvalid
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}
