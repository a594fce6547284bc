// Package ingest finds the log objects a user points vigil at — a file, a folder
// (recursively), a glob, standard input, and the S3 prefixes of later sources —
// opens them (gunzipping when the bytes say gzip, whatever the name), and reads them
// through decoders in parallel, one object per worker so that records keep their
// order within an object.
//
// Objects outside a time window are pruned by the dates in AWS's key layouts
// (…/YYYY/MM/DD/…, Hive-style year=/month=/day=, and the _YYYYMMDDTHHmmZ_ stamp in
// file names) before they are opened, so a narrow --since/--until never reads a
// day it does not need.
package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// Object is one unit of input: a file, an S3 object or standard input.
type Object struct {
	// Name is the path, "s3://bucket/key", or "-" for standard input.
	Name string
	// Size is the stored size in bytes, or -1 when unknown.
	Size int64
	open func(ctx context.Context) (io.ReadCloser, error)
	// header is the file's first line when the object is a later part of a split
	// file (see split.go).
	header []byte
	// file, for a part of a split file, is what its parts share (see
	// split.go); nil for a whole object.
	file *splitState
	// seq is the object's place in the Reader's list (decode.Input.Seq).
	seq int
}

// splitState is what the parts of a split file share, so that the file counts
// once in the totals.
type splitState struct {
	left   atomic.Int64 // parts not yet read
	failed atomic.Bool  // a part failed
}

// finished reports, when the object has been read, whether that finished a
// whole file: always for a whole object, for the last part read of a split
// file.
func (o Object) finished() bool { return o.file == nil || o.file.left.Add(-1) == 0 }

// firstFailure reports, when the object could not be read, whether that is
// its file's first failure: always for a whole object, for the first part
// that fails of a split file.
func (o Object) firstFailure() bool { return o.file == nil || !o.file.failed.Swap(true) }

// Open returns the object's stored bytes, still compressed if they are.
func (o Object) Open(ctx context.Context) (io.ReadCloser, error) { return o.open(ctx) }

// NewObject returns an object opened by open; sources use it.
func NewObject(name string, size int64, open func(ctx context.Context) (io.ReadCloser, error)) Object {
	return Object{Name: name, Size: size, open: open}
}

// gzipMagic starts every gzip member.
var gzipMagic = []byte{0x1f, 0x8b}

// Decompress returns r's content, gunzipped when it starts with the gzip magic
// number. Multi-member gzip (concatenated files, Firehose objects) reads as one
// stream.
func Decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(head) == 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1] {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read gzip header: %w", err)
		}
		return zr, nil
	}
	return br, nil
}
