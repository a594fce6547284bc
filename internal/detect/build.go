package detect

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/record"
)

// occurrence is one detected burst of activity, accumulated from its records
// until it is raised as a finding. It keeps only copies (never a record or its
// Raw), a bounded evidence sample, and the details of the latest record.
type occurrence struct {
	first, last int64 // event times of the activity
	events      int64
	metric      float64
	rejected    int64 // flow records with action REJECT
	latest      int64 // event time of the record the details come from

	flow   *flowDetail
	side   [2]sideInfo // src, dst as the latest record tells (single-record rules)
	dns    *dnsDetail
	call   *record.APICall // the latest event, Raw dropped
	bucket string          // its requestParameters.bucketName
	info   map[string]any  // the rule's additionalInfo, from the latest record

	ev evidence

	// Early findings (early.go): announced once it has been raised early,
	// announcing while it is, early what those findings reported.
	announced, announcing bool
	early                 []earlyFinding
}

type flowDetail struct {
	sport, dport uint16
	proto        uint8
	eni          string
}

type dnsDetail struct {
	name, qtype, rcode, transport string
	srcAddr                       netip.Addr
	inst, vpc, acct, region       string
	blocked                       bool
}

func newOccurrence(r *rec) *occurrence {
	return &occurrence{first: r.time, last: r.time, latest: -1 << 62}
}

// note adds a record to the occurrence.
func (o *occurrence) note(r *rec, rule *Rule) {
	o.events++
	o.first = min(o.first, r.time)
	o.last = max(o.last, r.time)
	o.ev.add(r)
	if r.kind == record.KindFlow && r.flow.Action == record.ActionReject {
		o.rejected++
	}
	if r.time < o.latest {
		return // details come from the latest record
	}
	o.latest = r.time
	switch r.kind {
	case record.KindFlow:
		f := r.flow
		if o.flow == nil {
			o.flow = &flowDetail{}
		}
		*o.flow = flowDetail{sport: f.SrcPort, dport: f.DstPort, proto: f.Protocol, eni: f.InterfaceID}
		o.side[0] = sideInfo{}
		o.side[0].note(r, sideSrc)
		o.side[1] = sideInfo{}
		o.side[1].note(r, sideDst)
	case record.KindDNS:
		q := r.dns
		if o.dns == nil {
			o.dns = &dnsDetail{}
		}
		*o.dns = dnsDetail{name: r.name, qtype: q.QueryType, rcode: q.RCode, transport: q.Transport, srcAddr: q.SrcAddr,
			inst: q.SrcInstance, vpc: q.VPCID, acct: q.AccountID, region: q.Region, blocked: q.FirewallRuleAction == "BLOCK"}
		if o.dns.name == "" {
			o.dns.name = r.name
		}
	case record.KindAPICall:
		if o.call == nil {
			o.call = new(record.APICall)
		}
		*o.call = *r.call
		o.call.Raw = nil
		o.bucket = ""
		if b := r.call.Path("requestParameters.bucketName"); b.Kind == record.String {
			o.bucket = strings.Clone(b.Str)
		}
	}
	if len(rule.Finding.AdditionalInfo) > 0 {
		if o.info == nil {
			o.info = make(map[string]any, len(rule.Finding.AdditionalInfo))
		}
		for k, name := range rule.Finding.AdditionalInfo {
			ref := resolveRef(rule.Kind, name)
			v := ref.get(r.r)
			if v.IsMissing() {
				continue
			}
			if n, ok := v.Number(); ok && v.Kind != record.String {
				o.info[k] = finding.InfoNumber(n)
			} else {
				o.info[k] = strings.Clone(v.String())
			}
		}
	}
}

// resolveRef returns the field reference of a name (compiled rules checked it).
func resolveRef(k record.Kind, name string) fieldRef {
	if f, ok := record.CatalogueOf(k).Lookup(name); ok {
		return fieldRef{name: name, id: f.ID}
	}
	return fieldRef{name: name, path: true}
}

// evidence keeps the EvidenceHead earliest records of an occurrence and its
// MaxEvidence-EvidenceHead latest, ordered by (time, text) so that the sample
// depends on which records the occurrence saw, not on the order they came in.
// Raw texts are copied into buffers the evidence reuses, so a busy occurrence
// allocates nothing per record.
type evidence struct {
	head, tail []evSlot // head ascending; tail ascending, its first the smallest kept
}

type evSlot struct {
	time   int64
	kind   string
	source string
	raw    []byte
	cut    bool
}

const evTail = finding.MaxEvidence - finding.EvidenceHead

func (a *evSlot) less(b *evSlot) bool {
	return a.time < b.time || a.time == b.time && bytes.Compare(a.raw, b.raw) < 0
}

// insertSorted inserts s into an ascending list.
func insertSorted(list []evSlot, s evSlot) []evSlot {
	i := len(list)
	for i > 0 && s.less(&list[i-1]) {
		i--
	}
	return slices.Insert(list, i, s)
}

// add offers a record to the sample: it joins the head if it is among the
// EvidenceHead smallest so far (pushing the head's largest out), and what does
// not stay in the head is offered to the tail, which keeps the largest. The raw
// text is copied only when the record is kept, into the buffer of the slot it
// replaces when there is one.
func (e *evidence) add(r *rec) {
	raw, stream := rawOf(r)
	cut := len(raw) > finding.MaxEvidenceBytes
	if cut {
		raw = raw[:finding.MaxEvidenceBytes]
	}
	x := evSlot{time: r.time, kind: r.kind.String(), source: stream, raw: raw, cut: cut}
	owned := false // whether x.raw is a copy x owns
	if len(e.head) < finding.EvidenceHead {
		x.raw = bytes.Clone(raw)
		e.head = insertSorted(e.head, x)
		return
	}
	if last := &e.head[len(e.head)-1]; x.less(last) {
		out := *last
		e.head = e.head[:len(e.head)-1]
		x.raw, owned = bytes.Clone(raw), true
		e.head = insertSorted(e.head, x)
		x = out // the head's old largest goes on to the tail
	}
	if len(e.tail) < evTail {
		if !owned {
			x.raw = bytes.Clone(x.raw)
		}
		e.tail = insertSorted(e.tail, x)
		return
	}
	if !e.tail[0].less(&x) {
		return // smaller than every kept latest record
	}
	buf := e.tail[0].raw
	copy(e.tail, e.tail[1:])
	e.tail = e.tail[:len(e.tail)-1]
	if !owned {
		x.raw = append(buf[:0], x.raw...)
	}
	e.tail = insertSorted(e.tail, x)
}

// records returns the sample in event-time order.
func (e *evidence) records() []finding.EvidenceRecord {
	out := make([]finding.EvidenceRecord, 0, len(e.head)+len(e.tail))
	for _, list := range [][]evSlot{e.head, e.tail} {
		for i := range list {
			s := &list[i]
			ev := finding.NewEvidence(finding.Time(s.time), s.kind, s.source, s.raw)
			ev.Truncated = ev.Truncated || s.cut
			out = append(out, ev)
		}
	}
	return out
}

func rawOf(r *rec) ([]byte, string) {
	switch r.kind {
	case record.KindFlow:
		return r.flow.Raw, r.flow.Stream
	case record.KindDNS:
		return r.dns.Raw, r.dns.Stream
	}
	return r.call.Raw, r.call.Stream
}

// buildFindings turns an occurrence of a rule into findings, one per resource of
// the rule that is one of ours (flows: an instance, or at least an interface or a
// private address, never a NAT gateway or an internet host).
func (e *Engine) buildFindings(rule *Rule, o *occurrence, src, dst *sideInfo) []*finding.Finding {
	ti, _ := finding.Lookup(rule.Finding.Type)
	var out []*finding.Finding
	for _, spec := range rule.Finding.Resources {
		var f *finding.Finding
		switch rule.Kind {
		case record.KindFlow:
			own, other := src, dst
			if spec.Side == "dst" {
				own, other = dst, src
			}
			res, acct, region, ok := e.resolveSide(own)
			if !ok {
				continue
			}
			f = ti.New(acct, region, finding.Time(o.last))
			f.Resource.InstanceDetails = res
			f.Service.ResourceRole = spec.Role
			f.Service.Action.NetworkConnectionAction = e.networkAction(o, own, other, spec.Side == "src")
		case record.KindDNS:
			res, acct, region, ok := e.resolveDNS(o.dns)
			if !ok {
				continue
			}
			f = ti.New(acct, region, finding.Time(o.last))
			f.Resource.InstanceDetails = res
			f.Service.ResourceRole = spec.Role
			f.Service.Action.DNSRequestAction = dnsAction(o.dns)
		case record.KindAPICall:
			c := o.call
			ak := accessKeyOf(c)
			if spec.Side == "bucket" {
				name := o.bucket
				if name == "" {
					continue
				}
				f = ti.New(callAccount(c), regionOr(c.AWSRegion, e.cfg.Region), finding.Time(o.last))
				f.Resource.S3BucketDetails = []finding.S3BucketDetail{{ARN: "arn:aws:s3:::" + name, Name: name, Type: "Destination"}}
			} else {
				if ak == nil {
					continue
				}
				f = ti.New(callAccount(c), regionOr(c.AWSRegion, e.cfg.Region), finding.Time(o.last))
			}
			f.Resource.AccessKeyDetails = ak
			f.Service.ResourceRole = spec.Role
			f.Service.Action.AWSAPICallAction = apiAction(c)
		}
		if spec.Severity != 0 {
			f.Severity = spec.Severity
		}
		e.finish(f, rule, o)
		out = append(out, f)
	}
	return out
}

// finish sets what every finding of an occurrence shares: times, counts, the
// rule's annotations, evidence, and the rule's own title and description.
func (e *Engine) finish(f *finding.Finding, rule *Rule, o *occurrence) {
	f.Service.EventFirstSeen = finding.Time(o.first)
	f.Service.EventLastSeen = finding.Time(o.last)
	// createdAt is the start of the activity, not the moment the threshold was
	// crossed: which record crosses it depends on the order records arrive in,
	// and a replay must give the same finding whatever that order.
	f.CreatedAt = finding.Time(o.first)
	f.UpdatedAt = finding.Time(o.last)
	info := finding.AdditionalInfo{
		finding.KeyVigilRule:   rule.ID,
		finding.KeyVigilEvents: o.events,
	}
	if rule.Window > 0 {
		info[finding.KeyVigilWindow] = formatDuration(rule.Window)
	}
	if rule.Detector == "" && rule.Window > 0 {
		info[finding.KeyVigilThreshold] = finding.InfoNumber(rule.Threshold.AtLeast)
		switch {
		case rule.Threshold.Distinct != "":
			info[finding.KeyVigilDistinct] = finding.InfoNumber(o.metric)
		case rule.Threshold.Sum != "":
			info["vigilSum"] = finding.InfoNumber(o.metric)
		}
	}
	for k, v := range o.info {
		info[k] = v
	}
	f.Service.AdditionalInfo = info
	f.Evidence = o.ev.records()
	if rule.Finding.Title != "" {
		f.Title = finding.Render(rule.Finding.Title, f)
	}
	if rule.Finding.Description != "" {
		f.Description = finding.Render(rule.Finding.Description, f)
	}
}

// formatDuration prints 10m0s as 10m and 1h0m0s as 1h.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func regionOr(r, def string) string {
	if r != "" {
		return r
	}
	return def
}

// resolveSide names the resource at one end of a flow, when it is one of ours:
// the inventory's instance (by interface, instance id or address), else the
// instance id and interface the records carried, else the interface alone, else a
// private address. NAT gateways, load balancers and other service interfaces,
// and internet hosts, are not resources of a finding.
func (e *Engine) resolveSide(si *sideInfo) (*finding.InstanceDetails, string, string, bool) {
	if si == nil || !si.addr.IsValid() {
		return nil, "", "", false
	}
	c := si.ctx()
	acct, region := c.acct, regionOr(c.region, e.cfg.Region)
	eniID, instID := si.eni(), si.inst()
	if inv := e.deps.Inventory; inv != nil {
		var in *inventory.Instance
		known := false
		if eniID != "" {
			if eni, ok := inv.Interface(eniID); ok {
				known = true
				if eni.Kind() != inventory.KindInstance {
					return nil, "", "", false
				}
				in = eni.Instance
			}
		}
		if in == nil && instID != "" {
			in, _ = inv.Instance(instID)
		}
		if in == nil && !known {
			var o inventory.Owner
			var ok bool
			if c.vpc != "" {
				o, ok = inv.ByIPInVPC(c.vpc, si.addr)
			} else {
				o, ok = inv.ByIP(si.addr)
			}
			if ok {
				if o.Kind != inventory.KindInstance {
					return nil, "", "", false
				}
				in = o.Instance
			}
		}
		if in != nil && !in.Stub {
			d := instanceDetails(in)
			if in.OwnerID != "" {
				acct = in.OwnerID
			}
			if r := in.Region(); r != "" && c.region == "" {
				region = r
			}
			return d, acct, region, true
		}
	}
	ni := finding.NetworkInterface{NetworkInterfaceID: eniID, VpcID: c.vpc}
	if si.own != nil {
		ni.SubnetID = si.own.subnet
	}
	if si.addr.Is4() || si.addr.Is4In6() {
		ni.PrivateIPAddress = si.addr.Unmap().String()
	} else {
		ni.IPv6Addresses = []string{si.addr.String()}
	}
	switch {
	case instID != "":
		return &finding.InstanceDetails{InstanceID: instID, NetworkInterfaces: []finding.NetworkInterface{ni}}, acct, region, true
	case eniID != "":
		return &finding.InstanceDetails{NetworkInterfaces: []finding.NetworkInterface{ni}}, acct, region, true
	case isInternal(si.addr):
		return &finding.InstanceDetails{NetworkInterfaces: []finding.NetworkInterface{ni}}, acct, region, true
	}
	return nil, "", "", false
}

// instanceDetails converts the inventory's GuardDuty instanceDetails into the
// finding model's.
func instanceDetails(in *inventory.Instance) *finding.InstanceDetails {
	d := in.Details()
	out := &finding.InstanceDetails{
		InstanceID: d.InstanceID, InstanceType: d.InstanceType, InstanceState: d.InstanceState,
		AvailabilityZone: d.AvailabilityZone, ImageID: d.ImageID, ImageDescription: d.ImageDescription,
		OutpostARN: d.OutpostARN, ProductCodes: []finding.ProductCode{}, Tags: []finding.Tag{},
		NetworkInterfaces: []finding.NetworkInterface{},
	}
	if t, err := time.Parse(time.RFC3339Nano, d.LaunchTime); err == nil {
		out.LaunchTime = finding.TimeOf(t)
	}
	if d.Platform != nil {
		out.Platform = *d.Platform
	}
	if p := d.IAMInstanceProfile; p != nil {
		out.IAMInstanceProfile = &finding.IAMInstanceProfile{ARN: p.ARN, ID: p.ID}
	}
	for _, p := range d.ProductCodes {
		out.ProductCodes = append(out.ProductCodes, finding.ProductCode{ProductCodeID: p.ProductCodeID, ProductCodeType: p.ProductCodeType})
	}
	for _, t := range d.Tags {
		out.Tags = append(out.Tags, finding.Tag{Key: t.Key, Value: t.Value})
	}
	for _, n := range d.NetworkInterfaces {
		ni := finding.NetworkInterface{NetworkInterfaceID: n.NetworkInterfaceID, PrivateDNSName: n.PrivateDNSName,
			PrivateIPAddress: n.PrivateIPAddress, PublicDNSName: n.PublicDNSName, PublicIP: n.PublicIP,
			IPv6Addresses: append([]string{}, n.IPv6Addresses...), SubnetID: n.SubnetID, VpcID: n.VPCID,
			PrivateIPAddresses: []finding.PrivateIPAddress{}, SecurityGroups: []finding.SecurityGroup{}}
		for _, p := range n.PrivateIPAddresses {
			ni.PrivateIPAddresses = append(ni.PrivateIPAddresses, finding.PrivateIPAddress{PrivateDNSName: p.PrivateDNSName, PrivateIPAddress: p.PrivateIPAddress})
		}
		for _, g := range n.SecurityGroups {
			ni.SecurityGroups = append(ni.SecurityGroups, finding.SecurityGroup{GroupID: g.GroupID, GroupName: g.GroupName})
		}
		out.NetworkInterfaces = append(out.NetworkInterfaces, ni)
	}
	return out
}

// networkAction describes the occurrence from the resource's side: outbound
// when the resource is the source of the flows.
func (e *Engine) networkAction(o *occurrence, own, other *sideInfo, ownIsSrc bool) *finding.NetworkConnectionAction {
	a := &finding.NetworkConnectionAction{Blocked: o.events > 0 && o.rejected == o.events}
	localPort, remotePort := 0, 0
	if fd := o.flow; fd != nil {
		a.Protocol = protocolName(fd.proto)
		if ownIsSrc {
			localPort, remotePort = int(fd.sport), int(fd.dport)
		} else {
			localPort, remotePort = int(fd.dport), int(fd.sport)
		}
	}
	if ownIsSrc {
		a.ConnectionDirection = finding.DirectionOutbound
	} else {
		a.ConnectionDirection = finding.DirectionInbound
	}
	a.LocalPortDetails = &finding.PortDetails{Port: localPort, PortName: portName(localPort)}
	a.RemotePortDetails = &finding.PortDetails{Port: remotePort, PortName: portName(remotePort)}
	a.LocalIPDetails = &finding.LocalIPDetails{}
	setIP(&a.LocalIPDetails.IPAddressV4, &a.LocalIPDetails.IPAddressV6, own.addr)
	a.LocalNetworkInterface = own.eni()
	if other != nil && other.addr.IsValid() {
		a.RemoteIPDetails = &finding.RemoteIPDetails{}
		setIP(&a.RemoteIPDetails.IPAddressV4, &a.RemoteIPDetails.IPAddressV6, other.addr)
	}
	return a
}

func setIP(v4, v6 *string, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	if a.Is4() || a.Is4In6() {
		*v4 = a.Unmap().String()
	} else {
		*v6 = a.String()
	}
}

func protocolName(p uint8) string {
	switch p {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 1:
		return "ICMP"
	case 58:
		return "ICMPV6"
	}
	return strconv.Itoa(int(p))
}

// portName is GuardDuty's service label for a port.
func portName(p int) string {
	switch p {
	case 21:
		return "FTP"
	case 22:
		return "SSH"
	case 23:
		return "Telnet"
	case 25:
		return "SMTP"
	case 53:
		return "DNS"
	case 80:
		return "HTTP"
	case 123:
		return "NTP"
	case 389:
		return "LDAP"
	case 443:
		return "HTTPS"
	case 445:
		return "SMB"
	case 1433:
		return "MSSQL"
	case 3306:
		return "MYSQL"
	case 3389:
		return "RDP"
	case 5432:
		return "POSTGRESQL"
	case 5985, 5986:
		return "WINRM"
	case 9200, 9300:
		return "Elasticsearch"
	}
	return "Unknown"
}

// resolveDNS names the instance that asked a DNS query.
func (e *Engine) resolveDNS(d *dnsDetail) (*finding.InstanceDetails, string, string, bool) {
	if d == nil {
		return nil, "", "", false
	}
	acct, region := d.acct, regionOr(d.region, e.cfg.Region)
	if inv := e.deps.Inventory; inv != nil {
		var in *inventory.Instance
		if d.inst != "" {
			in, _ = inv.Instance(d.inst)
		}
		if in == nil && d.srcAddr.IsValid() {
			o, ok := inv.ByIPInVPC(d.vpc, d.srcAddr)
			if !ok {
				o, ok = inv.ByIP(d.srcAddr)
			}
			if ok && o.Kind == inventory.KindInstance {
				in = o.Instance
			}
		}
		if in != nil && !in.Stub {
			if in.OwnerID != "" {
				acct = in.OwnerID
			}
			return instanceDetails(in), acct, region, true
		}
	}
	ni := finding.NetworkInterface{VpcID: d.vpc}
	setIP(&ni.PrivateIPAddress, new(string), d.srcAddr)
	if d.inst == "" && ni.PrivateIPAddress == "" {
		return nil, "", "", false
	}
	return &finding.InstanceDetails{InstanceID: d.inst, NetworkInterfaces: []finding.NetworkInterface{ni}}, acct, region, true
}

func dnsAction(d *dnsDetail) *finding.DNSRequestAction {
	a := &finding.DNSRequestAction{Domain: d.name, Protocol: d.transport, Blocked: d.blocked, VpcOwnerAccountID: d.acct}
	a.DomainWithSuffix = registered(d.name)
	return a
}

// registered returns the registrable domain (eTLD+1) of a name, by the public
// suffix list; the name itself when it has none (a TLD, a bare label).
func registered(name string) string {
	if r, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil {
		return r
	}
	return name
}

// accessKeyOf names the principal of an API call (resource.accessKeyDetails).
func accessKeyOf(c *record.APICall) *finding.AccessKeyDetails {
	d := &finding.AccessKeyDetails{AccessKeyID: c.UserAccessKeyID, PrincipalID: c.UserPrincipalID, UserType: c.UserType}
	switch {
	case c.UserName != "":
		d.UserName = c.UserName
	case c.IssuerUserName != "":
		d.UserName = c.IssuerUserName
	case c.UserType == "Root":
		d.UserName = "Root"
	case c.UserARN != "":
		d.UserName = c.UserARN[strings.LastIndexByte(c.UserARN, '/')+1:]
	}
	if d.AccessKeyID == "" && d.PrincipalID == "" && d.UserName == "" {
		return nil
	}
	return d
}

func callAccount(c *record.APICall) string {
	if c.RecipientAccountID != "" {
		return c.RecipientAccountID
	}
	return c.UserAccountID
}

func apiAction(c *record.APICall) *finding.AWSAPICallAction {
	a := &finding.AWSAPICallAction{API: c.EventName, ServiceName: c.EventSource, UserAgent: c.UserAgent, ErrorCode: c.ErrorCode}
	if c.SourceIP.IsValid() {
		a.CallerType = "Remote IP"
		a.RemoteIPDetails = &finding.RemoteIPDetails{}
		setIP(&a.RemoteIPDetails.IPAddressV4, &a.RemoteIPDetails.IPAddressV6, c.SourceIP)
	} else if c.SourceIPAddress != "" {
		a.CallerType = "Domain"
		a.DomainDetails = &finding.DomainDetails{Domain: c.SourceIPAddress}
	}
	return a
}
