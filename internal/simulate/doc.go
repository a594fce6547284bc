// Package simulate writes a realistic, labelled and deterministic corpus of AWS
// logs: VPC Flow Logs, Route 53 Resolver query logs and CloudTrail, in the exact
// record formats and S3 key layouts AWS delivers (or one flat file per stream),
// with the inventory of the estate that produced them as the AWS CLI prints it,
// and labels.json: the GuardDuty findings the corpus must raise and those it
// must not. vigil's demo, detector tests, query-engine benchmarks and the
// abuse-report investigator run on it; docs/simulate.md describes it for users.
//
// The model, in the order the code builds it:
//
//   - The estate (estate.go, identity.go): two accounts, a VPC each, subnets,
//     instances by role, NAT gateways with Elastic IPs, IAM users and roles. The
//     topology is fixed; identifiers and public addresses come from the seed.
//   - The internet (internet.go): random public hosts, and the named services
//     instances talk to, whose addresses the resolver hands out and the flow
//     logs then show.
//   - Background traffic (background.go, dnsbackground.go, ctbackground.go):
//     what each VPC and account does all day.
//   - Scenarios (scenario*.go, lookalikes.go): attacks modelled on AWS's
//     GuardDuty tester and benign look-alikes, each placed at a fixed point of
//     the window and labelled (labels.go).
//   - Connections (conn.go) turn "this client talked to that server" into the
//     flow records AWS writes on every interface involved, including both legs
//     of the NAT gateway.
//   - Output (flowformat.go, dns.go, cloudtrail.go, inventory.go, output.go):
//     the record formats, the files, the key layout; abusereport.go writes the
//     AWS abuse e-mail about the NAT-abuse scenarios, built from their records.
//
// Budgets. The number of flow records is exact: scenarios write their fixed
// shapes, and background fills the rest, spread over periods, flow logs and
// aggregation windows with exact integer shares (simulator.go).
//
// Determinism. Every random choice comes from rng (rand.go), derived from the
// seed and the identity of the file or scenario being generated, so the same
// Config always gives the same bytes whatever the order or parallelism of the
// work. Nothing reads the clock or iterates a map to produce output.
//
// Performance. Each file of the S3 layout is an independent unit that a worker
// generates, formats and compresses in one stream; memory does not depend on the
// number of records. Formatting is done by hand, without fmt or reflection.
package simulate
