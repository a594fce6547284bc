package record

import (
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// Flow is one VPC Flow Logs record: one unidirectional IP flow seen on one network
// interface within one aggregation window. Fields a record does not have (a '-'
// placeholder, a field absent from the log's format) are unset in Present; their
// struct members hold zero values that must not be read as data.
type Flow struct {
	Present FieldSet

	Version     int32
	AccountID   string
	InterfaceID string
	SrcAddr     netip.Addr
	DstAddr     netip.Addr
	SrcPort     uint16
	DstPort     uint16
	Protocol    uint8
	Packets     int64
	Bytes       int64
	Start       int64 // Unix seconds of the first packet in the window
	End         int64 // Unix seconds of the last packet in the window
	Action      Action
	LogStatus   LogStatus

	VPCID      string
	SubnetID   string
	InstanceID string
	TCPFlags   uint16
	Type       string // IPv4, IPv6 or EFA
	PktSrcAddr netip.Addr
	PktDstAddr netip.Addr

	Region          string
	AZID            string
	SublocationType string
	SublocationID   string

	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    Direction
	TrafficPath      uint8

	ECS          ECSDetails
	TGW          TransitGatewayDetails
	RejectReason string

	// Extra holds fields a header named that vigil does not know, as text.
	Extra []ExtraField

	// Raw is the record's original line. It aliases the decoder's buffer: it is
	// valid only as long as the batch that carried the record.
	Raw []byte
	// Stream names where the record came from (file or object key): @logStream.
	Stream string
}

// ECSDetails are the version 7 fields, set for traffic of ECS tasks.
type ECSDetails struct {
	ClusterARN, ClusterName                   string
	ContainerInstanceARN, ContainerInstanceID string
	ContainerID, SecondContainerID            string
	ServiceName, TaskDefinitionARN            string
	TaskARN, TaskID                           string
}

// TransitGatewayDetails are the version 6 fields of Transit Gateway flow logs.
type TransitGatewayDetails struct {
	ResourceType, ID, AttachmentID, PairAttachmentID string
	SrcVPCAccountID, DstVPCAccountID                 string
	SrcVPCID, DstVPCID, SrcSubnetID, DstSubnetID     string
	SrcENI, DstENI, SrcAZID, DstAZID                 string
	PacketsLostNoRoute, PacketsLostBlackhole         int64
	PacketsLostMTUExceeded, PacketsLostTTLExpired    int64
}

// ExtraField is a field a flow-log header named that is not in the catalogue.
type ExtraField struct {
	Name, Value string
}

// Action is the flow's action field.
type Action uint8

// The actions.
const (
	ActionUnknown Action = iota
	ActionAccept
	ActionReject
)

// ParseAction returns the action an action field's text names:
// ActionUnknown for anything but ACCEPT and REJECT.
func ParseAction(s string) Action {
	switch s {
	case "ACCEPT":
		return ActionAccept
	case "REJECT":
		return ActionReject
	}
	return ActionUnknown
}

func (a Action) String() string {
	switch a {
	case ActionAccept:
		return "ACCEPT"
	case ActionReject:
		return "REJECT"
	}
	return "-"
}

// LogStatus is the flow's log-status field.
type LogStatus uint8

// The log statuses.
const (
	LogStatusUnknown LogStatus = iota
	LogStatusOK
	LogStatusNoData
	LogStatusSkipData
)

func (s LogStatus) String() string {
	switch s {
	case LogStatusOK:
		return "OK"
	case LogStatusNoData:
		return "NODATA"
	case LogStatusSkipData:
		return "SKIPDATA"
	}
	return "-"
}

// Direction is the flow-direction field, relative to the interface.
type Direction uint8

// The directions.
const (
	DirectionUnknown Direction = iota
	DirectionIngress
	DirectionEgress
)

func (d Direction) String() string {
	switch d {
	case DirectionIngress:
		return "ingress"
	case DirectionEgress:
		return "egress"
	}
	return "-"
}

// FieldSet is a set of FieldIDs of one kind (at most 64).
type FieldSet uint64

// Has reports whether id is in the set.
func (s FieldSet) Has(id FieldID) bool { return s&(1<<id) != 0 }

// Add returns the set with id added.
func (s FieldSet) Add(id FieldID) FieldSet { return s | 1<<id }

// The flow fields, in the order of the catalogue. The order of versions 2–5 follows
// AWS's field table.
const (
	FlowVersion FieldID = iota
	FlowAccountID
	FlowInterfaceID
	FlowSrcAddr
	FlowDstAddr
	FlowSrcPort
	FlowDstPort
	FlowProtocol
	FlowPackets
	FlowBytes
	FlowStart
	FlowEnd
	FlowAction
	FlowLogStatus
	FlowVPCID
	FlowSubnetID
	FlowInstanceID
	FlowTCPFlags
	FlowType
	FlowPktSrcAddr
	FlowPktDstAddr
	FlowRegion
	FlowAZID
	FlowSublocationType
	FlowSublocationID
	FlowPktSrcAWSService
	FlowPktDstAWSService
	FlowFlowDirection
	FlowTrafficPath
	FlowECSClusterARN
	FlowECSClusterName
	FlowECSContainerInstanceARN
	FlowECSContainerInstanceID
	FlowECSContainerID
	FlowECSSecondContainerID
	FlowECSServiceName
	FlowECSTaskDefinitionARN
	FlowECSTaskARN
	FlowECSTaskID
	FlowRejectReason
	FlowTGWResourceType
	FlowTGWID
	FlowTGWAttachmentID
	FlowTGWSrcVPCAccountID
	FlowTGWDstVPCAccountID
	FlowTGWSrcVPCID
	FlowTGWDstVPCID
	FlowTGWSrcSubnetID
	FlowTGWDstSubnetID
	FlowTGWSrcENI
	FlowTGWDstENI
	FlowTGWSrcAZID
	FlowTGWDstAZID
	FlowTGWPairAttachmentID
	FlowPacketsLostNoRoute
	FlowPacketsLostBlackhole
	FlowPacketsLostMTUExceeded
	FlowPacketsLostTTLExpired
	// System fields, computed from the record rather than read from the log.
	FlowTimestamp // @timestamp: Start in milliseconds
	FlowMessage   // @message: the raw line
	FlowLogStream // @logStream: the interface id, as in CloudWatch Logs
	numFlowFields
)

func flowField(id FieldID, name, logName string, t Type, version int, doc string) Field {
	return Field{ID: id, Name: name, LogName: logName, Type: t, Version: version, Doc: doc}
}

// FlowCatalogue lists the flow fields under their Logs Insights names (lowerCamelCase
// of the hyphenated log names). start/end are also reachable as startTime/endTime,
// the spelling of AWS's table, and the log's own hyphenated names are aliases too,
// so that `filter srcaddr = …` works on the names users see in the file header.
var FlowCatalogue = newCatalogue(KindFlow, false, flowFields, flowAliases(flowFields))

var flowFields = []Field{
	flowField(FlowVersion, "version", "", TypeInt, 2, "flow log format version"),
	flowField(FlowAccountID, "accountId", "account-id", TypeString, 2, "account owning the interface"),
	flowField(FlowInterfaceID, "interfaceId", "interface-id", TypeString, 2, "network interface (eni-…)"),
	flowField(FlowSrcAddr, "srcAddr", "srcaddr", TypeAddr, 2, "source address"),
	flowField(FlowDstAddr, "dstAddr", "dstaddr", TypeAddr, 2, "destination address"),
	flowField(FlowSrcPort, "srcPort", "srcport", TypeInt, 2, "source port"),
	flowField(FlowDstPort, "dstPort", "dstport", TypeInt, 2, "destination port"),
	flowField(FlowProtocol, "protocol", "", TypeInt, 2, "IANA protocol number"),
	flowField(FlowPackets, "packets", "", TypeInt, 2, "packets in the window"),
	flowField(FlowBytes, "bytes", "", TypeInt, 2, "bytes in the window"),
	flowField(FlowStart, "start", "", TypeInt, 2, "Unix seconds of the first packet"),
	flowField(FlowEnd, "end", "", TypeInt, 2, "Unix seconds of the last packet"),
	flowField(FlowAction, "action", "", TypeString, 2, "ACCEPT or REJECT"),
	flowField(FlowLogStatus, "logStatus", "log-status", TypeString, 2, "OK, NODATA or SKIPDATA"),
	flowField(FlowVPCID, "vpcId", "vpc-id", TypeString, 3, "VPC of the interface"),
	flowField(FlowSubnetID, "subnetId", "subnet-id", TypeString, 3, "subnet of the interface"),
	flowField(FlowInstanceID, "instanceId", "instance-id", TypeString, 3, "instance owning the interface"),
	flowField(FlowTCPFlags, "tcpFlags", "tcp-flags", TypeInt, 3, "OR of FIN 1, SYN 2, RST 4, SYN-ACK 18"),
	flowField(FlowType, "type", "", TypeString, 3, "IPv4, IPv6 or EFA"),
	flowField(FlowPktSrcAddr, "pktSrcAddr", "pkt-srcaddr", TypeAddr, 3, "packet-level source address"),
	flowField(FlowPktDstAddr, "pktDstAddr", "pkt-dstaddr", TypeAddr, 3, "packet-level destination address"),
	flowField(FlowRegion, "region", "", TypeString, 4, "region of the interface"),
	flowField(FlowAZID, "azId", "az-id", TypeString, 4, "availability zone id"),
	flowField(FlowSublocationType, "sublocationType", "sublocation-type", TypeString, 4, "wavelength, outpost or localzone"),
	flowField(FlowSublocationID, "sublocationId", "sublocation-id", TypeString, 4, "id of the sublocation"),
	flowField(FlowPktSrcAWSService, "pktSrcAwsService", "pkt-src-aws-service", TypeString, 5, "AWS service of pkt-srcaddr"),
	flowField(FlowPktDstAWSService, "pktDstAwsService", "pkt-dst-aws-service", TypeString, 5, "AWS service of pkt-dstaddr"),
	flowField(FlowFlowDirection, "flowDirection", "flow-direction", TypeString, 5, "ingress or egress"),
	flowField(FlowTrafficPath, "trafficPath", "traffic-path", TypeInt, 5, "egress path, 1–8"),
	flowField(FlowECSClusterARN, "ecsClusterArn", "ecs-cluster-arn", TypeString, 7, "ECS cluster ARN"),
	flowField(FlowECSClusterName, "ecsClusterName", "ecs-cluster-name", TypeString, 7, "ECS cluster name"),
	flowField(FlowECSContainerInstanceARN, "ecsContainerInstanceArn", "ecs-container-instance-arn", TypeString, 7, "ECS container instance ARN"),
	flowField(FlowECSContainerInstanceID, "ecsContainerInstanceId", "ecs-container-instance-id", TypeString, 7, "ECS container instance id"),
	flowField(FlowECSContainerID, "ecsContainerId", "ecs-container-id", TypeString, 7, "first container's runtime id"),
	flowField(FlowECSSecondContainerID, "ecsSecondContainerId", "ecs-second-container-id", TypeString, 7, "second container's runtime id"),
	flowField(FlowECSServiceName, "ecsServiceName", "ecs-service-name", TypeString, 7, "ECS service name"),
	flowField(FlowECSTaskDefinitionARN, "ecsTaskDefinitionArn", "ecs-task-definition-arn", TypeString, 7, "ECS task definition ARN"),
	flowField(FlowECSTaskARN, "ecsTaskArn", "ecs-task-arn", TypeString, 7, "ECS task ARN"),
	flowField(FlowECSTaskID, "ecsTaskId", "ecs-task-id", TypeString, 7, "ECS task id"),
	flowField(FlowRejectReason, "rejectReason", "reject-reason", TypeString, 8, "BPA when rejected by Block Public Access"),
	flowField(FlowTGWResourceType, "resourceType", "resource-type", TypeString, 6, "Transit Gateway resource type"),
	flowField(FlowTGWID, "tgwId", "tgw-id", TypeString, 6, "Transit Gateway id"),
	flowField(FlowTGWAttachmentID, "tgwAttachmentId", "tgw-attachment-id", TypeString, 6, "Transit Gateway attachment id"),
	flowField(FlowTGWSrcVPCAccountID, "tgwSrcVpcAccountId", "tgw-src-vpc-account-id", TypeString, 6, ""),
	flowField(FlowTGWDstVPCAccountID, "tgwDstVpcAccountId", "tgw-dst-vpc-account-id", TypeString, 6, ""),
	flowField(FlowTGWSrcVPCID, "tgwSrcVpcId", "tgw-src-vpc-id", TypeString, 6, ""),
	flowField(FlowTGWDstVPCID, "tgwDstVpcId", "tgw-dst-vpc-id", TypeString, 6, ""),
	flowField(FlowTGWSrcSubnetID, "tgwSrcSubnetId", "tgw-src-subnet-id", TypeString, 6, ""),
	flowField(FlowTGWDstSubnetID, "tgwDstSubnetId", "tgw-dst-subnet-id", TypeString, 6, ""),
	flowField(FlowTGWSrcENI, "tgwSrcEni", "tgw-src-eni", TypeString, 6, ""),
	flowField(FlowTGWDstENI, "tgwDstEni", "tgw-dst-eni", TypeString, 6, ""),
	flowField(FlowTGWSrcAZID, "tgwSrcAzId", "tgw-src-az-id", TypeString, 6, ""),
	flowField(FlowTGWDstAZID, "tgwDstAzId", "tgw-dst-az-id", TypeString, 6, ""),
	flowField(FlowTGWPairAttachmentID, "tgwPairAttachmentId", "tgw-pair-attachment-id", TypeString, 6, ""),
	flowField(FlowPacketsLostNoRoute, "packetsLostNoRoute", "packets-lost-no-route", TypeInt, 6, ""),
	flowField(FlowPacketsLostBlackhole, "packetsLostBlackhole", "packets-lost-blackhole", TypeInt, 6, ""),
	flowField(FlowPacketsLostMTUExceeded, "packetsLostMtuExceeded", "packets-lost-mtu-exceeded", TypeInt, 6, ""),
	flowField(FlowPacketsLostTTLExpired, "packetsLostTtlExpired", "packets-lost-ttl-expired", TypeInt, 6, ""),
	flowField(FlowTimestamp, "@timestamp", "", TypeTime, 0, "event time: start, in milliseconds"),
	flowField(FlowMessage, "@message", "", TypeString, 0, "the raw record line"),
	flowField(FlowLogStream, "@logStream", "", TypeString, 0, "the interface id, as CloudWatch names flow-log streams"),
}

// flowAliases makes the log's own names (srcaddr, log-status) and AWS's table
// spelling of start/end reach the same fields.
func flowAliases(fields []Field) map[string]string {
	a := map[string]string{"startTime": "start", "endTime": "end"}
	for _, f := range fields {
		if f.LogName != "" && f.LogName != f.Name {
			a[f.LogName] = f.Name
		}
	}
	return a
}

// flowByLogName maps a header's field names (hyphenated, as in the format string)
// to field IDs. Parquet files spell them with underscores; both are accepted.
var flowByLogName = func() map[string]FieldID {
	m := make(map[string]FieldID)
	for _, f := range flowFields {
		if f.Version == 0 {
			continue // system fields are not in logs
		}
		name := f.LogName
		if name == "" {
			name = f.Name
		}
		m[name] = f.ID
		m[strings.ReplaceAll(name, "-", "_")] = f.ID
	}
	return m
}()

// FlowFieldByLogName returns the field a flow-log format names (srcaddr,
// log-status, or log_status as in Parquet files).
func FlowFieldByLogName(name string) (FieldID, bool) {
	id, ok := flowByLogName[name]
	return id, ok
}

// Kind returns KindFlow.
func (f *Flow) Kind() Kind { return KindFlow }

// Timestamp returns the start of the flow's window in Unix milliseconds; NODATA
// and SKIPDATA records have a start too.
func (f *Flow) Timestamp() int64 { return f.Start * 1000 }

// Has reports whether the record has the field.
func (f *Flow) Has(id FieldID) bool {
	switch id {
	case FlowTimestamp:
		return f.Present.Has(FlowStart)
	case FlowMessage:
		return f.Raw != nil
	case FlowLogStream:
		return f.Present.Has(FlowInterfaceID)
	}
	return f.Present.Has(id)
}

// Get returns a catalogued field's value (record.Record).
func (f *Flow) Get(id FieldID) Value {
	if !f.Has(id) {
		return Value{}
	}
	switch id {
	case FlowVersion:
		return IntValue(int64(f.Version))
	case FlowAccountID:
		return StringValue(f.AccountID)
	case FlowInterfaceID, FlowLogStream:
		return StringValue(f.InterfaceID)
	case FlowSrcAddr:
		return AddrValue(f.SrcAddr)
	case FlowDstAddr:
		return AddrValue(f.DstAddr)
	case FlowSrcPort:
		return IntValue(int64(f.SrcPort))
	case FlowDstPort:
		return IntValue(int64(f.DstPort))
	case FlowProtocol:
		return IntValue(int64(f.Protocol))
	case FlowPackets:
		return IntValue(f.Packets)
	case FlowBytes:
		return IntValue(f.Bytes)
	case FlowStart:
		return IntValue(f.Start)
	case FlowEnd:
		return IntValue(f.End)
	case FlowAction:
		return StringValue(f.Action.String())
	case FlowLogStatus:
		return StringValue(f.LogStatus.String())
	case FlowVPCID:
		return StringValue(f.VPCID)
	case FlowSubnetID:
		return StringValue(f.SubnetID)
	case FlowInstanceID:
		return StringValue(f.InstanceID)
	case FlowTCPFlags:
		return IntValue(int64(f.TCPFlags))
	case FlowType:
		return StringValue(f.Type)
	case FlowPktSrcAddr:
		return AddrValue(f.PktSrcAddr)
	case FlowPktDstAddr:
		return AddrValue(f.PktDstAddr)
	case FlowRegion:
		return StringValue(f.Region)
	case FlowAZID:
		return StringValue(f.AZID)
	case FlowSublocationType:
		return StringValue(f.SublocationType)
	case FlowSublocationID:
		return StringValue(f.SublocationID)
	case FlowPktSrcAWSService:
		return StringValue(f.PktSrcAWSService)
	case FlowPktDstAWSService:
		return StringValue(f.PktDstAWSService)
	case FlowFlowDirection:
		return StringValue(f.FlowDirection.String())
	case FlowTrafficPath:
		return IntValue(int64(f.TrafficPath))
	case FlowRejectReason:
		return StringValue(f.RejectReason)
	case FlowPacketsLostNoRoute:
		return IntValue(f.TGW.PacketsLostNoRoute)
	case FlowPacketsLostBlackhole:
		return IntValue(f.TGW.PacketsLostBlackhole)
	case FlowPacketsLostMTUExceeded:
		return IntValue(f.TGW.PacketsLostMTUExceeded)
	case FlowPacketsLostTTLExpired:
		return IntValue(f.TGW.PacketsLostTTLExpired)
	case FlowTimestamp:
		return TimeValue(f.Timestamp())
	case FlowMessage:
		return StringValue(unsafeString(f.Raw))
	}
	if p := f.StringField(id); p != nil {
		return StringValue(*p)
	}
	return Value{}
}

// StringField returns a pointer to the struct member holding a string field of the
// ECS and Transit Gateway groups, or nil for other fields. Decoders use it to fill
// the long tail of string fields without a switch of their own.
func (f *Flow) StringField(id FieldID) *string {
	switch id {
	case FlowAccountID:
		return &f.AccountID
	case FlowInterfaceID:
		return &f.InterfaceID
	case FlowVPCID:
		return &f.VPCID
	case FlowSubnetID:
		return &f.SubnetID
	case FlowInstanceID:
		return &f.InstanceID
	case FlowType:
		return &f.Type
	case FlowRegion:
		return &f.Region
	case FlowAZID:
		return &f.AZID
	case FlowSublocationType:
		return &f.SublocationType
	case FlowSublocationID:
		return &f.SublocationID
	case FlowPktSrcAWSService:
		return &f.PktSrcAWSService
	case FlowPktDstAWSService:
		return &f.PktDstAWSService
	case FlowRejectReason:
		return &f.RejectReason
	case FlowECSClusterARN:
		return &f.ECS.ClusterARN
	case FlowECSClusterName:
		return &f.ECS.ClusterName
	case FlowECSContainerInstanceARN:
		return &f.ECS.ContainerInstanceARN
	case FlowECSContainerInstanceID:
		return &f.ECS.ContainerInstanceID
	case FlowECSContainerID:
		return &f.ECS.ContainerID
	case FlowECSSecondContainerID:
		return &f.ECS.SecondContainerID
	case FlowECSServiceName:
		return &f.ECS.ServiceName
	case FlowECSTaskDefinitionARN:
		return &f.ECS.TaskDefinitionARN
	case FlowECSTaskARN:
		return &f.ECS.TaskARN
	case FlowECSTaskID:
		return &f.ECS.TaskID
	case FlowTGWResourceType:
		return &f.TGW.ResourceType
	case FlowTGWID:
		return &f.TGW.ID
	case FlowTGWAttachmentID:
		return &f.TGW.AttachmentID
	case FlowTGWSrcVPCAccountID:
		return &f.TGW.SrcVPCAccountID
	case FlowTGWDstVPCAccountID:
		return &f.TGW.DstVPCAccountID
	case FlowTGWSrcVPCID:
		return &f.TGW.SrcVPCID
	case FlowTGWDstVPCID:
		return &f.TGW.DstVPCID
	case FlowTGWSrcSubnetID:
		return &f.TGW.SrcSubnetID
	case FlowTGWDstSubnetID:
		return &f.TGW.DstSubnetID
	case FlowTGWSrcENI:
		return &f.TGW.SrcENI
	case FlowTGWDstENI:
		return &f.TGW.DstENI
	case FlowTGWSrcAZID:
		return &f.TGW.SrcAZID
	case FlowTGWDstAZID:
		return &f.TGW.DstAZID
	case FlowTGWPairAttachmentID:
		return &f.TGW.PairAttachmentID
	}
	return nil
}

// Path returns Missing, except for fields named by an unknown header (Extra):
// flows have a fixed set of fields (record.Record).
func (f *Flow) Path(path string) Value {
	for _, e := range f.Extra {
		if e.Name == path {
			return StringValue(e.Value)
		}
	}
	return Value{}
}

// Reset clears the record for reuse, keeping the Extra slice's capacity.
func (f *Flow) Reset() {
	extra := f.Extra[:0]
	*f = Flow{Extra: extra}
}

// ResetFields is Reset for a record whose fields outside set are already
// zero, as those of a decoder that only ever fills the fields of set are. It
// clears only the fields of set (and Present, Extra, Raw and Stream): for a
// query's few fields that is a few stores, not the whole record's 800-odd
// bytes for every line. IDs outside the catalogue hold nothing of the record.
func (f *Flow) ResetFields(set FieldSet) {
	if bits.OnesCount64(uint64(set)) > 8 {
		f.Reset()
		return
	}
	for s := uint64(set); s != 0; s &= s - 1 {
		f.clearField(FieldID(bits.TrailingZeros64(s)))
	}
	f.Present, f.Extra, f.Raw, f.Stream = 0, f.Extra[:0], nil, ""
}

// clearField zeroes the member that holds field id.
func (f *Flow) clearField(id FieldID) {
	switch id {
	case FlowVersion:
		f.Version = 0
	case FlowSrcAddr:
		f.SrcAddr = netip.Addr{}
	case FlowDstAddr:
		f.DstAddr = netip.Addr{}
	case FlowSrcPort:
		f.SrcPort = 0
	case FlowDstPort:
		f.DstPort = 0
	case FlowProtocol:
		f.Protocol = 0
	case FlowPackets:
		f.Packets = 0
	case FlowBytes:
		f.Bytes = 0
	case FlowStart:
		f.Start = 0
	case FlowEnd:
		f.End = 0
	case FlowAction:
		f.Action = 0
	case FlowLogStatus:
		f.LogStatus = 0
	case FlowTCPFlags:
		f.TCPFlags = 0
	case FlowPktSrcAddr:
		f.PktSrcAddr = netip.Addr{}
	case FlowPktDstAddr:
		f.PktDstAddr = netip.Addr{}
	case FlowFlowDirection:
		f.FlowDirection = 0
	case FlowTrafficPath:
		f.TrafficPath = 0
	case FlowPacketsLostNoRoute:
		f.TGW.PacketsLostNoRoute = 0
	case FlowPacketsLostBlackhole:
		f.TGW.PacketsLostBlackhole = 0
	case FlowPacketsLostMTUExceeded:
		f.TGW.PacketsLostMTUExceeded = 0
	case FlowPacketsLostTTLExpired:
		f.TGW.PacketsLostTTLExpired = 0
	default:
		if p := f.StringField(id); p != nil {
			*p = ""
		}
	}
}

// Protocol names for the common IANA numbers, as Logs Insights users write them
// in documentation.
func ProtocolName(p uint8) string {
	switch p {
	case 1:
		return "ICMP"
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 58:
		return "ICMPv6"
	}
	return strconv.Itoa(int(p))
}
