package export

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
)

// EventBridgeEvent is the event GuardDuty sends to EventBridge for a finding
// (and that EventBridge rules, Lambda functions and SIEM connectors consume):
// the envelope, with the finding as detail.
type EventBridgeEvent struct {
	Version    string           `json:"version"`
	ID         string           `json:"id"`
	DetailType string           `json:"detail-type"`
	Source     string           `json:"source"`
	Account    string           `json:"account"`
	Time       string           `json:"time"`
	Region     string           `json:"region"`
	Resources  []string         `json:"resources"`
	Detail     *finding.Finding `json:"detail"`
}

// ToEventBridge wraps f in the EventBridge envelope GuardDuty uses: version "0",
// detail-type "GuardDuty Finding", source "aws.guardduty", no resources, time
// the finding's updatedAt (whole seconds, as EventBridge writes it). The event
// ID is a UUID derived from the finding's ID and updatedAt, so the same state of
// a finding is the same event.
func ToEventBridge(f *finding.Finding, opts Options) EventBridgeEvent {
	return EventBridgeEvent{
		Version:    "0",
		ID:         eventID(f),
		DetailType: "GuardDuty Finding",
		Source:     "aws.guardduty",
		Account:    f.AccountID,
		Time:       f.UpdatedAt.Time().Truncate(time.Second).Format(time.RFC3339),
		Region:     f.Region,
		Resources:  []string{},
		Detail:     guardDutyView(f, opts),
	}
}

// eventID is a version 8 (vendor-defined) UUID hashed from the finding's ID and
// updatedAt.
func eventID(f *finding.Finding) string {
	h := sha256.New()
	h.Write([]byte("vigil-event\x00"))
	h.Write([]byte(f.ID))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(f.UpdatedAt))
	h.Write(b[:])
	return uuidOf(h.Sum(nil))
}

// uuidOf formats the first 16 bytes of sum as a version 8 UUID (RFC 9562).
func uuidOf(sum []byte) string {
	var u [16]byte
	copy(u[:], sum)
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
