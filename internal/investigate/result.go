package investigate

import (
	"net/netip"
	"time"
)

// Result is the answer to an abuse report: what the reported address is, who
// behind it did what the report says (ranked, with confidence and evidence),
// what else vigil's detections saw, how to check it in the AWS console, what to
// do and what to reply. Every field renders as Markdown, JSON or HTML.
type Result struct {
	Report *Report `json:"report,omitempty"`
	// Kind is the activity investigated (the report's, or --activity).
	Kind Kind `json:"kind"`
	// Window is the reported activity's time; ReadWindow adds the margin and is
	// what the logs were read over.
	Window     TimeRange `json:"window"`
	ReadWindow TimeRange `json:"readWindow"`
	// Targets are the reported public addresses and what owns them.
	Targets []Target `json:"targets"`
	// Verdict is the answer in one paragraph; Confidence the confidence of the
	// first candidate ("none" when nobody is named).
	Verdict    string `json:"verdict"`
	Confidence string `json:"confidence"`
	// Candidates are the internal sources, best explanation first.
	Candidates []Candidate `json:"candidates"`
	// ReportedTraffic is what the logs show reaching the reported hosts from the
	// reported address (the NAT gateway's outside legs).
	ReportedTraffic ReportedTraffic `json:"reportedTraffic"`
	Coverage        Coverage        `json:"coverage"`
	// Findings are what vigil's detections raise on the same logs and window.
	Findings []FindingSummary `json:"findings"`
	// FindingsTotal counts all findings in the window (Findings may be cut).
	FindingsTotal int            `json:"findingsTotal"`
	Queries       []InsightQuery `json:"queries"`
	Containment   []Step         `json:"containment"`
	Reply         string         `json:"reply"`
	// Statements are the honest caveats: logs that do not cover the window, no
	// flow log on the NAT's interface, nothing that matches.
	Statements []string  `json:"statements"`
	Stats      ReadStats `json:"stats"`
}

// Target is a reported address and its owner.
type Target struct {
	IP netip.Addr `json:"ip"`
	// Kind is nat-gateway, instance, load-balancer, vpc-endpoint, interface, eip
	// or unknown.
	Kind      string `json:"kind"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Region    string `json:"region,omitempty"`
	VPCID     string `json:"vpcId,omitempty"`
	SubnetID  string `json:"subnetId,omitempty"`
	// PrivateIPs are the owner's private addresses (a NAT gateway's are what the
	// flow logs show for the traffic it translates); Interfaces its ENIs.
	PrivateIPs []netip.Addr `json:"privateIps,omitempty"`
	Interfaces []string     `json:"interfaces,omitempty"`
	Note       string       `json:"note,omitempty"`
}

// Candidate is an internal source that may be behind the reported activity.
type Candidate struct {
	Rank int        `json:"rank"`
	Addr netip.Addr `json:"address"`
	// Confidence is high, medium or low; Score (0–100) orders candidates.
	Confidence string   `json:"confidence"`
	Score      float64  `json:"score"`
	Reasons    []string `json:"reasons"`
	// Instance is the inventory's description of the source, when known.
	Instance  *InstanceInfo `json:"instance,omitempty"`
	Interface string        `json:"interface,omitempty"`
	Evidence  Evidence      `json:"evidence"`
}

// InstanceInfo is what the inventory says about an instance.
type InstanceInfo struct {
	ID             string       `json:"id"`
	Name           string       `json:"name,omitempty"`
	ImageID        string       `json:"imageId,omitempty"`
	InstanceType   string       `json:"instanceType,omitempty"`
	State          string       `json:"state,omitempty"`
	LaunchTime     time.Time    `json:"launchTime,omitzero"`
	AccountID      string       `json:"accountId,omitempty"`
	Region         string       `json:"region,omitempty"`
	VPCID          string       `json:"vpcId,omitempty"`
	SubnetID       string       `json:"subnetId,omitempty"`
	PrivateIPs     []netip.Addr `json:"privateIps,omitempty"`
	PublicIPs      []netip.Addr `json:"publicIps,omitempty"`
	EgressIPs      []netip.Addr `json:"egressIps,omitempty"`
	SecurityGroups []string     `json:"securityGroups,omitempty"`
	IAMRole        string       `json:"iamInstanceProfile,omitempty"`
	Platform       string       `json:"platform,omitempty"`
	Interfaces     []string     `json:"interfaces,omitempty"`
}

// Evidence is what the logs show for one candidate.
type Evidence struct {
	// Records is the number of its flow records towards the internet, in the
	// larger of the two views (its own interface, the NAT's inside leg).
	Records    int64 `json:"records"`
	OwnRecords int64 `json:"ownInterfaceRecords"`
	InsideLegs int64 `json:"natInsideLegs"`
	Packets    int64 `json:"packets"`
	Bytes      int64 `json:"bytes"`
	// ToReported is its records to reported hosts: the larger of those seen on
	// its own interface and those seen in NAT inside legs (directly, or paired
	// with outside legs).
	ToReported   int64 `json:"toReportedHosts"`
	Matched      int64 `json:"matchedRecords"`    // to reported hosts, seen directly
	Correlated   int64 `json:"correlatedRecords"` // inside legs matched to outside legs to reported hosts
	PortRecords  int64 `json:"reportedPortRecords"`
	ReportedHost int   `json:"reportedHostsContacted"`
	// ReportedHosts are the reported hosts it contacted.
	ReportedHosts  []netip.Addr `json:"reportedHosts,omitempty"`
	DistinctHosts  int64        `json:"distinctHosts"`
	DistinctPorts  int64        `json:"distinctPorts"`
	DistinctApprox bool         `json:"distinctApprox,omitempty"`
	TimesExplained int          `json:"reportTimesExplained"`
	TimesInReport  int          `json:"reportTimes"`
	First          time.Time    `json:"first,omitzero"`
	Last           time.Time    `json:"last,omitzero"`
	MatchFirst     time.Time    `json:"matchFirst,omitzero"`
	MatchLast      time.Time    `json:"matchLast,omitzero"`
	TopPorts       []PortCount  `json:"topPorts,omitempty"`
	TopHosts       []HostCount  `json:"topHosts,omitempty"`
	Timeline       []Minute     `json:"timeline,omitempty"`
	TimelineStep   string       `json:"timelineStep,omitempty"`
	Sample         []FlowRecord `json:"sample,omitempty"`
	EgressMismatch string       `json:"egressMismatch,omitempty"`
}

// HostCount is a destination host and its records.
type HostCount struct {
	Host     netip.Addr `json:"host"`
	Count    int64      `json:"count"`
	Reported bool       `json:"reported,omitempty"`
}

// Minute is one bucket of a candidate's timeline: its records to reported hosts
// and on reported ports.
type Minute struct {
	Time        time.Time `json:"time"`
	Matched     int32     `json:"matched"`
	PortRecords int32     `json:"reportedPort"`
	Reported    int32     `json:"reportedTraffic"` // what the NAT sent to reported hosts then
}

// FlowRecord is a flow record kept as evidence.
type FlowRecord struct {
	Why       string     `json:"why"` // reported host, reported port, other
	View      string     `json:"view"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Interface string     `json:"interface,omitempty"`
	Src       netip.Addr `json:"src"`
	SrcPort   uint16     `json:"srcPort"`
	Dst       netip.Addr `json:"dst"`
	DstPort   uint16     `json:"dstPort"`
	PktDst    netip.Addr `json:"pktDst,omitzero"`
	Protocol  string     `json:"protocol"`
	Packets   int64      `json:"packets"`
	Bytes     int64      `json:"bytes"`
	Action    string     `json:"action"`
	Raw       string     `json:"raw,omitempty"`
}

// ReportedTraffic is what left the reported address for the reported hosts.
type ReportedTraffic struct {
	Records        int64        `json:"records"`
	ByPortRecords  int64        `json:"recordsBySourcePort"`
	HostsSeen      []netip.Addr `json:"hostsSeen,omitempty"`
	HostsNotSeen   []netip.Addr `json:"hostsNotSeen,omitempty"`
	PortHosts      []HostCount  `json:"hostsBySourcePort,omitempty"`
	Sample         []FlowRecord `json:"sample,omitempty"`
	NATOutsideLegs int64        `json:"natOutsideLegs"`
}

// Coverage says how well the logs cover the window.
type Coverage struct {
	// FlowRecords read in the read window; Minutes of the reported window with
	// flow records, of MinutesTotal.
	FlowRecords  int64 `json:"flowRecords"`
	Minutes      int   `json:"minutesCovered"`
	MinutesTotal int   `json:"minutesTotal"`
	NATMinutes   int   `json:"natMinutesCovered"`
	NATRecords   int64 `json:"natRecords"`
	InsideLegs   int64 `json:"natInsideLegs"`
	// InsidePktDst counts inside legs carrying pkt-dstaddr (custom formats).
	InsidePktDst int64       `json:"natInsideLegsWithPktDstaddr"`
	LogsFrom     time.Time   `json:"logsFrom,omitzero"` // earliest and latest record start read
	LogsUntil    time.Time   `json:"logsUntil,omitzero"`
	Gaps         []TimeRange `json:"gaps,omitempty"`
	// SourcesDropped counts records of sources beyond the MaxSources cap.
	SourcesDropped int64 `json:"recordsOfSourcesOverCap,omitempty"`
}

// FindingSummary is one finding of vigil's detections.
type FindingSummary struct {
	Type      string    `json:"type"`
	Severity  string    `json:"severity"`
	Resource  string    `json:"resource"`
	Title     string    `json:"title"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	Count     int64     `json:"count"`
	// Candidate is the rank of the candidate the finding is about, 0 if none.
	Candidate int `json:"candidate,omitempty"`
}

// InsightQuery is a CloudWatch Logs Insights query a user can run in the console,
// with the answer vigil's query engine gives on the same logs.
type InsightQuery struct {
	Title    string     `json:"title"`
	Why      string     `json:"why"`
	Query    string     `json:"query"`
	Columns  []string   `json:"columns,omitempty"`
	Rows     [][]string `json:"rows,omitempty"`
	Total    int64      `json:"totalRows"`
	Error    string     `json:"error,omitempty"`
	Warnings []string   `json:"warnings,omitempty"`
}

// Step is one containment or follow-up step.
type Step struct {
	Title    string   `json:"title"`
	Why      string   `json:"why,omitempty"`
	Commands []string `json:"commands,omitempty"`
}

// ReadStats says what was read.
type ReadStats struct {
	Records      int64   `json:"records"`
	Objects      int64   `json:"objects"`
	Pruned       int64   `json:"objectsPruned"`
	Failed       int64   `json:"objectsFailed"`
	Skipped      int64   `json:"recordsSkipped"`
	Seconds      float64 `json:"seconds"`
	DetectionsOn bool    `json:"detections"`
}
