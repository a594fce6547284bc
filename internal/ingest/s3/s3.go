// Package s3 reads logs from Amazon S3 and S3-compatible stores (MinIO, Ceph, R2, …):
// it is the ingest.Lister of s3://bucket/prefix locations.
//
// A location is a key prefix, as in S3 itself: s3://b/AWSLogs/1234 also lists
// AWSLogs/123456789012/…; end it with a slash to name one folder. Objects come in key
// order, each opened with a streamed GetObject, so a 75 MB flow-log file is never
// held in memory whole.
//
// A bounded time window is applied before listing, not after: where the location sits
// at or above AWS's key layout (AWSLogs/[o-org/]account/service/region/YYYY/MM/DD/[HH/],
// or its Hive-compatible form aws-account-id=…/…/year=…/month=…/day=…/[hour=…/]),
// the hierarchy is walked one level at a time with delimited listings, descending
// into every account, service and region but only into the years, months, days and
// hours the window may contain. A one-day --since/--until over a central logging
// bucket of many accounts and years therefore costs about four listing requests per
// account, service and region (region, year, month, day), however many days are
// stored, and never lists a key of another day. The walk lists up to eight prefixes
// at once and hands the objects on, in key order, when it is done. Without a window,
// or below the date levels, the prefix is listed flat, page by page, as the caller
// consumes it.
//
// Failures are told apart from "nothing there": a missing bucket, or credentials S3
// rejects, on the location's first request fail the whole List with a clear message.
// A prefix deeper down that cannot be listed (a bucket policy denying one account's
// folder), or an object that cannot be read (denied, or deleted between list and
// get), is one problem among many: the prefix is passed to the caller as an Object
// whose Open returns the listing error, so an ingest.Reader reports it as an
// unreadable input naming s3://bucket/prefix/ and reads everything else.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vigil-dev/vigil/internal/ingest"
)

// Config says which S3 to talk to. Credentials are not part of it on purpose: they
// come from the standard AWS chain (environment, shared config and credentials files,
// SSO, web identity, ECS and EC2 instance roles), so that keys never sit in a vigil
// configuration file.
type Config struct {
	// Region signs requests and picks AWS's endpoint. Empty means the SDK's choice
	// (AWS_REGION, the profile's region), else us-east-1. A bucket in another region
	// is still read: S3 names the bucket's region in its refusal and the request is
	// repeated there.
	Region string `yaml:"region"`
	// Endpoint is an S3-compatible store (MinIO, Ceph, …) or a VPC endpoint URL, such
	// as http://127.0.0.1:9000. Setting it implies PathStyle, which such stores
	// expect. Empty means AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL when set (used as
	// the SDK uses them), else AWS.
	Endpoint string `yaml:"endpoint"`
	// PathStyle addresses buckets as endpoint/bucket/key rather than as
	// bucket.endpoint/key.
	PathStyle bool `yaml:"path_style"`
	// Profile is the shared-config profile to use; empty means AWS_PROFILE or
	// "default".
	Profile string `yaml:"profile"`
}

// DefaultConfig returns the configuration that reads AWS S3 with the standard
// credential chain and region.
func DefaultConfig() Config { return Config{} }

// Counters are a Lister's running totals, safe to read at any time. They show how
// much the time window saved: a narrow window over years of logs makes few requests.
type Counters struct {
	ListRequests   atomic.Int64 // ListObjectsV2 requests, one per page
	GetRequests    atomic.Int64 // GetObject requests
	Objects        atomic.Int64 // objects handed to the caller
	ObjectsPruned  atomic.Int64 // objects listed but ruled out by the date in their key
	PrefixesPruned atomic.Int64 // year, month, day or hour prefixes ruled out unlisted
	ListFailures   atomic.Int64 // prefixes handed to the caller because they could not be listed
}

// Lister lists and opens S3 objects; it implements ingest.Lister. It is safe for
// concurrent use.
type Lister struct {
	Counters Counters

	client  *awss3.Client
	region  string   // region requests are signed for unless a bucket says otherwise
	regions sync.Map // bucket → the region S3 said it lives in

	// Set by tests: onList is called with the prefix of every listing request and
	// whether it was delimited; maxKeys, when not 0, makes pages that small.
	onList  func(prefix string, delimited bool)
	maxKeys int32
}

var _ ingest.Lister = (*Lister)(nil)

// listConcurrency bounds the listing requests in flight during a layout walk, where
// each account, service and region is its own prefix: a central bucket of a hundred
// accounts would otherwise be walked one round trip at a time.
const listConcurrency = 8

// defaultRegion signs requests when nothing names a region; S3 then tells the
// bucket's real region if it differs.
const defaultRegion = "us-east-1"

// New returns a Lister using the standard AWS configuration and credential chain.
// Credentials are looked up lazily, at the first request, so New succeeds on a
// machine without them; an error means the configuration itself is unusable (for
// example a named profile that does not exist).
func New(ctx context.Context, cfg Config) (*Lister, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = defaultRegion
	}
	if awsCfg.Credentials != nil {
		awsCfg.Credentials = credentialsProvider{awsCfg.Credentials}
	}
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
		}
		if cfg.PathStyle {
			o.UsePathStyle = true
		}
		// S3-compatible stores often send no checksum; the SDK would log a warning
		// on standard error for every such GetObject.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &Lister{client: client, region: awsCfg.Region}, nil
}

// ParseLocation splits "s3://bucket/prefix" into the bucket and the key prefix,
// which may be empty (the whole bucket).
func ParseLocation(location string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(location, "s3://")
	if !ok {
		return "", "", fmt.Errorf("read %s: not an s3:// location", location)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("read %s: no bucket name (want s3://bucket/prefix)", location)
	}
	return bucket, prefix, nil
}

// List calls fn for every object under location (s3://bucket/prefix) that the window
// may hold records of, in key order. See the package documentation for how the
// window prunes the listing and how failures are reported. An error from fn stops
// the listing and is returned as is.
func (l *Lister) List(ctx context.Context, location string, w ingest.Window, fn func(ingest.Object) error) error {
	bucket, prefix, err := ParseLocation(location)
	if err != nil {
		return err
	}
	r := &run{l: l, bucket: bucket, w: w, sem: make(chan struct{}, listConcurrency)}
	emit := func(e entry) error { return fn(r.object(e)) }
	bounded := !w.Since.IsZero() || !w.Until.IsZero()
	m := classify(dirOf(prefix), 0)
	if !bounded || m == modeFlat {
		err = r.flat(ctx, prefix, true, emit)
	} else {
		var entries []entry
		if entries, err = r.walk(ctx, prefix, m, 0, true); err == nil {
			for _, e := range entries {
				if err = emit(e); err != nil {
					break
				}
			}
		}
	}
	var fe *fatalError
	if errors.As(err, &fe) {
		return fmt.Errorf("list %s: %w", location, fe.err)
	}
	return err
}

// fatalError marks a listing failure that ends List (the location's first request)
// as opposed to one reported in place of a prefix; it never leaves the package.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// entry is one listing result: an object, or a prefix that could not be listed.
type entry struct {
	key  string
	size int64
	err  error // set for a prefix that could not be listed; key is the prefix
}

// run is one List call.
type run struct {
	l      *Lister
	bucket string
	w      ingest.Window
	sem    chan struct{} // bounds the requests in flight
}

func (r *run) name(key string) string { return "s3://" + r.bucket + "/" + key }

// object turns an entry into what the caller sees.
func (r *run) object(e entry) ingest.Object {
	name := r.name(e.key)
	if e.err != nil {
		r.l.Counters.ListFailures.Add(1)
		err := fmt.Errorf("list %s: %w", name, e.err)
		return ingest.NewObject(name, -1, func(context.Context) (io.ReadCloser, error) { return nil, err })
	}
	r.l.Counters.Objects.Add(1)
	return r.l.object(r.bucket, e.key, e.size)
}

// object returns the object at key; its Open streams the body of a GetObject.
func (l *Lister) object(bucket, key string, size int64) ingest.Object {
	name := "s3://" + bucket + "/" + key
	return ingest.NewObject(name, size, func(ctx context.Context) (io.ReadCloser, error) {
		var out *awss3.GetObjectOutput
		err := l.inRegion(bucket, func(opts ...func(*awss3.Options)) (err error) {
			l.Counters.GetRequests.Add(1)
			out, err = l.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &key}, opts...)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("get s3 object %s: %w", name, describe(err, false))
		}
		return out.Body, nil
	})
}

// page makes one ListObjectsV2 request, waiting for a free slot first.
func (r *run) page(ctx context.Context, prefix, delimiter string, token *string) (*awss3.ListObjectsV2Output, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.sem }()
	in := &awss3.ListObjectsV2Input{Bucket: &r.bucket, Prefix: &prefix, ContinuationToken: token}
	if delimiter != "" {
		in.Delimiter = &delimiter
	}
	if r.l.maxKeys > 0 {
		in.MaxKeys = &r.l.maxKeys
	}
	var out *awss3.ListObjectsV2Output
	err := r.l.inRegion(r.bucket, func(opts ...func(*awss3.Options)) (err error) {
		r.l.Counters.ListRequests.Add(1)
		if r.l.onList != nil {
			r.l.onList(prefix, delimiter != "")
		}
		out, err = r.l.client.ListObjectsV2(ctx, in, opts...)
		return err
	})
	return out, err
}

// failed decides what a listing error means: the end of List when it is the
// location's first request (or the context is done), else an entry in the prefix's
// place so that the rest is still read.
func (r *run) failed(ctx context.Context, prefix string, err error, first bool) (entry, error) {
	if ctx.Err() != nil {
		return entry{}, ctx.Err()
	}
	if first {
		return entry{}, &fatalError{describe(err, true)}
	}
	return entry{key: prefix, size: -1, err: describe(err, false)}, nil
}

// keep reports whether a listed object is passed on: folder markers (keys ending in
// a slash, as the console creates) are not objects, and the date in a key can rule
// it out.
func (r *run) keep(key string) bool {
	if key == "" || strings.HasSuffix(key, "/") {
		return false
	}
	if !r.w.MayContain(key) {
		r.l.Counters.ObjectsPruned.Add(1)
		return false
	}
	return true
}

// flat lists every object below prefix, page by page, handing each to emit as it
// comes. top marks the location's own listing, whose first failure ends List.
func (r *run) flat(ctx context.Context, prefix string, top bool, emit func(entry) error) error {
	var token *string
	for first := true; ; first = false {
		out, err := r.page(ctx, prefix, "", token)
		if err != nil {
			e, err := r.failed(ctx, prefix, err, top && first)
			if err != nil {
				return err
			}
			return emit(e)
		}
		for _, o := range out.Contents {
			if key := aws.ToString(o.Key); r.keep(key) {
				if err := emit(entry{key: key, size: aws.ToInt64(o.Size)}); err != nil {
					return err
				}
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return nil
		}
		token = out.NextContinuationToken
	}
}

// walk lists prefix one level at a time (mode m, depth levels above AWSLogs/ below
// the location) and returns its entries in key order. Children are walked
// concurrently, each by the mode its own path calls for, unless the window rules
// them out.
func (r *run) walk(ctx context.Context, prefix string, m mode, depth int, top bool) ([]entry, error) {
	if m == modeFlat {
		var out []entry
		err := r.flat(ctx, prefix, top, func(e entry) error { out = append(out, e); return nil })
		return out, err
	}
	var (
		objects []types.Object
		dirs    []string
		tail    []entry // a failure after some pages succeeded
		token   *string
	)
	for first := true; ; first = false {
		out, err := r.page(ctx, prefix, "/", token)
		if err != nil {
			e, err := r.failed(ctx, prefix, err, top && first)
			if err != nil {
				return nil, err
			}
			tail = append(tail, e)
			break
		}
		objects = append(objects, out.Contents...)
		for _, p := range out.CommonPrefixes {
			dirs = append(dirs, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			break
		}
		token = out.NextContinuationToken
	}

	type child struct {
		prefix  string
		entries []entry
		err     error
	}
	var (
		children []*child
		wg       sync.WaitGroup
	)
	for _, d := range dirs {
		if !mayContainDir(r.w, d) {
			r.l.Counters.PrefixesPruned.Add(1)
			continue
		}
		c := &child{prefix: d}
		children = append(children, c)
		wg.Go(func() { c.entries, c.err = r.walk(ctx, d, classify(d, depth+1), depth+1, false) })
	}
	wg.Wait()

	// Merge objects and child folders by key: every key below a folder sorts
	// after the folder's name and before the next sibling, so this is key order.
	var out []entry
	i := 0
	for _, c := range children {
		if c.err != nil {
			return nil, c.err
		}
		for ; i < len(objects) && aws.ToString(objects[i].Key) < c.prefix; i++ {
			if key := aws.ToString(objects[i].Key); r.keep(key) {
				out = append(out, entry{key: key, size: aws.ToInt64(objects[i].Size)})
			}
		}
		out = append(out, c.entries...)
	}
	for ; i < len(objects); i++ {
		if key := aws.ToString(objects[i].Key); r.keep(key) {
			out = append(out, entry{key: key, size: aws.ToInt64(objects[i].Size)})
		}
	}
	return append(out, tail...), nil
}

// inRegion runs call signed for the bucket's region and, when S3 answers that the
// bucket lives in another region, remembers that region and runs call once more.
func (l *Lister) inRegion(bucket string, call func(opts ...func(*awss3.Options)) error) error {
	region := l.region
	if r, ok := l.regions.Load(bucket); ok {
		region = r.(string)
	}
	err := call(withRegion(region))
	if r := redirectRegion(err); r != "" && r != region {
		l.regions.Store(bucket, r)
		err = call(withRegion(r))
	}
	return err
}

func withRegion(region string) func(*awss3.Options) {
	return func(o *awss3.Options) { o.Region = region }
}
