// Package inventory knows what the estate is made of: the EC2 instances, elastic
// network interfaces (ENIs), NAT gateways and Elastic IPs of every account and region
// the user describes, and which of them owns a given IP address or ENI.
//
// Detections need it to blame the right resource: a flow log names an ENI and two
// addresses, and a finding must say "instance i-0abc (web-1, ami-…, subnet-…)". Investigations need
// it to answer an abuse report ("your 198.51.100.50 is port scanning") by following
// the public address to the NAT gateway and from there to the private hosts behind it.
// Responders need IsOwnPublicIP so that they never block the estate's own addresses,
// and the credential-exfiltration detection needs InstanceEgressIPs to tell an
// instance's own traffic from a thief's.
//
// # Input
//
// Users give vigil the JSON the AWS CLI prints, so that no AWS credentials or SDK are
// needed: `aws ec2 describe-instances`, `describe-network-interfaces`,
// `describe-nat-gateways` and `describe-addresses`, one file per command or several
// commands' keys in one object, with or without a NextToken, for any number of
// accounts and regions. Load reads files and folders (recursively, *.json) and tells a
// file's content by its top-level key. Every file is hostile until decoded: a bad
// entry, a bad address or a wrong shape becomes a Warning naming the file and the JSON
// path, and everything good around it is still loaded.
//
// # Merging
//
// One resource is often described several times: an ENI appears inside
// describe-instances and again in describe-network-interfaces, and two snapshots of
// the same account overlap. Resources merge by their id (instance id, ENI id, NAT
// gateway id; an Elastic IP by its address): for each field a non-empty value from a
// later file replaces an earlier one, and address lists are unioned. The union is
// deliberate: an address the estate held in any snapshot stays "own", which is the
// safe side for a responder that must never block it.
//
// # Concurrency
//
// An Inventory is immutable once built; every method is safe for concurrent use, and
// the pointers it returns must be treated as read-only.
package inventory
