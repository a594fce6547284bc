package main

import (
	"io"

	"github.com/vigil-dev/vigil/internal/export"
	"github.com/vigil-dev/vigil/internal/finding"
)

// The formats of internal/export, as vigil findings export --format NAME (a
// document) and NAME-lines (one record per line): eventbridge, asff, ocsf.
func init() {
	for _, f := range []export.Format{export.EventBridge, export.ASFF, export.OCSF} {
		for _, lines := range []bool{false, true} {
			name := string(f)
			if lines {
				name += "-lines"
			}
			exportFormats[name] = func(w io.Writer) findingWriter {
				enc, _ := export.NewEncoder(w, f, export.Options{Lines: lines}) // f is one of export's own formats
				return encoderWriter{enc}
			}
		}
	}
}

// encoderWriter is an export.Encoder as a findingWriter.
type encoderWriter struct{ enc *export.Encoder }

func (e encoderWriter) Write(f *finding.Finding) error { return e.enc.Encode(f) }
func (e encoderWriter) Close() error                   { return e.enc.Close() }
