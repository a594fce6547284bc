package main

import (
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
)

// decoderFactory turns --format and --flow-format into the decoder each reading
// worker uses; a bad value is a usage error, found before any file is opened.
//
// project, when set, limits flow-log decoding to those fields (a query's).
func decoderFactory(f readFlags, project *vpcflow.Projection) (func() decode.Decoder, error) {
	cfg, err := auto.ConfigFor(f.format, f.flowFormat, "--format", "--flow-format")
	if err != nil {
		return nil, usagef("%v", err)
	}
	cfg.VPCFlow.Project = project
	return func() decode.Decoder { return auto.New(cfg) }, nil
}
