// Package finding is vigil's finding model: a Finding whose JSON is GuardDuty's
// finding JSON (schema 2.0), the catalogue of finding Types vigil raises with their
// GuardDuty severities, the identity rules that aggregate repeats into one finding,
// and Merge, which folds a repeat into the finding it repeats.
//
// # Model
//
// A Finding marshals to exactly the JSON GuardDuty exports (camelCase keys,
// ISO-8601 UTC timestamps with milliseconds, severity as a number, omitted keys
// where GuardDuty omits them), so dashboards, SOAR playbooks and Slack integrations
// written for GuardDuty read vigil's findings unchanged. vigil adds one top-level
// key, vigilEvidence: a bounded sample of the log records that triggered the
// finding (see EvidenceRecord). GuardDuty consumers ignore keys they do not know;
// users see why vigil concluded what it did. Small vigil annotations (the rule that
// fired, its threshold) go under service.additionalInfo with keys prefixed "vigil"
// (KeyVigilRule and friends).
//
// Times in a Finding are Time values: Unix milliseconds of event time, the same
// unit as record.Record.Timestamp. When logs are replayed, createdAt and updatedAt
// are the event-time clock of the replay, not the wall clock, so a replay gives
// byte-identical findings.
//
// # Identity
//
// GuardDuty does not publish how it aggregates repeats. vigil's rule is the
// Fingerprint of a finding:
//
//	type + accountId + region + resource id + resourceRole + action key
//
// where
//
//   - resource id is, by resource type: Instance → instanceId, else the first
//     network interface's networkInterfaceId, else its privateIpAddress;
//     AccessKey → accessKeyId, else principalId, else userName; S3Bucket → the
//     first s3BucketDetails name, else the access key's id as for AccessKey
//     (account-level S3 findings have no bucket);
//   - action key is chosen per type (TypeInfo.Key); the default per action type is
//     the remote IP for NETWORK_CONNECTION, the probed local port (first probe
//     detail) for PORT_PROBE, the queried domain for DNS_REQUEST and
//     serviceName/api for AWS_API_CALL. Types whose activity is spread over many
//     values by nature use a coarser key: Impact:EC2/PortSweep,
//     Backdoor:EC2/Spambot and Behavior:EC2/NetworkPortUnusual key on the remote
//     port; Trojan:EC2/DNSDataExfiltration on domainWithSuffix;
//     Trojan:EC2/DGADomainRequest.B and UnauthorizedAccess:EC2/TorRelay on nothing
//     (one finding per instance); and the IAM types about a bad caller
//     (Recon:IAMUser/… and UnauthorizedAccess:IAMUser/…IPCaller, PenTest:IAMUser/*,
//     …InstanceCredentialExfiltration.*) on the caller's remote IP, whatever API it
//     calls. TestActionKeysAsDocumented pins this list.
//
// Values are normalised before hashing: IP addresses are re-printed in canonical
// form, domains are lower-cased without the trailing dot. So a repeated SSH
// brute force from one address against one instance is one finding whose count
// grows, and the same attack from a second address is a second finding.
//
// The finding ID is the first 128 bits of SHA-256 over a versioned, length-prefixed
// encoding of the fingerprint, as 32 lowercase hex characters: stable across runs,
// machines and versions of vigil that keep fingerprint version 1. The ARN is built as
// GuardDuty builds it, arn:<partition>:guardduty:<region>:<account>:detector/<detectorId>/finding/<id>,
// with a configured detector ID or one derived from the account (DetectorID).
//
// # Aggregation
//
// Merge folds a repeat into an existing finding: count adds, eventFirstSeen is the
// minimum, eventLastSeen the maximum, updatedAt the merge time, severity the
// maximum; the detail fields (action, resource details, title, description, threat
// intelligence) are overwritten by the repeat if its activity is at least as recent,
// as GuardDuty does; additionalInfo numbers are summed or re-derived per key
// (AdditionalInfoMergeOp); the evidence sample stays bounded (MaxEvidence). The same
// findings merged in the same order give byte-identical JSON.
package finding
