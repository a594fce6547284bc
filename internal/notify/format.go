package notify

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/finding"
)

// The pieces of a finding that every message shows, as plain text. Notifiers
// escape them for their markup.

// severityText is "8 (High)".
func severityText(f *finding.Finding) string {
	return strconv.FormatFloat(float64(f.Severity), 'f', -1, 64) + " (" + f.Severity.Band().Title() + ")"
}

// resourceText names the affected resource: "Instance i-0123…", "AccessKey
// ASIA… (alice)", "S3Bucket my-bucket".
func resourceText(f *finding.Finding) string {
	r := &f.Resource
	id := finding.ResourceID(r)
	s := string(r.ResourceType)
	if id != "" {
		s += " " + id
	}
	if r.AccessKeyDetails != nil && r.AccessKeyDetails.UserName != "" && r.AccessKeyDetails.UserName != id {
		s += " (" + r.AccessKeyDetails.UserName + ")"
	}
	return s
}

// actorText describes the other side of the activity, when the finding has one:
// "198.51.100.7 (Example Org, NL)" or a domain.
func actorText(f *finding.Finding) string {
	a := &f.Service.Action
	var ip *finding.RemoteIPDetails
	switch {
	case a.NetworkConnectionAction != nil:
		ip = a.NetworkConnectionAction.RemoteIPDetails
	case a.AWSAPICallAction != nil:
		ip = a.AWSAPICallAction.RemoteIPDetails
	case a.PortProbeAction != nil && len(a.PortProbeAction.PortProbeDetails) > 0:
		ip = a.PortProbeAction.PortProbeDetails[0].RemoteIPDetails
	case a.DNSRequestAction != nil:
		return a.DNSRequestAction.Domain
	}
	if ip == nil || ip.IP() == "" {
		return ""
	}
	var where []string
	if ip.Organization != nil && ip.Organization.ASNOrg != "" {
		where = append(where, ip.Organization.ASNOrg)
	}
	if ip.Country != nil {
		if c := ip.Country.CountryCode; c != "" {
			where = append(where, c)
		} else if c := ip.Country.CountryName; c != "" {
			where = append(where, c)
		}
	}
	if len(where) == 0 {
		return ip.IP()
	}
	return ip.IP() + " (" + strings.Join(where, ", ") + ")"
}

// timeText is a finding time as GuardDuty writes it, or "-" when unset.
func timeText(t finding.Time) string {
	if t == 0 {
		return "-"
	}
	return t.String()
}

// titleText is the finding's title, or its type when it has none.
func titleText(f *finding.Finding) string {
	if f.Title != "" {
		return f.Title
	}
	return string(f.Type)
}

// kindText is "New" or "Updated".
func kindText(k Kind) string {
	if k == KindUpdate {
		return "Updated"
	}
	return "New"
}

// bandEmoji marks a severity band in chat messages.
func bandEmoji(b finding.Band) string {
	switch b {
	case finding.BandCritical:
		return "🟣"
	case finding.BandHigh:
		return "🔴"
	case finding.BandMedium:
		return "🟠"
	}
	return "🟡"
}

// highest returns the highest severity band among alerts.
func highest(alerts []Alert) finding.Band {
	var b finding.Band
	for i := range alerts {
		b = max(b, alerts[i].Finding.Severity.Band())
	}
	return b
}

// summaryText is a one-line summary of a batch: the title of a single alert,
// or "3 findings (highest: High)".
func summaryText(alerts []Alert) string {
	if len(alerts) == 1 {
		f := &alerts[0].Finding
		return f.Severity.Band().String() + ": " + titleText(f)
	}
	return fmt.Sprintf("%d findings (highest: %s)", len(alerts), highest(alerts).Title())
}

// deliveryID names a batch's exact content, the same on every attempt: the
// alerts' outbox IDs and revisions, hashed.
func deliveryID(alerts []Alert) string {
	h := sha256.New()
	var b [16]byte
	for i := range alerts {
		binary.BigEndian.PutUint64(b[:8], uint64(alerts[i].ID))
		binary.BigEndian.PutUint64(b[8:], uint64(alerts[i].Rev))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// clip cuts s to at most n bytes at a rune boundary, marking the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
