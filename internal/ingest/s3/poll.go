package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigil-dev/vigil/internal/ingest"
)

// What the continuous S3 source (ingest/s3poll) needs beyond List: listing
// after a key, the folders below a prefix, and one object by key.

// ListedObject is one object of a listing.
type ListedObject struct {
	Key      string
	Size     int64
	Modified time.Time
}

// ListAfter lists the objects of bucket under prefix whose keys sort after
// startAfter, in key order, one page (up to 1,000 objects) at a time: fn gets
// each page and may stop the listing by returning false or an error. Folder
// markers (keys ending in "/") are left out.
func (l *Lister) ListAfter(ctx context.Context, bucket, prefix, startAfter string, fn func([]ListedObject) (bool, error)) error {
	var token *string
	for {
		in := &awss3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, ContinuationToken: token}
		if token == nil && startAfter != "" {
			in.StartAfter = &startAfter
		}
		if l.maxKeys > 0 {
			in.MaxKeys = &l.maxKeys
		}
		var out *awss3.ListObjectsV2Output
		err := l.inRegion(bucket, func(opts ...func(*awss3.Options)) (err error) {
			l.Counters.ListRequests.Add(1)
			out, err = l.client.ListObjectsV2(ctx, in, opts...)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, describe(err, token == nil))
		}
		page := make([]ListedObject, 0, len(out.Contents))
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			if key == "" || key[len(key)-1] == '/' {
				continue
			}
			page = append(page, ListedObject{Key: key, Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
		more, err := fn(page)
		if err != nil || !more || !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return err
		}
		token = out.NextContinuationToken
	}
}

// Folders returns the common prefixes one level below prefix ("a/b/" for
// prefix "a/"), in key order, and whether objects sit at that level too.
func (l *Lister) Folders(ctx context.Context, bucket, prefix string) (folders []string, objects bool, err error) {
	var token *string
	delim := "/"
	for {
		in := &awss3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, Delimiter: &delim, ContinuationToken: token}
		var out *awss3.ListObjectsV2Output
		err := l.inRegion(bucket, func(opts ...func(*awss3.Options)) (err error) {
			l.Counters.ListRequests.Add(1)
			out, err = l.client.ListObjectsV2(ctx, in, opts...)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, false, ctx.Err()
			}
			return nil, false, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, describe(err, token == nil))
		}
		for _, p := range out.CommonPrefixes {
			folders = append(folders, aws.ToString(p.Prefix))
		}
		for _, o := range out.Contents {
			if k := aws.ToString(o.Key); k != "" && k[len(k)-1] != '/' {
				objects = true
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return folders, objects, nil
		}
		token = out.NextContinuationToken
	}
}

// Object returns the object at key; its Open streams its body.
func (l *Lister) Object(bucket, key string, size int64) ingest.Object {
	return l.object(bucket, key, size)
}
