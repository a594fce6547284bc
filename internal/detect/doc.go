// Package detect is vigil's detection engine: it runs detections over flow,
// DNS and CloudTrail records in event time and raises GuardDuty findings.
//
// # Detections as data
//
// Every detection is a rule file (rules/*.yaml, embedded in the binary; users add
// and override rules from folders, LoadRules). A threshold rule says, in the
// rule file alone, which records count (a filter in the Logs Insights
// expression language, the syntax of queries and suppression rules), how they
// group (fields), over which window, what threshold raises a finding (a count,
// a distinct count of a field, a sum of a field) and which finding (type, the
// resources it names and their roles and severities). What a rule cannot say —
// entropy of DNS names, one-way floods, threat lists, policy documents,
// baselines — is a Go detector (det_*.go) named by the rule's `detector:` key;
// it has the same surface (id, enabled, filter, window) plus typed params whose
// defaults are in its rule file. A rule file is decoded strictly: an unknown
// key, a bad value, a filter that does not parse or names a field the records
// lack, a finding type not in the catalogue is refused with file:line:col
// (PosError), errors inside a filter mapped from the expression to the file.
//
// # Model
//
// Process derives, once per record of a decode batch, a view of what every
// detection shares: for flows, the packet-level addresses (pkt-srcaddr/
// pkt-dstaddr: the real ends of NAT'd traffic), which end is the logged
// interface's own, whether the record is the connection's requesting side, and
// address classes (internal, public). NAT gateway interfaces (from the
// inventory, or, without one, records with pkt-* fields but no instance-id) are
// never blamed: their inside leg, re-addressed, is about the instance behind
// the gateway; their outside leg is dropped (Stats.Skipped).
//
// Each enabled detection then routes the record (route: filter, then the group
// key, a 128-bit hash of the account and the group's values). For flows the
// router first consults a table, built once from each detection's gate (what
// its route surely turns away: replies, protocols, ports, address classes), of
// the detections a record's class and protocol can concern, and calls only
// those; flow filters run compiled to direct field tests, and a conjunct that
// several rules share runs once per record (gate.go, flowfilter.go). The key
// picks one of Config.Shards workers, so every record of a key reaches the one
// goroutine that owns the key's state: no lock on the hot path. A shard keeps
// each detection's state in a window.Table capped at Config.MaxKeys over all
// shards; at the cap the coldest key is evicted (segmented LRU: a flood of keys
// seen once only evicts keys seen once), and RuleStats.Evicted counts it.
// Memory is a function of the configuration, not of the input.
//
// Windows run on event time (record timestamps), never the wall clock. The
// watermark of a kind is the earliest clock among the input streams currently
// reading that kind, less Config.Lateness; a stream's clock restarts with each
// object it reads, so an input listed out of time order (one account's day,
// then another's) does not look late. Keys idle past the watermark for their
// TTL expire (RuleStats.Expired). A group whose count reaches the threshold
// opens an occurrence; the occurrence follows the group's activity and is raised
// as a finding when the activity has been quiet for a window past the watermark,
// or at eviction, expiry or Close. So one burst is one occurrence whose numbers
// (ports, attempts, bytes) cover the whole burst, and replaying a day gives the
// findings tailing it live gives. Repeated occurrences of one issue aggregate
// into one finding (finding.FingerprintOf, finding.Merge), with a count. In
// live mode with Config.RaiseAtThreshold an occurrence is also raised when it
// opens, and its close raises only the rest, as a continuation (early.go).
//
// # Contracts
//
//   - New is inert: it builds the detections, starts nothing. Start starts the
//     shard workers and the collector; Close flushes every open window, stops
//     them and returns the findings. Process is valid between Start and Close.
//   - Batches: Process never writes the caller's batch and keeps nothing that
//     points into it: the records a detection takes are copied, with their
//     views and raw text, into slabs of their router, reused once every shard
//     is done with them. The caller may reuse the batch and everything its
//     records alias as soon as Process returns (the decode.Decoder contract).
//     Detections keep only copies of what they report (strings of typed
//     records are heap strings; raw text is copied into evidence).
//   - Concurrency: calls to Process with different src may run concurrently
//     (ingest.Reader's emit contract: one src per reading worker); calls with
//     one src must not overlap. Process blocks while a shard's queue
//     (Config.QueueBatches) is full: back-pressure, never an unbounded buffer.
//     Deps.OnFinding runs on one collector goroutine.
//   - Cancellation: when Start's context is cancelled, workers drop what is
//     queued, Process returns the context's cause, and Close returns the
//     findings raised until then with that cause.
//   - Determinism: Close sorts findings by first seen, type and resource, after
//     merging occurrences in a fixed order. Fed the same records in the same
//     order, the output is byte-identical whatever the number of shards.
//     Several readers interleave their objects differently from run to run,
//     and over large inputs that changes findings (a window drops an event
//     older than itself behind its key's latest; keys expire behind the
//     slowest reader). With Config.Ordered (vigil scan) the shards get every
//     record in the inputs' order (decode.Input.Seq) whatever the readers do,
//     so the findings (identity, resource, first and last seen, count,
//     severity) are those of one reader; the caller reports each input read
//     (Done), and routed chunks wait for their input's turn, a bounded number
//     of them (order.go).
//   - Bad records: a record lacking a field a rule groups or counts by is
//     skipped by that rule and counted (RuleStats.Missing); a record no
//     detection can use (NODATA, a NAT gateway's outside leg) is counted in
//     Stats.Skipped. Nothing in a record can stop the engine.
//
// The script runner for detections is package detecttest; docs/detections.md
// documents every detection, its thresholds and what it does not flag.
package detect
