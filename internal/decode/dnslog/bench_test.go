package dnslog

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/obs"
)

// benchInput is n realistic Resolver records as JSON lines.
func benchInput(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b2c3d","query_timestamp":"2021-02-04T17:%02d:%02d.%03dZ","query_name":"host%d.example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"203.0.113.%d","Type":"A","Class":"IN"}],"srcaddr":"10.0.%d.%d","srcport":"%d","transport":"UDP","srcids":{"instance":"i-0d15cd0d3example"}}`+"\n",
			i/60%60, i%60, i%1000, i%5000, i%250, i/250%250, i%250, 1024+i%60000)
	}
	return b.Bytes()
}

// BenchmarkDecode reports records/s and allocations per record:
//
//	go test -run '^$' -bench . -benchmem ./internal/decode/dnslog/
func BenchmarkDecode(b *testing.B) {
	const n = 20000
	in := benchInput(n)
	d := New(DefaultConfig())
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := obs.CPUTime()
	for range b.N {
		st, err := d.Decode(context.Background(), decode.Input{Name: "bench"}, bytes.NewReader(in), func(*decode.Batch) error { return nil }, nil)
		if err != nil || st.Records != n {
			b.Fatalf("%v, %d records", err, st.Records)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := obs.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}
