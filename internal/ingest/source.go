package ingest

import (
	"context"

	"github.com/vigil-dev/vigil/internal/decode"
)

// Continuous sources (vigil serve) read input that never ends — a watched
// folder, polled S3 prefixes, a Firehose endpoint, standard input — and hand it
// to a Sink (the pipeline, internal/pipeline) chunk by chunk. Each source is a
// package of its own below ingest (watch, s3poll, firehose, stdin).
//
// A source's input is made of streams: a file, an S3 prefix, the Firehose
// endpoint's requests. A stream has a position, the source's own encoding of
// how far it has been read (an offset, a key); the sink commits positions with
// the findings the input before them produced, in one transaction, and gives
// them back after a restart (Resume).
//
// The contract that makes a restart lose nothing and count nothing twice:
//
//   - A chunk is the unit of commit. Lane.Chunk decodes it whole and records
//     the position after it; a commit covers a chunk entirely or not at all.
//     The decode function therefore reads bytes already in hand (or a stream
//     that cannot fail half-way) and must not stop early on its own account.
//   - After a restart the source reads each stream from Resume's Replay
//     position up to its Next position first — input already committed, which
//     rebuilds the detection state the crash lost; the sink drops the findings
//     it raises again — then calls ReplayDone, which waits for every other
//     source to get there too, and only then reads new input. A source that
//     cannot re-read (stdin, Firehose) calls ReplayDone at once.
//   - Detection state depends on the order records come in, so a source that
//     re-reads several streams reads them in event-time order, as they were
//     first read: one chunk at a time, each time from the stream ReplayFirst
//     names (a rotated file before its successor, a delivery that fills a gap
//     when the other streams get there).
//   - A stream whose position is nil is not checkpointed (stdin).

// Source is a continuous input. Run reads until ctx is cancelled (it then
// returns nil, having finished the chunk in hand) or, for a finite input such
// as stdin, until the input ends. It does not retry failures of its own:
// errors it cannot count and skip end Run, and the pipeline restarts it with
// backoff. Run is called once at a time.
type Source interface {
	Run(ctx context.Context, sink Sink) error
}

// Resume is where a checkpointed stream restarts.
type Resume struct {
	// Replay is where reading restarts: input from here on may still count in
	// open detection windows.
	Replay []byte
	// Next is where input not yet committed begins (Replay ≤ Next).
	Next []byte
}

// Sink receives what a source reads. Its methods are safe for concurrent use.
// Stream names are the source's own; the sink keeps each source's apart.
type Sink interface {
	// Resume returns where a stream restarts; ok is false for a stream with no
	// checkpoint.
	Resume(stream string) (r Resume, ok bool)
	// ReplayFirst returns which of the given streams, all being re-read,
	// gives the next chunk of the replay: the one whose re-read records have
	// reached the earliest event time (streams not being re-read come last).
	ReplayFirst(streams []string) string
	// Pending says whether the source has more of stream in hand than it has
	// read (a file longer than where its reading stopped, to give other files
	// their turn). While it has, detection waits for the stream's records
	// however long they take; a stream read to its end stops holding event
	// time back after a while without input (detect.Config.IdleAfter), so
	// that a finished file does not stop time for the others. A source that
	// never calls it has its streams taken as read to their end after each
	// chunk.
	Pending(stream string, more bool)
	// Streams lists the streams that have a checkpoint, so that a source can
	// tell the lost ones (a rotated file since deleted) and Forget them.
	Streams() []string
	// Fresh reports whether the source has never committed anything: its first
	// start, when it may choose to begin at the end of existing input.
	Fresh() bool
	// NewLane returns a way in for one reading goroutine.
	NewLane() Lane
	// ReplayDone says the source has re-read every stream to its Next
	// position. It blocks until every source has said so (or ctx ends).
	ReplayDone(ctx context.Context) error
	// Forget drops a stream's checkpoint from the next commit on.
	Forget(stream string)
	// WaitCommitted returns once a commit covering every chunk this source
	// handed in before the call has succeeded (Firehose answers its sender
	// then).
	WaitCommitted(ctx context.Context) error
	// Report counts and logs a problem with the input (not a bad record:
	// decoders report those through Chunk's decode function).
	Report(p decode.Problem)
}

// Lane is one reading goroutine's way into the sink. A lane is used by one
// goroutine at a time; make one per goroutine that reads concurrently. The
// chunks of one stream come one at a time, in stream order, whatever lanes
// carry them (detection keeps one event-time clock per stream).
type Lane interface {
	// Chunk decodes one chunk of stream: decode is called once and passes every
	// batch to emit (batches are copied by detection: the decoder may reuse
	// them) and problems to report, then returns the decoder's Stats. pos is
	// the stream's position after the chunk (nil: not checkpointed). The
	// context given to decode stays valid until the chunk is done even when
	// the source is being stopped, so that a chunk is never half-read. An error
	// from Chunk means the pipeline is stopping; the source returns.
	Chunk(stream string, pos []byte, decode func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error)) error
}
