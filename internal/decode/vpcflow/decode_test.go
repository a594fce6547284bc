package vpcflow

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the decoder's output")

// result is everything one Decode call produced, with the records copied out of
// the reused batches.
type result struct {
	flows    []record.Flow
	problems []decode.Problem
	stats    decode.Stats
	batches  int
}

func decodeAll(t testing.TB, d *Decoder, name string, r io.Reader) result {
	t.Helper()
	var res result
	st, err := d.Decode(context.Background(), decode.Input{Name: name}, r, func(b *decode.Batch) error {
		res.batches++
		if b.Kind != record.KindFlow || b.Input.Name != name || len(b.Flows) == 0 || len(b.Flows) > decode.BatchSize {
			t.Errorf("bad batch: kind %v input %q len %d", b.Kind, b.Input.Name, len(b.Flows))
		}
		for i := range b.Flows {
			res.flows = append(res.flows, cloneFlow(&b.Flows[i]))
		}
		return nil
	}, func(p decode.Problem) { res.problems = append(res.problems, p) })
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	res.stats = st
	return res
}

// cloneFlow copies what aliases the decoder's buffers, as emit callers must.
func cloneFlow(f *record.Flow) record.Flow {
	c := *f
	c.Raw = bytes.Clone(f.Raw)
	c.Extra = append([]record.ExtraField(nil), f.Extra...)
	return c
}

// render prints a decode result for golden files: each record's present fields
// under their Logs Insights names, then the problems and the stats.
func render(res result) string {
	var b strings.Builder
	for i := range res.flows {
		f := &res.flows[i]
		fmt.Fprintf(&b, "record %d:", i+1)
		for _, fd := range record.FlowCatalogue.Fields {
			if fd.Version == 0 || !f.Has(fd.ID) {
				continue
			}
			fmt.Fprintf(&b, " %s=%s", fd.Name, f.Get(fd.ID).String())
		}
		for _, e := range f.Extra {
			fmt.Fprintf(&b, " +%s=%s", e.Name, e.Value)
		}
		fmt.Fprintf(&b, "\n  raw: %s\n", f.Raw)
	}
	for _, p := range res.problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	fmt.Fprintf(&b, "stats: %d records, %d bytes, skipped: %s\n", res.stats.Records, res.stats.Bytes, res.stats.SkippedSummary())
	return b.String()
}

// TestDecodeGolden decodes each testdata/*.log file and compares the records,
// problems and stats with testdata/*.golden (go test -update rewrites them; read
// the diff before committing it). The expectations that matter most are also
// asserted in TestDecodeFixtures below.
func TestDecodeGolden(t *testing.T) {
	formats := map[string]string{"nat-gateway.log": fmtAWSNAT}
	files, _ := filepath.Glob("testdata/*.log")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			d := mustNew(t, Config{Format: formats[filepath.Base(file)]})
			got := render(decodeAll(t, d, filepath.Base(file), bytes.NewReader(data)))
			golden := strings.TrimSuffix(file, ".log") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
			// Every reader shape gives the same result.
			for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.DataErrReader} {
				d := mustNew(t, Config{Format: formats[filepath.Base(file)]})
				if again := render(decodeAll(t, d, filepath.Base(file), wrap(bytes.NewReader(data)))); again != got {
					t.Errorf("decoding through a %T reader differs:\n%s", wrap(nil), again)
				}
			}
		})
	}
}

func TestDecodeFixtures(t *testing.T) {
	t.Run("header drives the order", func(t *testing.T) {
		res := decodeFile(t, "s3-custom-v5.log", DefaultConfig())
		if len(res.flows) != 5 || len(res.problems) != 0 {
			t.Fatalf("got %d records, problems %v", len(res.flows), res.problems)
		}
		f := res.flows[2]
		if f.InstanceID != "" || f.Present.Has(record.FlowInstanceID) || f.PktSrcAddr.String() != "10.0.1.5" || f.TCPFlags != 19 || f.TrafficPath != 8 {
			t.Errorf("NAT gateway record: %+v", f)
		}
		if f.Stream != "s3-custom-v5.log" {
			t.Errorf("Stream = %q", f.Stream)
		}
	})
	t.Run("header wins over Config.Format", func(t *testing.T) {
		res := decodeFile(t, "s3-bpa-v8.log", Config{Format: fmtAWSNAT})
		if len(res.flows) != 2 || res.flows[0].RejectReason != "BPA" {
			t.Fatalf("got %d records, problems %v", len(res.flows), res.problems)
		}
	})
	t.Run("Config.Format without header", func(t *testing.T) {
		res := decodeFile(t, "nat-gateway.log", Config{Format: fmtAWSNAT})
		if len(res.flows) != 4 || len(res.problems) != 0 || res.flows[0].PktDstAddr.String() != "203.0.113.5" {
			t.Fatalf("got %d records, problems %v", len(res.flows), res.problems)
		}
	})
	t.Run("default format without header", func(t *testing.T) {
		res := decodeFile(t, "no-header-default.log", DefaultConfig())
		if len(res.flows) != 7 || len(res.problems) != 0 {
			t.Fatalf("got %d records, problems %v", len(res.flows), res.problems)
		}
	})
	t.Run("unknown header field", func(t *testing.T) {
		res := decodeFile(t, "s3-unknown-field.log", DefaultConfig())
		if len(res.flows) != 2 || res.stats.SkippedTotal() != 0 {
			t.Fatalf("got %d records, skipped %s", len(res.flows), res.stats.SkippedSummary())
		}
		if len(res.problems) != 2 || res.problems[0].Reason != ReasonUnknownField || res.problems[0].Line != 1 ||
			!strings.Contains(res.problems[0].Detail, `"resource-id"`) || !strings.Contains(res.problems[0].Detail, "kept as text") {
			t.Errorf("problems: %v", res.problems)
		}
		f := res.flows[0]
		if got := f.Path("resource-id"); got.String() != "i-0123456789abcdef0" {
			t.Errorf("resource-id = %v", got)
		}
		if got := f.Path("encryption-status"); got.String() != "1" {
			t.Errorf("encryption-status = %v", got)
		}
		if len(res.flows[1].Extra) != 0 {
			t.Errorf("'-' extra fields kept: %v", res.flows[1].Extra)
		}
		if f.Version != 10 {
			t.Errorf("version = %d", f.Version)
		}
	})
	t.Run("concatenated files switch format at each header", func(t *testing.T) {
		res := decodeFile(t, "concatenated.log", DefaultConfig())
		if len(res.flows) != 9 || len(res.problems) != 0 {
			t.Fatalf("got %d records, problems %v", len(res.flows), res.problems)
		}
		if res.flows[8].RejectReason != "" || res.flows[7].RejectReason != "BPA" {
			t.Errorf("second file's fields: %+v", res.flows[7])
		}
	})
	for _, name := range []string{"cloudwatch-export-iso.log", "cloudwatch-export-ms.log"} {
		t.Run(name, func(t *testing.T) {
			res := decodeFile(t, name, DefaultConfig())
			want := decodeFile(t, "no-header-default.log", DefaultConfig())
			if len(res.flows) != len(want.flows) || len(res.problems) != 0 {
				t.Fatalf("got %d records, problems %v", len(res.flows), res.problems)
			}
			for i := range want.flows {
				want.flows[i].Stream = name
				if !equalFlow(&res.flows[i], &want.flows[i]) || !bytes.Equal(res.flows[i].Raw, want.flows[i].Raw) {
					t.Errorf("record %d: got %+v, want %+v", i, res.flows[i], want.flows[i])
				}
			}
		})
	}
	t.Run("bad lines", func(t *testing.T) {
		res := decodeFile(t, "bad-lines.log", DefaultConfig())
		want := []struct {
			line   int64
			reason string
			detail string
		}{
			{2, ReasonFieldCount, "13 fields, want 14"},
			{4, ReasonFieldCount, "15 fields, want 14"},
			{5, ReasonBadAddress, `srcaddr "172.31.16.300" is not an IP address`},
			{7, ReasonInvalidUTF8, "interface-id is not valid UTF-8 (byte 20 of the line)"},
			{8, ReasonBadNumber, `dstport "99999" is out of range 0–65535`},
			{9, ReasonBadNumber, `packets "twenty" is not a number`},
			{10, ReasonBadAction, `action "DROP"`},
			{11, ReasonBadLogStatus, `log-status "MAYBE"`},
			{12, ReasonFieldCount, "1 field, want 14"},
		}
		if len(res.problems) != len(want) {
			t.Fatalf("got %d problems, want %d: %v", len(res.problems), len(want), res.problems)
		}
		for i, w := range want {
			p := res.problems[i]
			if p.Input != "bad-lines.log" || p.Line != w.line || p.Reason != w.reason || !strings.Contains(p.Detail, w.detail) {
				t.Errorf("problem %d: got %s, want line %d %s …%s…", i, p, w.line, w.reason, w.detail)
			}
		}
		if len(res.flows) != 3 || res.flows[1].Action != record.ActionReject || res.flows[2].Action != record.ActionAccept {
			t.Errorf("good lines: got %d records", len(res.flows))
		}
		if res.stats.Records != 3 || res.stats.SkippedTotal() != 9 || res.stats.Skipped[ReasonFieldCount] != 3 {
			t.Errorf("stats: %d records, skipped %s", res.stats.Records, res.stats.SkippedSummary())
		}
	})
}

func decodeFile(t *testing.T, name string, cfg Config) result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return decodeAll(t, mustNew(t, cfg), name, bytes.NewReader(data))
}

// A 20 MB line between good lines is skipped and reported at its line number; the
// good lines around it come out, and nothing holds the 20 MB in memory.
func TestDecodeHugeLine(t *testing.T) {
	const good = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"
	in := io.MultiReader(
		strings.NewReader(DefaultFormat+"\n"+good+good),
		io.LimitReader(repeatReaderByte('7'), 20<<20), // one line of 20 MB
		strings.NewReader("\n"+good+"2 bad\n"+good),
	)
	res := decodeAll(t, mustNew(t, DefaultConfig()), "huge.log", in)
	if len(res.flows) != 4 {
		t.Errorf("got %d records, want 4", len(res.flows))
	}
	if len(res.problems) != 2 || res.problems[0].Line != 4 || res.problems[0].Reason != ReasonLineTooLong ||
		res.problems[1].Line != 6 || res.problems[1].Reason != ReasonFieldCount {
		t.Errorf("problems: %v", res.problems)
	}
	if res.stats.Bytes < 20<<20 {
		t.Errorf("Bytes = %d", res.stats.Bytes)
	}
}

type repeatReaderByte byte

func (r repeatReaderByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// Records come in batches of at most decode.BatchSize, in order, and a reused
// Decoder gives the same result the second time.
func TestDecodeBatchesAndReuse(t *testing.T) {
	lines := corpus("v2", 3*decode.BatchSize+17)
	var in bytes.Buffer
	in.WriteString(DefaultFormat + "\n")
	for _, l := range lines {
		in.Write(l)
		in.WriteByte('\n')
	}
	d := mustNew(t, DefaultConfig())
	for range 2 {
		res := decodeAll(t, d, "many.log", bytes.NewReader(in.Bytes()))
		if len(res.flows) != len(lines) || res.batches != 4 || res.stats.Bytes != int64(in.Len()) {
			t.Fatalf("got %d records in %d batches, %d bytes", len(res.flows), res.batches, res.stats.Bytes)
		}
		for i := range lines {
			if !bytes.Equal(res.flows[i].Raw, lines[i]) {
				t.Fatalf("record %d: Raw %q, want %q", i, res.flows[i].Raw, lines[i])
			}
		}
	}
}

// Long lines (long custom formats) fill the Raw arena before the batch is full:
// the decoder emits early instead of overwriting lines still in the batch.
func TestDecodeArenaFull(t *testing.T) {
	pad := strings.Repeat("x", 2000)
	var in bytes.Buffer
	in.WriteString("version interface-id vpc-id\n")
	n := 2 * decode.BatchSize
	for i := range n {
		fmt.Fprintf(&in, "5 eni-%d vpc-%s%d\n", i, pad, i)
	}
	res := decodeAll(t, mustNew(t, DefaultConfig()), "long.log", &in)
	if len(res.flows) != n {
		t.Fatalf("got %d records", len(res.flows))
	}
	for i, f := range res.flows {
		if want := fmt.Sprintf("5 eni-%d vpc-%s%d", i, pad, i); string(f.Raw) != want || f.VPCID != want[len(want)-len(f.VPCID):] {
			t.Fatalf("record %d: Raw %.40q…", i, f.Raw)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"
	t.Run("emit error stops decoding", func(t *testing.T) {
		stop := errors.New("stop")
		d := mustNew(t, DefaultConfig())
		calls := 0
		_, err := d.Decode(context.Background(), decode.Input{Name: "x"}, strings.NewReader(strings.Repeat(good, 3000)),
			func(*decode.Batch) error { calls++; return stop }, nil)
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("got %v after %d calls", err, calls)
		}
	})
	t.Run("read error after good lines", func(t *testing.T) {
		boom := errors.New("boom")
		d := mustNew(t, DefaultConfig())
		var got int
		st, err := d.Decode(context.Background(), decode.Input{Name: "x"}, io.MultiReader(strings.NewReader(good+good+"2 1234"), iotest.ErrReader(boom)),
			func(b *decode.Batch) error { got += len(b.Flows); return nil }, nil)
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "x") || got != 2 || st.Records != 2 || st.SkippedTotal() != 0 {
			t.Errorf("got %v, %d records, stats %+v", err, got, st)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		d := mustNew(t, DefaultConfig())
		_, err := d.Decode(ctx, decode.Input{Name: "x"}, strings.NewReader(strings.Repeat(good, 10000)), func(*decode.Batch) error { return nil }, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v", err)
		}
	})
}

// Steady-state decoding allocates nothing per record: not for interned strings,
// addresses, Extra fields or Raw.
func TestDecodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector (sync.Pool drops items at random); the plain test run checks them")
	}
	for _, tc := range []struct {
		name, format, file string
	}{
		{"v2", "", "no-header-default.log"},
		{"v5 header", "", "s3-custom-v5.log"},
		{"unknown fields", "", "s3-unknown-field.log"},
		{"tgw", "", "s3-tgw-v6.log"},
		{"ecs", "", "s3-ecs-v7.log"},
		{"cloudwatch", "", "cloudwatch-export-iso.log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			// The file's data lines many times over, and twice as many: what the
			// second costs more is per record; per-input costs (reports of unknown
			// fields, the stats map) cancel out.
			header, body, _ := bytes.Cut(data, []byte("\n"))
			if !IsHeader(header) {
				body = data
				header = nil
			}
			input := func(copies int) []byte {
				var in []byte
				if header != nil {
					in = append(append(in, header...), '\n')
				}
				for range copies {
					in = append(in, body...)
				}
				return in
			}
			d := mustNew(t, Config{Format: tc.format})
			emit := func(*decode.Batch) error { return nil }
			allocs := func(in []byte) float64 {
				r := bytes.NewReader(in)
				run := func() {
					r.Reset(in)
					if _, err := d.Decode(context.Background(), decode.Input{Name: "a"}, r, emit, func(decode.Problem) {}); err != nil {
						t.Fatal(err)
					}
				}
				run() // warm up
				return testing.AllocsPerRun(5, run)
			}
			small, large := input(1000), input(2000)
			records := float64(bytes.Count(large, []byte("\n")) - bytes.Count(small, []byte("\n")))
			a1, a2 := allocs(small), allocs(large)
			if perRecord := (a2 - a1) / records; perRecord > 0.001 {
				t.Errorf("%.0f more allocations for %.0f more records (%.4f per record)", a2-a1, records, perRecord)
			}
			t.Logf("%.0f allocations per Decode of the small input, %.0f of the large", a1, a2)
		})
	}
}

// The CloudWatch export prefix is recognised from the first line that decodes,
// whatever comes before it, and never taken from a field that only looks like a
// timestamp. (And a byte order mark does not hide a header.)
func TestDecodeTimestampPrefix(t *testing.T) {
	const rec = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	tests := []struct {
		name, format, in string
		records          int
		problems         []int64 // lines
	}{
		{"bad first line", "", "2026-11-01T00:00:05.000Z 2 123456789010 eni-1\n" +
			"2026-11-01T00:00:05.000Z " + rec + "\n1793491205000 " + rec + "\n", 2, []int64{1}},
		{"space-separated date and time", "", "2026-11-01 00:00:05.000 " + rec + "\n", 1, nil},
		{"a prefix-less line among prefixed ones", "", "2026-11-01T00:00:05Z " + rec + "\n" + rec + "\n", 2, nil},
		{"no prefix: a 13-digit first field stays a field", "bytes srcaddr", "1234567890123 10.0.0.1\n", 1, nil},
		{"byte order mark before the header", "nat", "\xef\xbb\xbf" + DefaultFormat + "\n" + rec + "\n", 1, nil},
		{"decided without prefix: a timestamp later is a 15th field", "", rec + "\n2026-11-01T00:00:05Z " + rec + "\n", 1, []int64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := tt.format
			if format == "nat" {
				format = fmtAWSNAT // the header must win over it
			}
			res := decodeAll(t, mustNew(t, Config{Format: format}), "cw", strings.NewReader(tt.in))
			var lines []int64
			for _, p := range res.problems {
				lines = append(lines, p.Line)
			}
			if len(res.flows) != tt.records || fmt.Sprint(lines) != fmt.Sprint(tt.problems) {
				t.Errorf("got %d records, problems %v; want %d, on lines %v", len(res.flows), res.problems, tt.records, tt.problems)
			}
			for _, f := range res.flows {
				if (tt.format == "" || tt.format == "nat") && string(f.Raw) != rec {
					t.Errorf("Raw = %q", f.Raw)
				}
			}
		})
	}
}

// A part of a split file starts mid-file: the header comes in decode.Input.
func TestDecodeUsesInputHeader(t *testing.T) {
	d, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id"
	body := "3 123456789012 eni-1 10.0.0.1 10.0.0.2 1 22 6 1 60 1762000000 1762000060 ACCEPT OK vpc-abc\n"
	var got []string
	st, err := d.Decode(context.Background(), decode.Input{Name: "part", Header: []byte(header)}, strings.NewReader(body), func(b *decode.Batch) error {
		for i := range b.Flows {
			got = append(got, b.Flows[i].VPCID)
		}
		return nil
	}, nil)
	if err != nil || st.SkippedTotal() != 0 || len(got) != 1 || got[0] != "vpc-abc" {
		t.Fatalf("got %v, skipped %v, err %v", got, st.Skipped, err)
	}
}

// TestProjectionPassesOver: a projection's needles pass over the lines whose
// field cannot hold the text, judging each needle on its own field, and
// count them; an IPv6 field is always decoded, and a layout without the
// field passes over every line.
func TestProjectionPassesOver(t *testing.T) {
	in := "2 123456789012 eni-a 10.10.3.17 10.10.2.68 40000 22 6 3 180 1793491200 1793491260 ACCEPT OK\n" +
		"2 123456789012 eni-a 10.10.2.68 10.10.3.17 22 40000 6 3 180 1793491200 1793491260 ACCEPT OK\n" + // the text in the other field
		"2 123456789012 eni-b 10.10.3.18 10.10.2.68 40001 443 6 3 180 1793491200 1793491260 REJECT OK\n" +
		"2 123456789012 eni-c 2001:db8:0:0:0:0:0:1 10.10.2.68 40002 22 6 3 180 1793491200 1793491260 ACCEPT OK\n" +
		"2 123456789012 eni-a 10.10.3.19 10.10.2.68 40003 22 6\n" // too short: the parser judges it
	for _, c := range []struct {
		name        string
		format      string
		needles     [][2]string
		decoded     int
		unread, bad int64
	}{
		{"address", "", [][2]string{{"dstAddr", "10.10.2.68"}}, 3, 1, 1},
		{"two fields", "", [][2]string{{"dstAddr", "10.10.2.68"}, {"interfaceId", "eni-a"}}, 1, 3, 1},
		{"the line", "", [][2]string{{"@message", " REJECT "}}, 1, 4, 0},
		{"the log stream", "", [][2]string{{"@logStream", "eni-c"}}, 1, 4, 0},
		{"a number", "", [][2]string{{"dstPort", "44"}}, 1, 4, 0},
		{"not in the layout", "", [][2]string{{"vpcId", "vpc-"}}, 0, 5, 0},
		{"past the line's end", "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id",
			[][2]string{{"vpcId", "vpc-"}}, 0, 0, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := ProjectionOf([]string{"srcAddr"})
			for _, n := range c.needles {
				if !p.Require(n[0], n[1]) {
					t.Fatalf("Require(%s) refused", n[0])
				}
			}
			res := decodeAll(t, mustNew(t, Config{Format: c.format, Project: p}), "flows.log", strings.NewReader(in))
			if len(res.flows) != c.decoded || res.stats.Unread != c.unread || res.stats.SkippedTotal() != c.bad {
				t.Errorf("decoded %d, unread %d, bad %d; want %d, %d, %d", len(res.flows), res.stats.Unread, res.stats.SkippedTotal(), c.decoded, c.unread, c.bad)
			}
		})
	}
	if ProjectionOf(nil).Require("@timestamp", "2026") || ProjectionOf(nil).Require("nosuch", "x") {
		t.Error("Require took a field whose text is not the line's")
	}
}

// TestDecodeReuseAcrossFormats: a decoder reuses its records from input to
// input; default-format records decoded into records that held a custom
// format's fields carry none of them over.
func TestDecodeReuseAcrossFormats(t *testing.T) {
	file := func(header string, lines [][]byte) []byte {
		b := []byte(header + "\n")
		for _, l := range lines {
			b = append(append(b, l...), '\n')
		}
		return b
	}
	v5 := file(strings.NewReplacer("${", "", "}", "").Replace(v5Format), corpus("v5", decode.BatchSize+5))
	v2 := file(DefaultFormat, corpus("v2", decode.BatchSize+5))
	want := decodeAll(t, mustNew(t, DefaultConfig()), "v2.log", bytes.NewReader(v2))
	d := mustNew(t, DefaultConfig())
	for round := range 3 {
		wide := decodeAll(t, d, "v5.log", bytes.NewReader(v5))
		if len(wide.flows) == 0 || wide.flows[0].VPCID == "" {
			t.Fatalf("the v5 input gave no records with a vpc-id: %d records", len(wide.flows))
		}
		got := decodeAll(t, d, "v2.log", bytes.NewReader(v2))
		if len(got.flows) != len(want.flows) {
			t.Fatalf("round %d: %d records, want %d", round, len(got.flows), len(want.flows))
		}
		for i := range got.flows {
			if !reflect.DeepEqual(got.flows[i], want.flows[i]) {
				t.Fatalf("round %d, record %d after a v5 input:\n got %+v\nwant %+v", round, i, got.flows[i], want.flows[i])
			}
		}
	}
}
