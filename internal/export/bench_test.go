package export

import (
	"io"
	"testing"
)

// BenchmarkEncode measures each format's encoding of the fixture's findings.
func BenchmarkEncode(b *testing.B) {
	fs := loadFixture(b)
	for _, format := range Formats {
		b.Run(string(format), func(b *testing.B) {
			for range b.N {
				if err := Encode(io.Discard, format, fs, Options{Lines: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(fs))/b.Elapsed().Seconds(), "findings/s")
		})
	}
}
