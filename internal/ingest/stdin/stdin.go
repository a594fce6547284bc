// Package stdin is the continuous source of standard input: logs piped into
// vigil serve (tail -F flows.log | vigil serve), read line by line as they come.
//
// Standard input cannot be read again, so it has no checkpoint: what was read
// before a restart is not read again, and a record that was in an open
// detection window at a crash does not count in it after the restart. Use the
// watch source for files when that matters. Run returns when the input ends;
// vigil serve keeps running its other parts.
package stdin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
)

// Config configures the stdin source.
type Config struct {
	// Format is the format of the lines (vpcflow, dnslog, cloudtrail JSON
	// lines); "auto" (the default) detects it from the first chunk.
	Format string `yaml:"format"`
	// FlowFormat is the flow-log field list when the input has no header line.
	FlowFormat string `yaml:"flow_format"`
	// ChunkSize bounds the bytes decoded as one unit.
	ChunkSize int `yaml:"chunk_size"`
}

// DefaultConfig returns the defaults: detect the format.
func DefaultConfig() Config { return Config{Format: "auto", ChunkSize: ingest.DefaultChunkSize} }

// Validate checks the configuration; errors name the key.
func (c Config) Validate() error {
	_, err := c.decoderConfig()
	if c.ChunkSize < 4096 || c.ChunkSize > 64<<20 {
		err = errors.Join(err, fmt.Errorf("chunk_size: %d is outside 4 KiB–64 MiB", c.ChunkSize))
	}
	return err
}

func (c Config) decoderConfig() (auto.Config, error) {
	return auto.ConfigFor(c.Format, c.FlowFormat, "format", "flow_format")
}

// Source reads standard input (or, for tests, another reader).
type Source struct {
	cfg Config
	dec auto.Config
	in  io.Reader
}

var _ ingest.Source = (*Source)(nil)

// New returns a source reading r (nil: os.Stdin).
func New(cfg Config, r io.Reader) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dc, _ := cfg.decoderConfig()
	if r == nil {
		r = os.Stdin
	}
	return &Source{cfg: cfg, dec: dc, in: r}, nil
}

// stream is the name of standard input in reports.
const stream = "-"

// Run reads until the input ends or ctx is cancelled. A read blocked on a
// pipe is abandoned at cancellation (the goroutine ends with the process).
func (s *Source) Run(ctx context.Context, sink ingest.Sink) error {
	if err := sink.ReplayDone(ctx); err != nil {
		return nil
	}
	lane := sink.NewLane()
	ch := ingest.NewChunker(s.in, 0, s.cfg.ChunkSize)
	type next struct {
		c   ingest.Chunk
		err error
	}
	chunks := make(chan next)
	proceed := make(chan struct{})
	go func() {
		defer close(chunks)
		for {
			c, err := ch.Next()
			select {
			case chunks <- next{c, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			select { // the chunk's buffer is reused by the next call
			case <-proceed:
			case <-ctx.Done():
				return
			}
		}
	}()
	dec := auto.New(s.dec)
	format := s.dec.Format
	var line int64
	var header []byte // the first line: a flow log's header for later chunks
	for {
		var n next
		select {
		case n = <-chunks:
		case <-ctx.Done():
			return nil
		}
		if errors.Is(n.err, io.EOF) {
			return nil
		}
		if n.err != nil {
			return fmt.Errorf("read standard input: %w", n.err)
		}
		if format == auto.Auto && len(n.c.Data) > 0 {
			// Decide once: a later chunk alone may not say (a flow log's
			// header is only in the first).
			format = auto.Detect(n.c.Data, stream)
			if format != auto.Unknown {
				cfg := s.dec
				cfg.Format = format
				dec = auto.New(cfg)
			}
		}
		if header == nil && len(n.c.Data) > 0 {
			first, _, _ := bytes.Cut(n.c.Data, []byte{'\n'})
			header = bytes.Clone(bytes.TrimRight(first, "\r"))
		}
		c, base, hdr := n.c, line, header
		if base == 0 {
			hdr = nil
		}
		err := lane.Chunk(stream, nil, func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
			if c.TooLong > 0 {
				var st decode.Stats
				st.Skip("line too long")
				report(decode.Problem{Input: stream, Reason: "line too long", Detail: fmt.Sprintf("a line is longer than %d bytes", decode.MaxLineSize)})
				return st, nil
			}
			return dec.Decode(ctx, decode.Input{Name: stream, Header: hdr}, bytes.NewReader(c.Data), emit, func(p decode.Problem) {
				if p.Line > 0 {
					p.Line += base
				}
				report(p)
			})
		})
		if err != nil {
			return err
		}
		line += int64(bytes.Count(c.Data, []byte{'\n'})) + int64(c.TooLong)
		proceed <- struct{}{}
	}
}
