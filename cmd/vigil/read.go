package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/ingest/s3"
)

// readFlags are the flags of every command that reads logs.
type readFlags struct {
	since, until string
	format       string
	flowFormat   string
	workers      int
	region       string
	s3Endpoint   string
}

func (f *readFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.since, "since", "", "read records from this time on (2026-11-01T10:00:00Z, 2026-11-01, or 2h back from now)")
	cmd.Flags().StringVar(&f.until, "until", "", "read records up to this time (same forms as --since)")
	cmd.Flags().StringVar(&f.format, "format", "auto", "input format: auto (detect from content), vpcflow, dnslog, cloudtrail, cwlogs, parquet")
	cmd.Flags().StringVar(&f.flowFormat, "flow-format", "", "flow-log field list for files without a header line (AWS format string or field names)")
	cmd.Flags().IntVar(&f.workers, "workers", 0, "objects read in parallel (default: one per CPU)")
	cmd.Flags().StringVar(&f.region, "region", "", "AWS region of s3:// buckets (default: from the AWS configuration)")
	cmd.Flags().StringVar(&f.s3Endpoint, "s3-endpoint", "", "S3-compatible endpoint URL for s3:// locations, e.g. http://127.0.0.1:9000 (also AWS_ENDPOINT_URL_S3)")
}

// window turns --since/--until into an ingest window.
func (f *readFlags) window(now time.Time) (ingest.Window, error) {
	since, err := parseTimeFlag("since", f.since, now)
	if err != nil {
		return ingest.Window{}, err
	}
	until, err := parseTimeFlag("until", f.until, now)
	if err != nil {
		return ingest.Window{}, err
	}
	if !since.IsZero() && !until.IsZero() && until.Before(since) {
		return ingest.Window{}, usagef("--until %s is before --since %s", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	return ingest.Window{Since: since, Until: until}, nil
}

// readerConfig builds the ingest configuration for the given locations; the S3
// client is made only when a location needs it, so reading local files never
// touches AWS configuration.
func (f *readFlags) readerConfig(ctx context.Context, locations []string) (ingest.Config, error) {
	window, err := f.window(time.Now())
	if err != nil {
		return ingest.Config{}, err
	}
	if f.workers < 0 {
		return ingest.Config{}, usagef("--workers must not be negative")
	}
	cfg := ingest.Config{Workers: f.workers, Window: window}
	for _, loc := range locations {
		if strings.HasPrefix(loc, "s3://") {
			s3cfg := s3.DefaultConfig()
			s3cfg.Region = f.region
			s3cfg.Endpoint = f.s3Endpoint
			lister, err := s3.New(ctx, s3cfg)
			if err != nil {
				return ingest.Config{}, err
			}
			cfg.S3 = lister
			break
		}
	}
	return cfg, nil
}
