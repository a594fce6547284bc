package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/bench/internal/duck"
	"github.com/vigil-dev/vigil/bench/internal/flowgen"
)

// The answers for testdata/flows.log, worked out by hand (see testdata/README.md).
// Peers answer "with ties", in any order; a missing value is "".
var fixtureAnswers = map[string][][]string{
	"count records":        {{"12"}},
	"count records, query": {{"12"}},
	"NAT port scan": {
		// 110.10.9.9 contains "10.10." and 110.10.2.68 contains "10.10.2.68": a
		// substring test over-matches, as Logs Insights' like does. 10.10.2.6 does not.
		{"10.10.3.17", "10.10.2.68", "22", "2"},
		{"10.10.3.17", "10.10.2.68", "23", "1"},
		{"10.10.3.17", "10.10.2.68", "80", "1"},
		{"110.10.9.9", "10.10.2.68", "22", "1"},
		{"10.10.5.33", "110.10.2.68", "443", "1"},
	},
	"top talkers by bytes": {
		{"10.10.1.5", "203.0.113.5", "7000000000"},
		{"203.0.113.5", "10.10.1.5", "5000000000"},
		{"10.10.5.33", "110.10.2.68", "3000"},
		{"10.10.5.33", "10.10.2.6", "3000"},
		{"10.10.3.17", "10.10.2.68", "176"},
		{"110.10.9.9", "10.10.2.68", "100"},
		{"198.51.100.7", "10.10.1.5", "84"},
		{"", "", ""}, // NODATA and SKIPDATA: one group with a missing key, sum over nothing is missing
	},
	"rejected flows per port by bin(5m)": {
		{"1761999900000", "22", "2"},
		{"1761999900000", "23", "1"}, // start 1762000199: still the first bin
		{"1762000200000", "22", "1"}, // start 1762000200: the next one
		{"1762000500000", "22", "1"},
		{"1762000800000", "0", "1"},
	},
	"distinct ports by source": {
		{"10.10.3.17", "3"},
		{"110.10.9.9", "1"},
		{"10.10.5.33", "1"},
		{"203.0.113.5", "1"},
		{"10.10.1.5", "1"},
		{"198.51.100.7", "1"},
		{"", "0"},
	},
	"newest 100 rejected SSH flows": {
		{"1762000600000", "203.0.113.5", "10.10.1.5", "22"},
		{"1762000200000", "110.10.9.9", "10.10.2.68", "22"},
		{"1762000010000", "10.10.3.17", "10.10.2.68", "22"},
		{"1762000000000", "10.10.3.17", "10.10.2.68", "22"},
	},
}

func needTools(t *testing.T) string {
	t.Helper()
	mawk, err := exec.LookPath("mawk")
	if err != nil {
		t.Skip("mawk is not installed (apt-get install -y mawk; bench/run installs it)")
	}
	for _, tool := range []string{"bash", "sort", "zcat", "xargs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	return mawk
}

// peerAnswers runs a case's SQL (in-process DuckDB) and awk program (mawk, as
// the harness runs it) on a corpus.
func peerAnswers(t *testing.T, c *corpus, bc benchCase, mawk string) (sqlAns, awkAns answer) {
	t.Helper()
	ctx := context.Background()
	rows, err := duck.Query(ctx, strings.ReplaceAll(bc.sql, "{{flows}}", c.readCSV()))
	if err != nil {
		t.Fatalf("%s: SQL: %v", bc.name, err)
	}
	var tsv bytes.Buffer
	for _, r := range rows {
		tsv.WriteString(strings.Join(r, "\t") + "\n")
	}
	if sqlAns, err = parseTSV(tsv.Bytes(), bc.shape); err != nil {
		t.Fatalf("%s: SQL answer: %v", bc.name, err)
	}
	prog := filepath.Join(t.TempDir(), "prog.awk")
	if err := os.WriteFile(prog, []byte(bc.awk+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := measure(ctx, "", c.awkArgv(mawk, prog, bc.awkPost))
	if err != nil {
		t.Fatalf("%s: awk: %v", bc.name, err)
	}
	if awkAns, err = parseTSV(r.stdout, bc.shape); err != nil {
		t.Fatalf("%s: awk answer: %v\n%s", bc.name, err, r.stdout)
	}
	return sqlAns, awkAns
}

func TestCasesOnHandWrittenFixture(t *testing.T) {
	mawk := needTools(t)
	c, err := openCorpus("testdata/flows.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, bc := range cases {
		if bc.solo {
			continue // no peer to hand-work an answer for
		}
		t.Run(bc.name, func(t *testing.T) {
			want, ok := fixtureAnswers[bc.name]
			if !ok {
				t.Fatalf("no hand-worked answer for case %q: add one to fixtureAnswers", bc.name)
			}
			sqlAns, awkAns := peerAnswers(t, c, bc, mawk)
			if err := sameAnswer(answer{rows: want}, sqlAns); err != nil {
				t.Errorf("SQL: want vs got: %v", err)
			}
			if err := sameAnswer(answer{rows: want}, awkAns); err != nil {
				t.Errorf("awk: want vs got: %v", err)
			}
		})
	}
}

// writeS3Layout splits a generated log into gzip files in S3 key layout, each
// with its own header line, plus a DNS file that must not be read.
func writeS3Layout(t *testing.T, log []byte, parts int) string {
	t.Helper()
	dir := t.TempDir()
	lines := strings.Split(strings.TrimSuffix(string(log), "\n"), "\n")
	head, body := lines[0], lines[1:]
	per := (len(body) + parts - 1) / parts
	for p := range parts {
		date := []string{"2025", "11", fmt.Sprintf("%02d", 1+p%2)}
		day := filepath.Join(append([]string{dir, "AWSLogs", "123456789012", "vpcflowlogs", "eu-west-1"}, date...)...)
		if err := os.MkdirAll(day, 0o755); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		fmt.Fprintln(zw, head)
		for _, l := range body[p*per : min((p+1)*per, len(body))] {
			fmt.Fprintln(zw, l)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("123456789012_vpcflowlogs_eu-west-1_fl-0123_%s%s%sT0000Z_%04d.log.gz", date[0], date[1], date[2], p)
		if err := os.WriteFile(filepath.Join(day, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dns := filepath.Join(dir, "AWSLogs", "123456789012", "vpcdnsquerylogs", "vpc-1", "2025", "11", "01")
	if err := os.MkdirAll(dns, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dns, "q.log.gz"), []byte("not a flow log"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPeersAgreeOnGeneratedCorpus checks the SQL and awk programs against each
// other on a corpus with ties at every limit, flat and in S3 layout, and that
// an answer built the way vigil will print it (CSV, Logs Insights timestamps,
// ties broken any way) passes checkVigil.
func TestPeersAgreeOnGeneratedCorpus(t *testing.T) {
	mawk := needTools(t)
	const records = 30_000
	var log bytes.Buffer
	if err := flowgen.Write(&log, flowgen.Config{Seed: 7, Records: records}); err != nil {
		t.Fatal(err)
	}
	flat := filepath.Join(t.TempDir(), flatName)
	if err := os.WriteFile(flat, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, layout := range []struct {
		name string
		path string
	}{{"flat", flat}, {"s3", writeS3Layout(t, log.Bytes(), 5)}} {
		c, err := openCorpus(layout.path)
		if err != nil {
			t.Fatal(err)
		}
		if c.layout != layout.name || c.records != records {
			t.Fatalf("%s: openCorpus: layout %s, %d records in %d files", layout.name, c.layout, c.records, len(c.files))
		}
		if c.listFile != "" {
			defer os.Remove(c.listFile)
		}
		for _, bc := range cases {
			if bc.solo {
				continue
			}
			t.Run(layout.name+"/"+bc.name, func(t *testing.T) {
				sqlAns, awkAns := peerAnswers(t, c, bc, mawk)
				if err := sameAnswer(sqlAns, awkAns); err != nil {
					t.Fatalf("SQL vs awk: %v", err)
				}
				if len(sqlAns.rows) == 0 {
					t.Fatalf("empty answer: the generated corpus should exercise every case")
				}
				if strings.HasPrefix(bc.name, "count records") && sqlAns.rows[0][0] != fmt.Sprint(records) {
					t.Fatalf("count: %v", sqlAns.rows)
				}
				if bc.shape.limit > 0 {
					vigilLike := asVigilCSV(t, sqlAns, bc.shape)
					got, err := parseQueryCSV(vigilLike, bc.shape)
					if err != nil {
						t.Fatal(err)
					}
					if err := checkVigil(got, awkAns, bc.shape); err != nil {
						t.Fatalf("a right vigil answer was rejected: %v", err)
					}
				}
			})
		}
	}
}

// asVigilCSV prints a peer's answer the way `vigil query --output csv` is
// expected to: the query's column names (plus one it does not ask about), the
// rows in the query's order with ties broken in reverse, cut at the limit, and
// timestamps as "2006-01-02 15:04:05.000".
func asVigilCSV(t *testing.T, a answer, sh shape) []byte {
	rows := slices.Clone(a.rows)
	slices.Reverse(rows)
	c := sh.sortCol
	slices.SortStableFunc(rows, func(x, y []string) int {
		cmp := compareValues(sh.cols[c].kind, x[c], y[c])
		if sh.desc {
			cmp = -cmp
		}
		return cmp
	})
	rows = rows[:min(sh.limit, len(rows))]
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	names := []string{"extra"}
	for _, col := range sh.cols {
		names = append(names, col.name)
	}
	w.Write(names)
	for _, r := range rows {
		rec := []string{"x"}
		for i, v := range r {
			if sh.cols[i].kind == timestamp && v != "" {
				var ms int64
				fmt.Sscan(v, &ms)
				v = time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
			}
			rec = append(rec, v)
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCasesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, bc := range cases {
		if seen[bc.name] {
			t.Errorf("two cases named %q", bc.name)
		}
		seen[bc.name] = true
		if bc.solo {
			if bc.vigil == nil || bc.parseVigil == nil || bc.check == nil || bc.sql != "" || bc.awk != "" {
				t.Errorf("%s: a solo case needs vigil argv, a parser and a check, and no peers", bc.name)
			}
			continue
		}
		if bc.vigil == nil || bc.parseVigil == nil || bc.sql == "" || bc.awk == "" || len(bc.shape.cols) == 0 {
			t.Errorf("%s: every case needs vigil argv, a vigil parser, SQL, awk and a shape", bc.name)
		}
		if !strings.Contains(bc.sql, "{{flows}}") {
			t.Errorf("%s: the SQL does not read {{flows}}", bc.name)
		}
		if bc.needs == needQuery {
			args := bc.vigil([]string{"FILE"})
			if !slices.Contains(args, bc.query) || args[0] != "query" {
				t.Errorf("%s: vigil argv %q does not run the case's query", bc.name, args)
			}
		}
		if bc.shape.limit > 0 && (bc.shape.sortCol < 0 || bc.shape.sortCol >= len(bc.shape.cols)) {
			t.Errorf("%s: sort column %d out of range", bc.name, bc.shape.sortCol)
		}
	}
}
