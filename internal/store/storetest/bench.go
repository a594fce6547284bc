package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// The benchmarks every store runs, so that their numbers compare.

// benchTypes are the types of the synthetic findings: ten, like a real estate's
// mix.
var benchTypes = []finding.Type{
	"UnauthorizedAccess:EC2/SSHBruteForce", "Recon:EC2/Portscan", "Backdoor:EC2/C&CActivity.B",
	"CryptoCurrency:EC2/BitcoinTool.B", "Trojan:EC2/BlackholeTraffic", "Trojan:EC2/DropPoint",
	"UnauthorizedAccess:EC2/TorClient", "Behavior:EC2/NetworkPortUnusual", "Impact:EC2/PortSweep",
	"UnauthorizedAccess:EC2/RDPBruteForce",
}

// Synth makes synthetic findings fast: copies of one realistic flow-log finding
// (about 1.5 KB of JSON) with the attributes that queries filter on varied.
type Synth struct {
	tmpl finding.Finding
}

// NewSynth returns a Synth.
func NewSynth(tb testing.TB) *Synth {
	return &Synth{tmpl: NetFinding(tb, benchTypes[0], "111122223333", "i-0", "198.51.100.1", Base)}
}

// Finding returns synthetic finding i: one of 10 types, 10,000 instances,
// 50,000 remote addresses, severities 2, 5 and 8, updatedAt spread over 90 days
// (so i's order is not time order), one in ten archived. The same i gives the same
// finding.
func (s *Synth) Finding(i int) finding.Finding {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	f := s.tmpl
	f.ID = fmt.Sprintf("%032x", i)
	f.Type = benchTypes[r.IntN(len(benchTypes))]
	inst := *f.Resource.InstanceDetails
	inst.InstanceID = "i-" + strconv.Itoa(r.IntN(10000))
	f.Resource.InstanceDetails = &inst
	nc := *f.Service.Action.NetworkConnectionAction
	rip := *nc.RemoteIPDetails
	n := r.IntN(50000)
	rip.IPAddressV4 = "203.0." + strconv.Itoa(n/250) + "." + strconv.Itoa(n%250)
	nc.RemoteIPDetails = &rip
	f.Service.Action.NetworkConnectionAction = &nc
	f.Severity = []finding.Severity{2, 5, 8}[r.IntN(3)]
	at := Base + finding.Time(r.Int64N(90*24*3600*1000))
	f.CreatedAt, f.UpdatedAt = at, at
	f.Service.EventFirstSeen, f.Service.EventLastSeen = at, at
	f.Service.Archived = r.IntN(10) == 0
	f.Service.Count = 1
	return f
}

// Fill stores findings [from, to) in batches of 5,000 and reports progress to log
// every 100,000.
func Fill(tb testing.TB, s store.Store, synth *Synth, from, to int, log func(format string, args ...any)) {
	tb.Helper()
	const batch = 5000
	start := time.Now()
	fs := make([]finding.Finding, 0, batch)
	for i := from; i < to; i++ {
		fs = append(fs, synth.Finding(i))
		if len(fs) == batch || i == to-1 {
			if _, err := s.Upsert(context.Background(), fs, Base); err != nil {
				tb.Fatal(err)
			}
			fs = fs[:0]
			if done := i + 1 - from; log != nil && done%100000 == 0 {
				log("stored %d findings (%.0f/s)", done, float64(done)/time.Since(start).Seconds())
			}
		}
	}
}

// BenchUpsert measures upsert throughput in finding updates per second: batches
// of 500 findings, as a detector flushes them. "repeat" merges into 10,000
// findings already stored (the steady state: the same issues recur, each batch
// a random 500 of them); "new" inserts. Besides wall-clock rates it reports the
// process's CPU time per finding, which a busy shared machine inflates less.
func BenchUpsert(b *testing.B, s store.Store) {
	const batch, identities = 500, 10000
	synth := NewSynth(b)
	Fill(b, s, synth, 0, identities, nil)
	b.Run("repeat", func(b *testing.B) {
		fs := make([]finding.Finding, batch)
		now := Base + 100*24*3600*1000
		r := rand.New(rand.NewPCG(1, 2))
		cpu := cpuTime()
		b.ResetTimer()
		for b.Loop() {
			for j := range fs {
				fs[j] = synth.Finding(r.IntN(identities))
			}
			now++
			if _, err := s.Upsert(context.Background(), fs, now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "updates/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*batch), "cpu-µs/update")
	})
	// Skewed, as real repeats are: a few ongoing issues (a brute force, a scan)
	// recur far more often than the rest (Zipf over the identities), so a batch
	// names some findings several times and the store writes each once.
	b.Run("repeat-skewed", func(b *testing.B) {
		fs := make([]finding.Finding, batch)
		now := Base + 200*24*3600*1000
		z := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, identities-1)
		cpu := cpuTime()
		b.ResetTimer()
		for b.Loop() {
			for j := range fs {
				fs[j] = synth.Finding(int(z.Uint64()))
			}
			now++
			if _, err := s.Upsert(context.Background(), fs, now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "updates/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*batch), "cpu-µs/update")
	})
	b.Run("new", func(b *testing.B) {
		fs := make([]finding.Finding, batch)
		next := 1 << 40
		cpu := cpuTime()
		b.ResetTimer()
		for b.Loop() {
			for j := range fs {
				fs[j] = synth.Finding(next)
				next++
			}
			if _, err := s.Upsert(context.Background(), fs, Base); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "inserts/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*batch), "cpu-µs/insert")
	})
}

// ListCases are the ListFindings benchmarks over Synth findings: the console's
// and the API's common queries, first page of 50.
var ListCases = []struct {
	Name     string
	Criteria store.Criteria
	Sort     store.Sort
}{
	{"default", store.Criteria{Criterion: map[string]store.Condition{"service.archived": {Eq: []string{"false"}}}}, store.Sort{}},
	{"type", store.Criteria{Criterion: map[string]store.Condition{"type": {Eq: []string{"Recon:EC2/Portscan"}}, "service.archived": {Eq: []string{"false"}}}}, store.Sort{}},
	{"severity>=7", store.Criteria{Criterion: map[string]store.Condition{"severity": {Gte: ptr(7)}}}, store.Sort{}},
	{"instance", store.Criteria{Criterion: map[string]store.Condition{"resource.instanceDetails.instanceId": {Eq: []string{"i-4242"}}}}, store.Sort{}},
	{"remoteIp", store.Criteria{Criterion: map[string]store.Condition{"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": {Eq: []string{"203.0.17.42"}}}}, store.Sort{}},
	{"updatedAt-range", store.Criteria{Criterion: map[string]store.Condition{"updatedAt": {Gte: ptr(int64(Base) + 30*24*3600*1000), Lt: ptr(int64(Base) + 31*24*3600*1000)}}}, store.Sort{}},
	{"type+severity", store.Criteria{Criterion: map[string]store.Condition{"type": {Eq: []string{"Trojan:EC2/DropPoint", "Impact:EC2/PortSweep"}}, "severity": {Gte: ptr(7)}}}, store.Sort{}},
	{"sort-severity", store.Criteria{}, store.Sort{Attribute: "severity", Order: store.Desc}},
}

// BenchList measures the first page (and the tenth, through page tokens) of
// ListFindings plus GetFindings of its 50 IDs, over a store already holding the
// findings.
func BenchList(b *testing.B, s store.Store) {
	ctx := context.Background()
	for _, c := range ListCases {
		b.Run(c.Name, func(b *testing.B) {
			var n int
			for b.Loop() {
				p, err := s.List(ctx, c.Criteria, c.Sort, "", 50)
				if err != nil {
					b.Fatal(err)
				}
				n = len(p.IDs)
			}
			b.ReportMetric(float64(n), "ids")
		})
	}
	b.Run("type/page10", func(b *testing.B) {
		c := ListCases[1]
		var tok store.PageToken
		for range 9 {
			p, err := s.List(ctx, c.Criteria, c.Sort, tok, 50)
			if err != nil {
				b.Fatal(err)
			}
			tok = p.Next
		}
		for b.Loop() {
			if _, err := s.List(ctx, c.Criteria, c.Sort, tok, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("type/list+get", func(b *testing.B) {
		c := ListCases[1]
		for b.Loop() {
			p, err := s.List(ctx, c.Criteria, c.Sort, "", 50)
			if err != nil {
				b.Fatal(err)
			}
			fs, err := s.Get(ctx, p.IDs)
			if err != nil || len(fs) != len(p.IDs) {
				b.Fatal(err, len(fs))
			}
		}
	})
	// Statistics of the last day, of everything (a full index scan), and of a
	// filter's wildcards.
	for _, q := range []struct {
		name string
		q    store.StatisticsQuery
	}{
		{"statistics/severity-last-day", store.StatisticsQuery{GroupBy: store.GroupBySeverity,
			Criteria: store.Criteria{Criterion: map[string]store.Condition{"updatedAt": {Gte: ptr(int64(Base) + 89*24*3600*1000)}}}}},
		{"statistics/type-last-day", store.StatisticsQuery{GroupBy: store.GroupByType,
			Criteria: store.Criteria{Criterion: map[string]store.Condition{"updatedAt": {Gte: ptr(int64(Base) + 89*24*3600*1000)}}}}},
		{"statistics/severity-all", store.StatisticsQuery{GroupBy: store.GroupBySeverity}},
		// What creating a suppression rule with wildcards costs: its preview
		// count (suppress.Preview) over every stored finding.
		{"statistics/preview-type-matches", store.StatisticsQuery{GroupBy: store.GroupBySeverity,
			Criteria: store.Criteria{Criterion: map[string]store.Condition{"type": {Matches: []string{"Recon:*", "*BruteForce"}}}}}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Statistics(ctx, q.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
