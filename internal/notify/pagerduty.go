package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/vigil-dev/vigil/internal/finding"
)

// PagerDutyEventsURL is the Events API v2 endpoint.
const PagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty triggers PagerDuty alerts through the Events API v2, one event per
// finding. The dedup_key is the finding ID, so repeats of a finding update the
// same PagerDuty alert rather than paging again. Severity maps by band:
// Critical → critical, High → error, Medium → warning, Low → info.
type PagerDuty struct {
	cfg    PagerDutyConfig
	client *http.Client
}

// NewPagerDuty returns the PagerDuty notifier of cfg.
func NewPagerDuty(cfg PagerDutyConfig, client *http.Client) *PagerDuty {
	if cfg.URL == "" {
		cfg.URL = PagerDutyEventsURL
	}
	return &PagerDuty{cfg: cfg, client: client}
}

// MaxBatch implements Notifier: the Events API takes one event per request.
func (p *PagerDuty) MaxBatch() int { return 1 }

// PagerDutyEvent is an Events API v2 event.
type PagerDutyEvent struct {
	RoutingKey  string           `json:"routing_key"`
	EventAction string           `json:"event_action"`
	DedupKey    string           `json:"dedup_key"`
	Payload     PagerDutyPayload `json:"payload"`
	Links       []PagerDutyLink  `json:"links,omitempty"`
	Client      string           `json:"client,omitempty"`
	ClientURL   string           `json:"client_url,omitempty"`
}

// PagerDutyPayload is the event's payload.
type PagerDutyPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// PagerDutyLink is a link shown with the alert.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// PagerDutySeverity maps a severity band to the Events API's severity.
func PagerDutySeverity(b finding.Band) string {
	switch b {
	case finding.BandCritical:
		return "critical"
	case finding.BandHigh:
		return "error"
	case finding.BandMedium:
		return "warning"
	}
	return "info"
}

// Send implements Notifier.
func (p *PagerDuty) Send(ctx context.Context, alerts []Alert) error {
	for i := range alerts {
		body, err := json.Marshal(p.event(&alerts[i]))
		if err != nil {
			return Permanent(fmt.Errorf("encode pagerduty event: %w", err))
		}
		if err := post(ctx, p.client, p.cfg.URL, body, nil, "post to pagerduty events API"); err != nil {
			return err
		}
	}
	return nil
}

func (p *PagerDuty) event(a *Alert) PagerDutyEvent {
	f := &a.Finding
	source := finding.ResourceID(&f.Resource)
	if source == "" {
		source = f.AccountID
	}
	details := map[string]any{
		"finding_id":  f.ID,
		"arn":         f.ARN,
		"type":        string(f.Type),
		"severity":    float64(f.Severity),
		"account":     f.AccountID,
		"region":      f.Region,
		"resource":    resourceText(f),
		"count":       f.Service.Count,
		"first_seen":  timeText(f.Service.EventFirstSeen),
		"last_seen":   timeText(f.Service.EventLastSeen),
		"description": f.Description,
		"alert_kind":  string(a.Kind),
	}
	if actor := actorText(f); actor != "" {
		details["remote"] = actor
	}
	e := PagerDutyEvent{
		RoutingKey:  p.cfg.RoutingKey.Reveal(),
		EventAction: "trigger",
		DedupKey:    f.ID,
		Payload: PagerDutyPayload{
			Summary:       clip("["+f.Severity.Band().String()+"] "+titleText(f), 1024),
			Source:        clip(source, 255),
			Severity:      PagerDutySeverity(f.Severity.Band()),
			Component:     clip(resourceText(f), 255),
			Group:         f.AccountID + "/" + f.Region,
			Class:         string(f.Type),
			CustomDetails: details,
		},
		Client: "vigil",
	}
	if f.UpdatedAt != 0 {
		e.Payload.Timestamp = f.UpdatedAt.String()
	}
	if a.Link != "" {
		e.Links = []PagerDutyLink{{Href: a.Link, Text: "View finding"}}
		e.ClientURL = a.Link
	}
	return e
}
