// Package respond blocks attackers automatically: it turns findings into
// decisions — block this remote address or network, on these targets, until
// this time, because of this finding — and has targets enforce them: a
// blocklist served over HTTP and written to files, an nftables set on the
// local host, AWS network ACL entries, AWS WAF IP sets.
//
// # Decisions
//
// Rules the user writes (Config.Rules) decide: finding type patterns, a
// minimum severity and a "when" condition over the finding and one of its
// remote addresses ("severity >= 8 and remote is public"; see when.go). The
// remote addresses of a finding are those of
// service.action.networkConnectionAction.remoteIpDetails,
// portProbeAction.portProbeDetails[].remoteIpDetails and
// awsApiCallAction.remoteIpDetails (IPv4 and IPv6). Archived (suppressed) and
// sample findings are never acted on.
//
// Whatever a rule says, some addresses are never blocked (Stats.Skipped says
// how often, by reason, and the audit trail records each refusal): addresses
// on a trusted list (Deps.Trusted), private and special-purpose ranges (RFC
// 1918, loopback, link-local, CGNAT, multicast, documentation, IPv6 ULA, …:
// cidr.Specials), the estate's own public addresses (Deps.Estate: instance
// public IPs, Elastic IPs, NAT gateways), the user's allow list
// (Config.Allow), and networks wider than Config.WidestV4/WidestV6.
//
// Every decision expires. A repeat of the finding extends the decision (never
// shortens it). Decisions live in the store (store.Decisions), so a restart
// keeps them and expires them on time; every add, extension, removal, expiry,
// eviction and refusal is written to the audit trail in the same transaction.
// In dry-run mode (Config.DryRun, or a target's dry_run) rules only report:
// the would-be decisions are logged, counted and audited as "dry-run", and
// nothing is stored or blocked.
//
// # Targets and the loop
//
// Consider evaluates a finding and stores the decisions it makes; it does not
// wait for the targets. Run applies them: it collects changes for
// Config.BatchWindow and then calls each target once with the batch (removals
// first, then additions), expires decisions every Config.ExpiryInterval, and
// reconciles every target with the stored decisions at start and every
// Config.ReconcileInterval — and sooner, with backoff, after a target failed.
// A target with a capacity (the NACL rule range, the WAF IP set's 10,000) is
// never asked to hold more: when a new decision fills it, the decision that
// expires soonest is evicted first (AWS's sample replaces the oldest entry).
//
// # Concurrency and ownership
//
// Consider, Stats and the blocklist handler are safe for concurrent use, with
// each other and with Run. Run must be called once. Findings passed to
// Consider are read and not retained. Targets are called from Run's goroutine
// only, one call at a time; they do not retry (the SDK retries AWS throttling;
// the responder retries by reconciling). Cancelling Run's context stops the
// loop after one last attempt, bounded by a short timeout, to apply what is
// pending, so that decisions stored just before a shutdown are enforced by
// the next start's reconcile at the latest.
package respond
