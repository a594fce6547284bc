package export

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigil-dev/vigil/internal/notify"
)

// S3Putter is what the sink needs of an S3 client (*s3.Client is one).
type S3Putter interface {
	PutObject(ctx context.Context, in *awss3.PutObjectInput, opts ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
}

// Sink writes alerts as JSON-lines.gz objects in GuardDuty's export layout:
//
//	<prefix>AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<uuid>.jsonl.gz
//
// one object per account and region of a batch, dated by the day it is written
// (UTC). The UUID is derived from the alerts of the object (their outbox IDs and
// revisions), so a batch written again after a failure replaces its object. In
// a folder an object appears whole or not at all (written aside, then renamed).
// It implements notify.Notifier; it does not retry (the dispatcher does).
type Sink struct {
	format   Format
	opts     Options
	maxBatch int
	now      func() time.Time

	dir            string // a folder, or
	s3             S3Putter
	bucket, prefix string

	objects, bytes atomic.Int64
}

var _ notify.Notifier = (*Sink)(nil)

// MaxBatch implements notify.Notifier.
func (s *Sink) MaxBatch() int { return s.maxBatch }

// Send implements notify.Notifier.
func (s *Sink) Send(ctx context.Context, alerts []notify.Alert) error {
	type group struct {
		account, region string
		alerts          []*notify.Alert
	}
	var groups []*group
	byKey := map[string]*group{}
	for i := range alerts {
		f := &alerts[i].Finding
		key := f.AccountID + "\x00" + f.Region
		g := byKey[key]
		if g == nil {
			g = &group{account: f.AccountID, region: f.Region}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.alerts = append(g.alerts, &alerts[i])
	}
	day := s.now().UTC()
	for _, g := range groups {
		body, err := s.encode(g.alerts)
		if err != nil {
			return notify.Permanent(err)
		}
		name := ObjectKey(g.account, g.region, day, objectID(g.account, g.region, g.alerts))
		if err := s.put(ctx, name, body); err != nil {
			return err
		}
		s.objects.Add(1)
		s.bytes.Add(int64(len(body)))
	}
	return nil
}

// encode writes the alerts' findings, one record per line, gzipped.
func (s *Sink) encode(alerts []*notify.Alert) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, a := range alerts {
		act := Created
		if a.Kind == notify.KindUpdate {
			act = Updated
		}
		rec, err := Record(&a.Finding, s.format, s.opts, act)
		if err != nil {
			return nil, err
		}
		zw.Write(rec)
		zw.Write([]byte{'\n'})
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Sink) put(ctx context.Context, key string, body []byte) error {
	if s.s3 != nil {
		full := s.prefix + key
		_, err := s.s3.PutObject(ctx, &awss3.PutObjectInput{
			Bucket:      aws.String(s.bucket),
			Key:         aws.String(full),
			Body:        bytes.NewReader(body),
			ContentType: aws.String("application/gzip"),
		})
		if err != nil {
			return fmt.Errorf("write s3://%s/%s: %w", s.bucket, full, err)
		}
		return nil
	}
	full := filepath.Join(s.dir, filepath.FromSlash(key))
	if err := writeFileAtomic(full, body); err != nil {
		return fmt.Errorf("write %s: %w", full, err)
	}
	return nil
}

// writeFileAtomic writes data beside name and renames it into place, so that a
// reader never sees half an object.
func writeFileAtomic(name string, data []byte) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".export-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// ObjectKey is the key of an export object below the destination:
// AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<id>.jsonl.gz. Account and
// region come from findings, which come from logs: any character other than an
// ASCII letter, digit, '-' or '_' is written '_' (no '.', no '/'), so a key can
// never leave its folder.
func ObjectKey(account, region string, day time.Time, id string) string {
	day = day.UTC()
	return path.Join("AWSLogs", segment(account), "GuardDuty", segment(region),
		day.Format("2006"), day.Format("01"), day.Format("02"), id+".jsonl.gz")
}

func segment(s string) string {
	if s == "" {
		return "unknown"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	out := string(b)
	if len(out) > 128 {
		out = out[:128]
	}
	return out
}

// objectID names an object after its content: a UUID hashed from the group and
// its alerts' outbox IDs and revisions.
func objectID(account, region string, alerts []*notify.Alert) string {
	h := sha256.New()
	h.Write([]byte("vigil-export\x00" + account + "\x00" + region + "\x00"))
	var b [16]byte
	for _, a := range alerts {
		binary.BigEndian.PutUint64(b[:8], uint64(a.ID))
		binary.BigEndian.PutUint64(b[8:], uint64(a.Rev))
		h.Write(b[:])
	}
	return uuidOf(h.Sum(nil))
}
