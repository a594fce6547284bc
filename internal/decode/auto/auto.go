package auto

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/cloudtrail"
	"github.com/vigil-dev/vigil/internal/decode/cwlogs"
	"github.com/vigil-dev/vigil/internal/decode/dnslog"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
)

// ReasonUnknownFormat is the reason an input whose format cannot be told is
// reported and counted under (once per input: it yields no records).
const ReasonUnknownFormat = "unknown format"

// ReasonTooLarge is the reason a Parquet input too large to hold is skipped under.
const ReasonTooLarge = "too large"

// Config configures the auto-detecting Decoder.
type Config struct {
	// Format forces one format for every input; Auto (or "") detects per input.
	Format Format
	// VPCFlow configures flow-log decoding (the field order of files without a
	// header line, and of flow-log messages in CloudWatch Logs payloads).
	VPCFlow vpcflow.Config
	// DNS configures Route 53 Resolver log decoding.
	DNS dnslog.Config
	// CloudTrail configures CloudTrail decoding.
	CloudTrail cloudtrail.Config
	// MaxParquetSize bounds a Parquet input, which must be held whole to be read.
	MaxParquetSize int64
}

// DefaultConfig detects every input's format.
func DefaultConfig() Config {
	return Config{Format: Auto, VPCFlow: vpcflow.DefaultConfig(), MaxParquetSize: 1 << 30}
}

// Validate checks the configuration once, so that a bad --flow-format is a usage
// error rather than a failure of every input.
func (c Config) Validate() error {
	if _, ok := aliases[string(c.Format)]; !ok && c.Format != Unknown {
		return fmt.Errorf("unknown format %q", c.Format)
	}
	if _, err := vpcflow.New(c.VPCFlow); err != nil {
		return err
	}
	return nil
}

// ConfigFor returns the configuration for a format name (ParseFormat; "" is
// Auto) and a flow-log field order (vpcflow.Config.Format; "" is the default
// version 2 fields), as configuration keys and flags give them. An error
// starts with formatKey or flowKey, whichever names the bad value.
func ConfigFor(format, flowFormat, formatKey, flowKey string) (Config, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", formatKey, err)
	}
	c := DefaultConfig()
	c.Format = f
	c.VPCFlow = vpcflow.Config{Format: flowFormat}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", flowKey, err)
	}
	return c, nil
}

// Decoder detects each input's format and hands the input to that format's
// decoder. It implements decode.Decoder; the format decoders it makes are kept
// for later inputs, so use one Decoder per goroutine.
type Decoder struct {
	cfg  Config
	flow *vpcflow.Decoder
	dns  *dnslog.Decoder
	ct   *cloudtrail.Decoder
	cwl  *cwlogs.Decoder
	br   *bufio.Reader
}

// New returns an auto-detecting decoder. A bad cfg.VPCFlow.Format makes every
// Decode fail; check it first with Config.Validate.
func New(cfg Config) decode.Decoder {
	if cfg.Format == Unknown {
		cfg.Format = Auto
	}
	if cfg.MaxParquetSize <= 0 {
		cfg.MaxParquetSize = DefaultConfig().MaxParquetSize
	}
	return &Decoder{cfg: cfg}
}

// Decode detects in's format from its first bytes (gunzipping them first if they
// are still compressed) and decodes it (decode.Decoder). An input whose format
// cannot be told yields one Problem with ReasonUnknownFormat and no records.
func (d *Decoder) Decode(ctx context.Context, in decode.Input, r io.Reader, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
	var st decode.Stats
	br := d.reader(r)
	defer br.Reset(nil)
	head, err := peek(br)
	if err != nil {
		return st, fmt.Errorf("decode %s: %w", in.Name, err)
	}
	// Still compressed? Ingest gunzips what it opens; this is for other callers
	// and for gzip inside gzip (Firehose compressing CloudWatch's gzip payloads).
	// Gzip is multistream: back-to-back members read as one stream.
	for layer := 0; layer < 3 && len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b; layer++ {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return st, fmt.Errorf("decode %s: read gzip header: %w", in.Name, err)
		}
		br = bufio.NewReaderSize(zr, 64<<10)
		if head, err = peek(br); err != nil {
			return st, fmt.Errorf("decode %s: %w", in.Name, err)
		}
	}
	if len(bytes.TrimLeft(head, " \t\r\n")) == 0 {
		n, err := io.Copy(io.Discard, br) // nothing but space: no records, no problem
		st.Bytes = n
		if err != nil {
			return st, fmt.Errorf("decode %s: %w", in.Name, err)
		}
		return st, nil
	}
	format := d.cfg.Format
	if format == Auto {
		format = Detect(head, in.Name)
	}
	switch format {
	case VPCFlow:
		if err := d.makeFlow(); err != nil {
			return st, fmt.Errorf("decode %s: %w", in.Name, err)
		}
		return d.flow.Decode(ctx, in, br, emit, report)
	case DNSLog:
		if d.dns == nil {
			d.dns = dnslog.New(d.cfg.DNS)
		}
		return d.dns.Decode(ctx, in, br, emit, report)
	case CloudTrail:
		if d.ct == nil {
			d.ct = cloudtrail.New(d.cfg.CloudTrail)
		}
		return d.ct.Decode(ctx, in, br, emit, report)
	case CWLogs:
		if d.cwl == nil {
			cfg := cwlogs.DefaultConfig()
			cfg.VPCFlow = d.cfg.VPCFlow
			if d.cwl, err = cwlogs.New(cfg); err != nil {
				return st, fmt.Errorf("decode %s: %w", in.Name, err)
			}
		}
		return d.cwl.Decode(ctx, in, br, emit, report)
	case Parquet:
		return d.parquet(ctx, in, br, emit, report)
	case CloudTrailDigest:
		n, err := io.Copy(io.Discard, br)
		st.Bytes = n
		if err != nil {
			return st, fmt.Errorf("decode %s: %w", in.Name, err)
		}
		return st, nil
	}
	st.Skip(ReasonUnknownFormat)
	if report != nil {
		report(decode.Problem{Input: in.Name, Reason: ReasonUnknownFormat,
			Detail: fmt.Sprintf("not a log format vigil recognises (%s); name the format with --format if it is one of them", describe(head))})
	}
	return st, nil
}

// reader returns the decoder's buffered reader, reset to r.
func (d *Decoder) reader(r io.Reader) *bufio.Reader {
	if d.br == nil {
		d.br = bufio.NewReaderSize(r, 64<<10)
	} else {
		d.br.Reset(r)
	}
	return d.br
}

// peek returns up to SniffSize bytes of br without consuming them.
func peek(br *bufio.Reader) ([]byte, error) {
	head, err := br.Peek(SniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return head, err
	}
	return head, nil
}

func (d *Decoder) makeFlow() error {
	if d.flow != nil {
		return nil
	}
	f, err := vpcflow.New(d.cfg.VPCFlow)
	if err != nil {
		return err
	}
	d.flow = f
	return nil
}

// parquet reads a Parquet input whole (the format's footer is at its end) and
// decodes it as flow logs.
func (d *Decoder) parquet(ctx context.Context, in decode.Input, r io.Reader, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
	var st decode.Stats
	if err := d.makeFlow(); err != nil {
		return st, fmt.Errorf("decode %s: %w", in.Name, err)
	}
	data, err := io.ReadAll(io.LimitReader(r, d.cfg.MaxParquetSize+1))
	st.Bytes = int64(len(data))
	if err != nil {
		return st, fmt.Errorf("decode parquet %s: %w", in.Name, err)
	}
	if int64(len(data)) > d.cfg.MaxParquetSize {
		st.Skip(ReasonTooLarge)
		if report != nil {
			report(decode.Problem{Input: in.Name, Reason: ReasonTooLarge, Detail: fmt.Sprintf("Parquet file larger than %d bytes; it must be held whole to be read", d.cfg.MaxParquetSize)})
		}
		return st, nil
	}
	return d.flow.DecodeParquet(ctx, in, bytes.NewReader(data), int64(len(data)), emit, report)
}
