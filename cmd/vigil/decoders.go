package main

import (
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
)

// decoderFactory turns --format and --flow-format into the decoder each reading
// worker uses; a bad value is a usage error, found before any file is opened.
func decoderFactory(f readFlags) (func() decode.Decoder, error) {
	format, err := auto.ParseFormat(f.format)
	if err != nil {
		return nil, usagef("--format: %v", err)
	}
	cfg := auto.DefaultConfig()
	cfg.Format = format
	cfg.VPCFlow = vpcflow.Config{Format: f.flowFormat}
	if err := cfg.Validate(); err != nil {
		return nil, usagef("--flow-format: %v", err)
	}
	return func() decode.Decoder { return auto.New(cfg) }, nil
}
