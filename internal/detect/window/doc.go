// Package window holds the per-entity state of vigil's detections: windowed
// counters, distinct-value sets that turn into sketches, leaky buckets, and the
// keyed Table that holds one state per entity with a hard cap on memory.
//
// # Event time
//
// Every primitive is driven by the event time the caller passes in, an int64 of
// Unix milliseconds (the unit of record.Record.Timestamp), never by the wall
// clock. Replaying a day of logs from S3 therefore gives the same counts, the same
// overflows and the same evictions as tailing them live, and the same input in the
// same order gives the same results.
//
// Time only moves forward inside a primitive: each keeps the latest time it has
// seen. An event a little older than that (out of order within the window) is
// counted where it belongs; one older than the window is dropped and Add reports
// it. Reads (Sum, Count, Level) describe the state as of the latest time seen; a
// caller that wants the state at a later time without a new event calls Advance.
//
// Windows are aligned to the epoch (a one-minute window runs from :00 to :00), not
// to the first event, so two keys, two runs or two nodes agree on boundaries.
//
// # Memory
//
// Memory is a function of the configuration and of the number of keys, never of
// the input size:
//
//   - Counter: 64 bytes plus 16 per sub-bucket, whatever the rate.
//   - DistinctSet: 88 bytes plus an exact open-addressing set of at most
//     ExactLimit values (9 bytes a slot, at most half full: at most 36 bytes per
//     value of the limit), or, above the limit, a HyperLogLog sketch of 2^Precision
//     one-byte registers per generation (two for a windowed set) plus 608 bytes.
//     DistinctConfig.MaxBytes gives the bound.
//   - LeakyBucket: 32 bytes.
//   - Table: a cap on keys (MaxKeys); each key costs its key and state plus 24
//     bytes of links and times, and 8 to 32 bytes of index. At the cap the coldest
//     key is evicted, so an attacker spraying spoofed sources replaces cold keys
//     instead of adding them.
//
// So the bound of a detector's state is MaxKeys × (per-key state bound + overhead),
// set by configuration; the package tests measure it under a 5-million-source spray.
//
// # Concurrency
//
// Nothing here is safe for concurrent use and nothing starts a goroutine or takes
// a lock. Each Table (and the states in it) has one owner goroutine, typically the
// detection engine's shard worker for the entities routed to it; sharding by
// entity key, not locking, is how detection scales across cores.
package window
