package cloudtrail

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/obs"
)

// recordsFile generates a {"Records":[…]} file of n events on the fly, so that a
// test can read a file far larger than what it wants the decoder to hold.
type recordsFile struct {
	n, i int
	buf  bytes.Buffer
	done bool
}

func (f *recordsFile) Read(p []byte) (int, error) {
	for f.buf.Len() < len(p) && !f.done {
		switch {
		case f.i == 0:
			f.buf.WriteString(`{"Records":[`)
		case f.i > f.n:
			f.buf.WriteString("]}")
			f.done = true
			continue
		default:
			f.buf.WriteByte(',')
		}
		if f.i < f.n {
			f.buf.WriteString(strings.Replace(assumedRole, `"eventID":"e2"`, fmt.Sprintf(`"eventID":"e%d"`, f.i), 1))
		}
		f.i++
	}
	if f.buf.Len() == 0 {
		return 0, io.EOF
	}
	return f.buf.Read(p)
}

// TestLargeFileBoundedMemory streams a Records file of about 48 MB (40,000 events)
// and checks that the live heap stays far below the file's size: events are
// decoded one at a time, never the whole file.
func TestLargeFileBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 48 MB")
	}
	const n = 40000
	var maxHeap uint64
	var ms runtime.MemStats
	batches, got := 0, 0
	st, err := New(DefaultConfig()).Decode(context.Background(), decode.Input{Name: "big.json"}, &recordsFile{n: n}, func(b *decode.Batch) error {
		batches++
		got += b.Len()
		if batches%16 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapAlloc)
		}
		return nil
	}, nil)
	if err != nil || got != n || st.Records != n {
		t.Fatalf("err %v, %d records of %d", err, got, n)
	}
	size := st.Bytes
	t.Logf("%d MB file, %d batches, live heap at most %.1f MB", size>>20, batches, float64(maxHeap)/(1<<20))
	if size < 40<<20 {
		t.Fatalf("file of %d bytes is too small for this test", size)
	}
	if maxHeap > 24<<20 {
		t.Errorf("live heap reached %d MB while reading a %d MB file", maxHeap>>20, size>>20)
	}
}

// benchFile is a Records file of the Stratus-like events, n of them.
func benchFile(n int) []byte {
	b, _ := io.ReadAll(&recordsFile{n: n})
	return b
}

// BenchmarkDecode reads a CloudTrail Records file; it reports records/s and
// allocations:
//
//	go test -run '^$' -bench . -benchmem ./internal/decode/cloudtrail/
func BenchmarkDecode(b *testing.B) {
	const n = 5000
	in := benchFile(n)
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
