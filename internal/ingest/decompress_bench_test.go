package ingest_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/vigil-dev/vigil/internal/ingest"
)

// BenchmarkDecompress gunzips 16 MiB of flow-log lines through Decompress, as
// every gzip object of an S3 layout is read.
//
//	go test ./internal/ingest -run XXX -bench Decompress -count 5
func BenchmarkDecompress(b *testing.B) {
	var plain bytes.Buffer
	rng := rand.New(rand.NewPCG(1, 2))
	for plain.Len() < 16<<20 {
		t := 1793491200 + plain.Len()/2000
		fmt.Fprintf(&plain, "2 111122223333 eni-%017x 10.10.%d.%d 203.0.%d.%d %d 443 6 %d %d %d %d ACCEPT OK\n",
			rng.IntN(500), rng.IntN(4), 1+rng.IntN(250), rng.IntN(250), 1+rng.IntN(250), 32768+rng.IntN(28000),
			1+rng.IntN(40), 60+rng.IntN(60000), t, t+rng.IntN(60))
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain.Bytes())
	zw.Close()
	b.SetBytes(int64(plain.Len()))
	b.ResetTimer()
	for range b.N {
		r, err := ingest.Decompress(bytes.NewReader(z.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil || n != int64(plain.Len()) {
			b.Fatalf("%d bytes, %v", n, err)
		}
	}
}
