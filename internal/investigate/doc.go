// Package investigate answers an AWS abuse report: it reads the report, follows
// the reported public address to what owns it, finds in the VPC flow logs which
// internal source did what the report says, ranks the sources with a confidence
// and the reasons, and assembles the evidence, the findings of vigil's
// detections, the CloudWatch Logs Insights queries to check it in the console
// (with vigil's own answer), containment steps and a draft reply to AWS Trust &
// Safety. `vigil investigate` is its command line; docs/investigate.md its user
// documentation.
//
// # The model
//
//   - Report (report.go, email.go, timestamps.go, loglines.go, activity.go):
//     Parse reads a saved e-mail (RFC 5322, MIME multipart, quoted-printable,
//     base64, Latin-1, nested messages, text attachments, HTML-only bodies) or
//     pasted text, and returns what it could read — account, region, reported
//     addresses, kinds of activity, the log extract's lines with their times,
//     addresses and ports, the time window — and, as Missing, Problems and
//     Notes, what it could not read and what it assumed (a time zone, a year).
//     It never fails on bad input, only on empty input.
//   - Targets (investigate.go): each reported address is looked up in the
//     inventory: a NAT gateway (its private addresses and ENI), an instance's
//     public or Elastic IP, a load balancer, an unknown address.
//   - Analysis (analyze.go, sketch.go): the logs are read once over the window
//     plus a margin; every reading worker feeds its own analyzer, which keeps
//     per internal source counters and bounded sketches (distinct hosts and
//     ports, top ports and hosts, a timeline, a flow sample, the signatures of
//     NAT inside legs) — never records. The analyzers merge at the end.
//   - Ranking (rank.go): a score built from reported hosts contacted, share of
//     the reported traffic, ports, timing and behaviour; a stricter confidence
//     (high needs destination-level evidence and an egress path through the
//     reported address); the honest statements about coverage and gaps.
//   - Output (result.go, render.go, html.go, advice.go, queries.go): the
//     Result, rendered as Markdown, JSON or HTML; the queries; containment; the
//     reply.
//
// # Contracts
//
//   - New is inert; Run reads the logs once through Deps.Read and returns the
//     Result. Deps.Read calls emit from at most Config.Workers goroutines, one
//     worker never concurrently with itself (ingest.Reader's contract); batches
//     are not retained: the analyzers copy the few values they keep, the
//     detection engine and the query executors copy what they keep.
//   - Memory is bounded by Config: MaxSources sources, MaxSignatures NAT-leg
//     signatures (then sampled, counts scaled), fixed-size sketches, Sample flows
//     per source; never by the number of records. The report parser caps its
//     input (8 MB), lines, parts and lists.
//   - Cancelling Run's context stops the read; Run returns the context's error.
//     Nothing is retried: a file that cannot be read is the reader's to report.
//   - Determinism: the same logs give the same candidates, scores, counts and
//     timelines whatever the order workers read files in, except for sampled
//     counts past the budgets and for which one-off hosts fill the top-hosts
//     list of a source with more destinations than the counter holds (its
//     counts there are guaranteed lower bounds).
//   - Output never trusts its input: Markdown escapes text and puts log lines in
//     fences longer than any backtick run in them, HTML goes through
//     html/template, commands quote identifiers for a shell and are never run.
package investigate
