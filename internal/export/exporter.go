package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigil-dev/vigil/internal/notify"
	"github.com/vigil-dev/vigil/internal/store"
)

// Config is one continuous export (an entry of the exports section of
// vigil.yaml):
//
//	name: siem
//	destination: s3://security-archive/vigil/
//	format: asff
//	frequency: ONE_HOUR
//	min_severity: MEDIUM
//	s3: {region: eu-west-1}
type Config struct {
	// Name identifies the export's queue; letters, digits, '.', '_', '-'.
	Name string `yaml:"name"`
	// Destination is a folder or an s3://bucket/prefix location.
	Destination string `yaml:"destination"`
	// Format of the records: guardduty (the default), eventbridge, asff or ocsf.
	Format string `yaml:"format,omitempty"`
	// Frequency at which further occurrences of findings already exported are
	// exported again: FIFTEEN_MINUTES (the default), ONE_HOUR or SIX_HOURS.
	Frequency notify.Frequency `yaml:"frequency,omitempty"`
	// BatchWindow is how long a new finding waits for others to share its
	// object.
	BatchWindow notify.Duration `yaml:"batch_window,omitempty"`
	// MaxFindingsPerObject caps the records of one object.
	MaxFindingsPerObject int `yaml:"max_findings_per_object,omitempty"`
	// IncludeEvidence keeps vigil's evidence sample in guardduty and eventbridge
	// records.
	IncludeEvidence bool `yaml:"include_evidence,omitempty"`
	// LinkURL links records to the finding's page (see notify.Config.LinkURL).
	LinkURL string `yaml:"link_url,omitempty"`
	// ASFFProductARN overrides ASFF's ProductArn (see Options.ProductARN).
	ASFFProductARN string `yaml:"asff_product_arn,omitempty"`
	// MaxAge is how long an object that cannot be written is retried before
	// its findings are dead-lettered.
	MaxAge notify.Duration `yaml:"max_age,omitempty"`

	notify.FilterConfig `yaml:",inline"`

	// S3 says which S3 to write to when Destination is an s3:// location.
	S3 S3Config `yaml:"s3,omitempty"`
}

// S3Config says which S3 to talk to. Credentials come from the standard AWS
// chain (environment, shared files, SSO, instance and task roles), never from
// the vigil configuration.
type S3Config struct {
	// Region signs requests; empty means the SDK's choice, else us-east-1.
	Region string `yaml:"region,omitempty"`
	// Endpoint is an S3-compatible store (MinIO, …) or a VPC endpoint URL;
	// setting it implies path-style addressing.
	Endpoint string `yaml:"endpoint,omitempty"`
	// PathStyle addresses buckets as endpoint/bucket/key.
	PathStyle bool `yaml:"path_style,omitempty"`
	// Profile is the shared-config profile; empty means AWS_PROFILE or default.
	Profile string `yaml:"profile,omitempty"`
}

// DefaultConfig returns the defaults: GuardDuty JSON, updates every 15
// minutes, new findings batched for 10 seconds, at most 1000 findings per
// object, failed writes retried for 7 days.
func DefaultConfig() Config {
	return Config{
		Name:                 "default",
		Format:               string(GuardDuty),
		Frequency:            notify.FifteenMinutes,
		BatchWindow:          notify.Duration(10 * time.Second),
		MaxFindingsPerObject: 1000,
		MaxAge:               notify.Duration(7 * 24 * time.Hour),
	}
}

// Validate checks the configuration; the error names the key at fault.
func (c *Config) Validate() error {
	probe := notify.DestinationConfig{Name: c.Name, Webhook: &notify.WebhookConfig{URL: "https://x"}, FilterConfig: c.FilterConfig}
	if err := probe.Validate(); err != nil {
		return err
	}
	if c.Destination == "" {
		return errors.New("destination: missing (a folder or s3://bucket/prefix)")
	}
	if strings.HasPrefix(c.Destination, "s3://") {
		if _, _, err := parseS3(c.Destination); err != nil {
			return fmt.Errorf("destination: %w", err)
		}
	}
	if _, err := ParseFormat(c.Format); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	if _, err := c.Frequency.Duration(); err != nil {
		return fmt.Errorf("frequency: %w", err)
	}
	if c.BatchWindow < 0 || c.BatchWindow > notify.Duration(time.Hour) {
		return errors.New("batch_window: outside 0–1h")
	}
	if c.MaxFindingsPerObject < 0 || c.MaxFindingsPerObject > store.MaxOutboxLimit {
		return fmt.Errorf("max_findings_per_object: %d outside 1–%d", c.MaxFindingsPerObject, store.MaxOutboxLimit)
	}
	if c.MaxAge < 0 {
		return errors.New("max_age: negative")
	}
	if _, err := notify.NewLinker(c.LinkURL); err != nil {
		return fmt.Errorf("link_url: %w", err)
	}
	return nil
}

func parseS3(loc string) (bucket, prefix string, err error) {
	rest := strings.TrimPrefix(loc, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%s has no bucket name (want s3://bucket/prefix)", loc)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// Deps are the exporter's dependencies.
type Deps struct {
	// Outbox queues the findings to export. Required.
	Outbox store.Outbox
	// Findings, when set, is read before each write (see notify.Deps).
	Findings notify.FindingReader
	// Clock is the exporter's time; nil means the wall clock.
	Clock notify.Clock
	// Logger receives failures; nil discards.
	Logger *slog.Logger
	// S3 writes the objects of an s3:// destination; nil means a client made
	// from Config.S3 and the standard AWS configuration.
	S3 S3Putter
}

// Exporter exports findings continuously (see the package documentation).
type Exporter struct {
	name string
	sink *Sink
	d    *notify.Dispatcher
}

// QueueName is the outbox queue of the export named name.
func QueueName(name string) string { return "export:" + name }

// New builds the exporter of cfg. It starts nothing and makes no request (an
// S3 client finds its credentials at the first write).
func New(cfg Config, deps Deps) (*Exporter, error) {
	def := DefaultConfig()
	if cfg.Name == "" {
		cfg.Name = def.Name
	}
	if cfg.MaxFindingsPerObject == 0 {
		cfg.MaxFindingsPerObject = def.MaxFindingsPerObject
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = def.MaxAge
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("export %q: %w", cfg.Name, err)
	}
	format, _ := ParseFormat(cfg.Format)
	linker, _ := notify.NewLinker(cfg.LinkURL)
	freq, _ := cfg.Frequency.Duration()
	filter, _ := notify.NewFilter(cfg.FilterConfig)
	clock := deps.Clock
	if clock == nil {
		clock = notify.WallClock{}
	}
	sink := &Sink{
		format:   format,
		opts:     Options{Lines: true, IncludeEvidence: cfg.IncludeEvidence, Link: linker, ProductARN: cfg.ASFFProductARN},
		maxBatch: cfg.MaxFindingsPerObject,
		now:      clock.Now,
	}
	if strings.HasPrefix(cfg.Destination, "s3://") {
		sink.bucket, sink.prefix, _ = parseS3(cfg.Destination)
		sink.s3 = deps.S3
		if sink.s3 == nil {
			client, err := newS3Client(cfg.S3)
			if err != nil {
				return nil, fmt.Errorf("export %q: %w", cfg.Name, err)
			}
			sink.s3 = client
		}
	} else {
		sink.dir = cfg.Destination
	}
	batchWindow := cfg.BatchWindow
	if batchWindow == 0 {
		batchWindow = def.BatchWindow
	}
	dest := notify.Destination{
		Name:     QueueName(cfg.Name),
		Kind:     "export",
		Notifier: sink,
		Filter:   filter,
		Delivery: notify.DeliveryConfig{
			BatchWindow: batchWindow,
			// An object per second at most: a backlog goes out in few, full
			// objects rather than many small ones.
			RateLimit:   notify.Rate{N: 1, Per: time.Second},
			Timeout:     notify.Duration(2 * time.Minute),
			MaxAttempts: 1 << 30, // bounded by MaxAge instead
			MaxAge:      cfg.MaxAge,
		},
	}
	d, err := notify.NewDispatcher(notify.Options{UpdateFrequency: freq, Linker: linker}, []notify.Destination{dest},
		notify.Deps{Outbox: deps.Outbox, Findings: deps.Findings, Clock: clock, Logger: deps.Logger})
	if err != nil {
		return nil, fmt.Errorf("export %q: %w", cfg.Name, err)
	}
	return &Exporter{name: cfg.Name, sink: sink, d: d}, nil
}

func newS3Client(c S3Config) (*awss3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	return awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
			o.UsePathStyle = true
		}
		if c.PathStyle {
			o.UsePathStyle = true
		}
	}), nil
}

// Publish queues the export of the changes of one upsert: call it right after
// the upsert that returned res (see notify.Dispatcher.Enqueue).
func (e *Exporter) Publish(ctx context.Context, res store.UpsertResult) error {
	if err := e.d.Enqueue(ctx, res); err != nil {
		return fmt.Errorf("export %q: %w", e.name, err)
	}
	return nil
}

// Run writes objects until ctx is cancelled; see notify.Dispatcher.Run.
func (e *Exporter) Run(ctx context.Context) error { return e.d.Run(ctx) }

// Stats are the exporter's counters.
type Stats struct {
	notify.DestinationStats
	// Objects and Bytes count the objects written and their compressed size.
	Objects, Bytes int64
}

// Stats returns the current counters; safe to call at any time.
func (e *Exporter) Stats() Stats {
	s := Stats{Objects: e.sink.objects.Load(), Bytes: e.sink.bytes.Load()}
	if ds := e.d.Stats().Destinations; len(ds) == 1 {
		s.DestinationStats = ds[0]
	}
	return s
}
