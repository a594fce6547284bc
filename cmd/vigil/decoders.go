package main

import (
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
)

// decoderFactory turns --format and --flow-format into the decoder each reading
// worker uses; a bad value is a usage error, found before any file is opened.
//
// project, when set, tells the decoders what they may skip (plan.Plan.Project).
func decoderFactory(f readFlags, project func(*auto.Config)) (func() decode.Decoder, error) {
	cfg, err := auto.ConfigFor(f.format, f.flowFormat, "--format", "--flow-format")
	if err != nil {
		return nil, usagef("%v", err)
	}
	if project != nil {
		project(&cfg)
	}
	return func() decode.Decoder { return auto.New(cfg) }, nil
}
