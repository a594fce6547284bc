package finding

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// Fingerprint is the identity of a finding: two findings with equal fingerprints
// are the same security issue and aggregate into one (same ID). See the package
// documentation for the rules; FingerprintOf applies them.
type Fingerprint struct {
	Type       Type
	AccountID  string
	Region     string
	ResourceID string
	Role       ResourceRole
	// Key says which action attribute ActionValue holds.
	Key         ActionKey
	ActionValue string
}

// fingerprintVersion is hashed into every ID. Changing what a fingerprint holds or
// how it is encoded changes every finding ID, so it needs a new version.
const fingerprintVersion = "vigil.finding.v1"

// FingerprintOf returns the fingerprint of f. The action key comes from f's
// catalogue entry, or from its action type when f's type is not in the catalogue.
func FingerprintOf(f *Finding) Fingerprint {
	key := resolveKey(KeyDefault, f.Service.Action.ActionType)
	if ti, ok := Lookup(f.Type); ok {
		key = ti.ActionKey()
	}
	return Fingerprint{
		Type:        f.Type,
		AccountID:   f.AccountID,
		Region:      f.Region,
		ResourceID:  ResourceID(&f.Resource),
		Role:        f.Service.ResourceRole,
		Key:         key,
		ActionValue: actionValue(&f.Service.Action, key),
	}
}

// ID returns the finding ID of fp: 32 lowercase hex characters, the first 128
// bits of SHA-256 over the version and the fields, each length-prefixed so that no
// two fingerprints encode alike.
func (fp Fingerprint) ID() string {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	for _, s := range [...]string{fingerprintVersion, string(fp.Type), fp.AccountID, fp.Region,
		fp.ResourceID, string(fp.Role), fp.Key.String(), fp.ActionValue} {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}

// String returns fp for people (logs, debugging), every value quoted.
func (fp Fingerprint) String() string {
	var b strings.Builder
	for i, kv := range [...][2]string{{"type", string(fp.Type)}, {"account", fp.AccountID}, {"region", fp.Region},
		{"resource", fp.ResourceID}, {"role", string(fp.Role)}, {fp.Key.String(), fp.ActionValue}} {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(strconv.Quote(kv[1]))
	}
	return b.String()
}

// ResourceID returns the identifier of the affected resource used in fingerprints:
// Instance → instanceId, else the first network interface's ID, else its private
// IP (flow logs without an inventory know no more); AccessKey → accessKeyId, else
// principalId, else userName; S3Bucket → the first bucket's name, else the access
// key as for AccessKey. It is "" when the resource has none of these.
func ResourceID(r *Resource) string {
	switch r.ResourceType {
	case ResourceInstance:
		if d := r.InstanceDetails; d != nil {
			if d.InstanceID != "" {
				return d.InstanceID
			}
			for _, ni := range d.NetworkInterfaces {
				if ni.NetworkInterfaceID != "" {
					return ni.NetworkInterfaceID
				}
				if ni.PrivateIPAddress != "" {
					return normIP(ni.PrivateIPAddress)
				}
			}
		}
		return ""
	case ResourceS3Bucket:
		for _, b := range r.S3BucketDetails {
			if b.Name != "" {
				return b.Name
			}
		}
	}
	if d := r.AccessKeyDetails; d != nil {
		switch {
		case d.AccessKeyID != "":
			return d.AccessKeyID
		case d.PrincipalID != "":
			return d.PrincipalID
		}
		return d.UserName
	}
	return ""
}

func actionValue(a *Action, key ActionKey) string {
	switch key {
	case KeyRemoteIP:
		switch {
		case a.NetworkConnectionAction != nil:
			return normIP(a.NetworkConnectionAction.RemoteIPDetails.IP())
		case a.AWSAPICallAction != nil:
			return normIP(a.AWSAPICallAction.RemoteIPDetails.IP())
		case a.PortProbeAction != nil && len(a.PortProbeAction.PortProbeDetails) > 0:
			return normIP(a.PortProbeAction.PortProbeDetails[0].RemoteIPDetails.IP())
		}
	case KeyRemotePort:
		if nc := a.NetworkConnectionAction; nc != nil && nc.RemotePortDetails != nil {
			return strconv.Itoa(nc.RemotePortDetails.Port)
		}
	case KeyLocalPort:
		if pp := a.PortProbeAction; pp != nil && len(pp.PortProbeDetails) > 0 && pp.PortProbeDetails[0].LocalPortDetails != nil {
			return strconv.Itoa(pp.PortProbeDetails[0].LocalPortDetails.Port)
		}
		if nc := a.NetworkConnectionAction; nc != nil && nc.LocalPortDetails != nil {
			return strconv.Itoa(nc.LocalPortDetails.Port)
		}
	case KeyDomain:
		if d := a.DNSRequestAction; d != nil {
			return normDomain(d.Domain)
		}
	case KeyDomainWithSuffix:
		if d := a.DNSRequestAction; d != nil {
			if d.DomainWithSuffix != "" {
				return normDomain(d.DomainWithSuffix)
			}
			return normDomain(d.Domain)
		}
	case KeyAPI:
		if c := a.AWSAPICallAction; c != nil {
			return c.ServiceName + "/" + c.API
		}
	}
	return ""
}

// normIP returns an address in canonical form (IPv4-mapped IPv6 unmapped, IPv6
// compressed and lower-case), or s unchanged when it is not an address.
func normIP(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return s
}

// normDomain lower-cases a domain and drops the trailing dot of a fully qualified
// name (DNS names are case-insensitive; resolver logs write "example.com.").
func normDomain(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

// DetectorID returns the default detector ID of an account: 32 lowercase hex
// characters derived from the account ID, stable across runs, so every vigil
// instance that reads an account's logs writes the same ARNs unless a detector ID
// is configured.
func DetectorID(accountID string) string {
	sum := sha256.Sum256([]byte("vigil.detector.v1\x00" + accountID))
	return hex.EncodeToString(sum[:16])
}

// ARN returns a finding ARN as GuardDuty builds it:
// arn:<partition>:guardduty:<region>:<account>:detector/<detectorId>/finding/<id>.
// An empty partition is "aws".
func ARN(partition, region, accountID, detectorID, id string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":guardduty:" + region + ":" + accountID + ":detector/" + detectorID + "/finding/" + id
}

// SetIdentity sets f's detector ID (DetectorID(f.AccountID) when detectorID is
// empty), ID and ARN from its fingerprint. Call it when the fields of the
// fingerprint are final.
func (f *Finding) SetIdentity(detectorID string) {
	if detectorID == "" {
		detectorID = DetectorID(f.AccountID)
	}
	f.Service.DetectorID = detectorID
	f.ID = FingerprintOf(f).ID()
	f.ARN = ARN(f.Partition, f.Region, f.AccountID, detectorID, f.ID)
}
