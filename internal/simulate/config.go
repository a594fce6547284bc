package simulate

import (
	"errors"
	"fmt"
	"time"
)

// FlowFormat chooses the record format of the VPC flow logs.
type FlowFormat string

// The flow-log formats the simulator writes.
const (
	// FlowFormatMixed gives VPC A's flow log the custom v5 format and VPC B's the
	// default v2 format, so readers must handle both in one bucket.
	FlowFormatMixed FlowFormat = "mixed"
	// FlowFormatV2 writes every flow log in AWS's default (version 2) format.
	FlowFormatV2 FlowFormat = "v2"
	// FlowFormatCustom writes every flow log in the custom v5 format.
	FlowFormatCustom FlowFormat = "custom"
)

// Layout chooses how the corpus is laid out on disk.
type Layout string

// The layouts the simulator writes.
const (
	// LayoutS3 writes gzip files under the key layout AWS uses in an S3 bucket
	// (AWSLogs/<account>/vpcflowlogs/…), the output folder standing for the bucket.
	LayoutS3 Layout = "s3"
	// LayoutFlat writes each stream uncompressed into one file (vpcflow-v2.log,
	// vpcflow-custom.log, dns.log, cloudtrail.json), for benchmarks.
	LayoutFlat Layout = "flat"
)

// Config says what to simulate. Its zero value is not useful: start from
// DefaultConfig and set Out.
type Config struct {
	// Out is the folder to write into; it stands for the S3 bucket.
	Out string `yaml:"out"`
	// Seed determines every random choice: the same Config gives the same bytes.
	Seed uint64 `yaml:"seed"`
	// Records is the exact number of VPC flow-log records (lines after the header)
	// to write. Resolver query logs get about a tenth and CloudTrail about a
	// hundredth of that, never fewer than the scenarios need.
	Records int64 `yaml:"records"`
	// Start is the beginning of the simulated window; it must fall on a 5-minute
	// boundary, as flow-log files do.
	Start time.Time `yaml:"start"`
	// Duration is the length of the window: a multiple of 5 minutes, at least an
	// hour so that every scenario fits.
	Duration time.Duration `yaml:"duration"`
	// FlowFormat chooses the flow-log record formats.
	FlowFormat FlowFormat `yaml:"flowFormat"`
	// Layout chooses the on-disk layout.
	Layout Layout `yaml:"layout"`
	// Workers is how many files are generated in parallel; 0 means GOMAXPROCS.
	Workers int `yaml:"workers"`
	// Overwrite allows writing into a folder that is not empty. The simulator's
	// own earlier output (AWSLogs/, inventory/, labels.json and the flat files) is
	// removed first so that stale files of another seed cannot mix in.
	Overwrite bool `yaml:"overwrite"`
}

// DefaultConfig returns the defaults: seed 1, 100,000 flow records over the day
// of 2026-11-01 (UTC), mixed flow formats, S3 layout.
func DefaultConfig() Config {
	return Config{
		Seed:       1,
		Records:    100_000,
		Start:      time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Duration:   24 * time.Hour,
		FlowFormat: FlowFormatMixed,
		Layout:     LayoutS3,
	}
}

// Limits of the configuration.
const (
	period      = 5 * time.Minute // flow-log and resolver-log files cover 5 minutes
	periodSecs  = int64(period / time.Second)
	minDuration = time.Hour // the longest scenario must fit
	maxDuration = 366 * 24 * time.Hour
	maxRecords  = 1 << 40
)

// FieldError reports an invalid Config field. Field is the field's YAML key, so
// that callers can name it the way their users spelled it (a flag, a config key).
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, a...)}
}

// validate checks the fields that do not depend on the scenarios; the minimum
// number of records is checked once the scenarios are laid out.
func (c *Config) validate() error {
	var errs []error
	if c.Out == "" {
		errs = append(errs, fieldErr("out", "an output folder is required"))
	}
	if c.Records < 1 || c.Records > maxRecords {
		errs = append(errs, fieldErr("records", "must be between 1 and %d, got %d", int64(maxRecords), c.Records))
	}
	if c.Start.IsZero() {
		errs = append(errs, fieldErr("start", "a start time is required"))
	} else if c.Start.Unix()%periodSecs != 0 || c.Start.Nanosecond() != 0 {
		errs = append(errs, fieldErr("start", "must fall on a 5-minute boundary (like 2026-11-01T00:05:00Z), got %s", c.Start.UTC().Format(time.RFC3339Nano)))
	}
	switch {
	case c.Duration < minDuration || c.Duration > maxDuration:
		errs = append(errs, fieldErr("duration", "must be between 1h and 8784h (366 days), got %s", c.Duration))
	case c.Duration%period != 0:
		errs = append(errs, fieldErr("duration", "must be a multiple of 5m, got %s", c.Duration))
	}
	switch c.FlowFormat {
	case FlowFormatMixed, FlowFormatV2, FlowFormatCustom:
	default:
		errs = append(errs, fieldErr("flowFormat", "must be mixed, v2 or custom, got %q", c.FlowFormat))
	}
	switch c.Layout {
	case LayoutS3, LayoutFlat:
	default:
		errs = append(errs, fieldErr("layout", "must be s3 or flat, got %q", c.Layout))
	}
	if c.Workers < 0 {
		errs = append(errs, fieldErr("workers", "must not be negative, got %d", c.Workers))
	}
	return errors.Join(errs...)
}
