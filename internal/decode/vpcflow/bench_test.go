package vpcflow

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/obs"
	"github.com/vigil-dev/vigil/internal/record"
)

// corpus returns n realistic flow-log lines of the given format ("v2" or "v5"),
// deterministic: one account, 300 interfaces in 4 subnets, private sources talking
// to a mix of private and public peers, mostly TCP, some REJECTs and NODATA.
func corpus(format string, n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	lines := make([][]byte, 0, n)
	t := int64(1793491200)
	for i := range n {
		eni := rng.IntN(300)
		start := t + int64(i/1000)
		if rng.IntN(200) == 0 {
			nodata := fmt.Appendf(nil, "2 123456789012 eni-0a1b2c3d4e5f%05d - - - - - - - %d %d - NODATA", eni, start, start+60)
			if format == "v5" {
				nodata = append(nodata, bytes.Repeat([]byte(" -"), 15)...)
				nodata[0] = '5'
			}
			lines = append(lines, nodata)
			continue
		}
		src := fmt.Sprintf("10.0.%d.%d", eni%4, 10+eni%240)
		var dst string
		if rng.IntN(3) == 0 {
			dst = fmt.Sprintf("10.0.%d.%d", rng.IntN(4), rng.IntN(250)+1)
		} else {
			dst = fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(222), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
		}
		proto := 6
		dport := []int{443, 80, 22, 53, 3306, 8080}[rng.IntN(6)]
		if rng.IntN(5) == 0 {
			proto = 17
			dport = 53
		}
		sport := 32768 + rng.IntN(28000)
		pkts := 1 + rng.IntN(5000)
		bytes := pkts * (40 + rng.IntN(1400))
		action := "ACCEPT"
		if rng.IntN(20) == 0 {
			action = "REJECT"
		}
		switch format {
		case "v2":
			lines = append(lines, fmt.Appendf(nil, "2 123456789012 eni-0a1b2c3d4e5f%05d %s %s %d %d %d %d %d %d %d %s OK",
				eni, src, dst, sport, dport, proto, pkts, bytes, start, start+int64(rng.IntN(60)), action))
		case "v5":
			lines = append(lines, fmt.Appendf(nil, "5 123456789012 eni-0a1b2c3d4e5f%05d %s %s %d %d %d %d %d %d %d %s OK vpc-0abc1234def567890 subnet-0123456789abcdef%d i-0123456789abc%04d %d IPv4 %s %s us-east-1 use1-az%d - - - AMAZON egress %d",
				eni, src, dst, sport, dport, proto, pkts, bytes, start, start+int64(rng.IntN(60)), action,
				eni%4, eni, []int{2, 3, 18, 19, 0}[rng.IntN(5)], src, dst, 1+eni%4, 1+rng.IntN(8)))
		}
	}
	return lines
}

const v5Format = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}"

// repeatReader serves exactly n lines, cycling through a corpus, without
// allocating: the benchmark measures the decoder, not the input.
type repeatReader struct {
	data    []byte // the corpus, newline-terminated lines
	offsets []int  // offsets[i] = start of line i
	left    int    // lines still to serve
	pos     int
}

func newRepeatReader(lines [][]byte, n int) *repeatReader {
	r := &repeatReader{left: n}
	for _, l := range lines {
		r.offsets = append(r.offsets, len(r.data))
		r.data = append(append(r.data, l...), '\n')
	}
	r.offsets = append(r.offsets, len(r.data))
	return r
}

func (r *repeatReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 && r.left > 0 {
		if r.pos == len(r.data) {
			r.pos = 0
		}
		// Serve whole lines up to the ones still owed.
		end := len(r.data)
		if lineNo := r.lineAt(r.pos); len(r.offsets)-1-lineNo > r.left {
			end = r.offsets[lineNo+r.left]
		}
		n := copy(p, r.data[r.pos:end])
		r.left -= bytes.Count(r.data[r.pos:r.pos+n], []byte{'\n'})
		r.pos += n
		p = p[n:]
		total += n
	}
	if total == 0 && r.left == 0 {
		return 0, io.EOF
	}
	return total, nil
}

// lineAt returns the index of the line containing offset pos.
func (r *repeatReader) lineAt(pos int) int {
	lo, hi := 0, len(r.offsets)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if r.offsets[mid] <= pos {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

var corpora = map[string][][]byte{}

func cachedCorpus(format string) [][]byte {
	if c, ok := corpora[format]; ok {
		return c
	}
	c := corpus(format, 1<<15)
	corpora[format] = c
	return c
}

func benchDecode(b *testing.B, format string, cfg Config) {
	lines := cachedCorpus(format)
	var size int
	for _, l := range lines {
		size += len(l) + 1
	}
	d, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	// Warm up: buffers and interned strings, as in a long-running process.
	if _, err := d.Decode(context.Background(), decode.Input{Name: "warm"}, newRepeatReader(lines, len(lines)), func(*decode.Batch) error { return nil }, nil); err != nil {
		b.Fatal(err)
	}
	in := newRepeatReader(lines, b.N)
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	cpu0 := obs.CPUTime()
	var got int64
	st, err := d.Decode(context.Background(), decode.Input{Name: "bench"}, in, func(batch *decode.Batch) error {
		got += int64(len(batch.Flows))
		return nil
	}, func(p decode.Problem) { b.Fatal(p) })
	if err != nil {
		b.Fatal(err)
	}
	if got != int64(b.N) || st.Records != int64(b.N) {
		b.Fatalf("decoded %d records (stats %d), want %d", got, st.Records, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := obs.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkDecodeV2 decodes default-format lines; one op is one record.
func BenchmarkDecodeV2(b *testing.B) { benchDecode(b, "v2", DefaultConfig()) }

// BenchmarkDecodeCustomV5 decodes a 29-field custom format; one op is one record.
func BenchmarkDecodeCustomV5(b *testing.B) { benchDecode(b, "v5", Config{Format: v5Format}) }

func BenchmarkParseLine(b *testing.B) {
	lines := corpus("v2", 1<<12)
	d, _ := New(DefaultConfig())
	var f record.Flow
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := d.ParseLine(lines[i&(len(lines)-1)], &f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFieldEnds: the shape check of projected decoding, on default-format
// lines, finding no ends (a count) and the first seven (the NAT query's), by
// each implementation this machine runs.
func BenchmarkFieldEnds(b *testing.B) {
	lines := corpus("v2", 1000)
	for _, impl := range fieldEndsImpls() {
		for _, need := range []int{0, 7} {
			b.Run(fmt.Sprint(impl.name, "/ends=", need), func(b *testing.B) {
				ends := make([]int32, need)
				n := 0
				for b.Loop() {
					for _, l := range lines {
						if impl.f(l, 14, ends) {
							n++
						}
					}
				}
				if n == 0 {
					b.Fatal("no line has 14 fields")
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
			})
		}
	}
}

// BenchmarkParseAddr parses the source and destination addresses of
// default-format lines, each followed by the rest of its line.
func BenchmarkParseAddr(b *testing.B) {
	var addrs [][]byte
	for _, l := range corpus("v2", 1<<12) {
		f := bytes.SplitN(l, []byte(" "), 6)
		if len(f) < 6 || f[3][0] == '-' {
			continue
		}
		addrs = append(addrs, l[bytes.Index(l, f[3]):], l[bytes.Index(l, f[3])+len(f[3])+1:])
	}
	n := 0
	for b.Loop() {
		for _, a := range addrs {
			if _, _, ok := parseAddr(a); ok {
				n++
			}
		}
	}
	if n == 0 {
		b.Fatal("no address parsed")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(addrs)), "ns/addr")
}
