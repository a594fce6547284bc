package record

import "net/netip"

// Direct readers of flow fields, for compiled filters (the query language's and
// the detection engine's): a read of a struct member, not Flow.Get's switch and
// a 64-byte Value, which is most of what a simple filter costs per record.

// FlowIntReader returns a reader of a whole-number flow field, or nil for
// other fields.
func FlowIntReader(id FieldID) func(f *Flow) int64 {
	switch id {
	case FlowSrcPort:
		return func(f *Flow) int64 { return int64(f.SrcPort) }
	case FlowDstPort:
		return func(f *Flow) int64 { return int64(f.DstPort) }
	case FlowProtocol:
		return func(f *Flow) int64 { return int64(f.Protocol) }
	case FlowPackets:
		return func(f *Flow) int64 { return f.Packets }
	case FlowBytes:
		return func(f *Flow) int64 { return f.Bytes }
	case FlowStart:
		return func(f *Flow) int64 { return f.Start }
	case FlowEnd:
		return func(f *Flow) int64 { return f.End }
	case FlowTCPFlags:
		return func(f *Flow) int64 { return int64(f.TCPFlags) }
	}
	return nil
}

// FlowAddrReader returns a reader of an address flow field, or nil for other
// fields.
func FlowAddrReader(id FieldID) func(f *Flow) netip.Addr {
	switch id {
	case FlowSrcAddr:
		return func(f *Flow) netip.Addr { return f.SrcAddr }
	case FlowDstAddr:
		return func(f *Flow) netip.Addr { return f.DstAddr }
	case FlowPktSrcAddr:
		return func(f *Flow) netip.Addr { return f.PktSrcAddr }
	case FlowPktDstAddr:
		return func(f *Flow) netip.Addr { return f.PktDstAddr }
	}
	return nil
}
