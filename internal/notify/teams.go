package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Teams posts an Adaptive Card to a Microsoft Teams incoming webhook (a
// Workflows webhook or a legacy connector): per finding a heading with its
// severity band and type, the title, a fact set (severity, type, resource,
// account and region, count, first and last seen, remote party) and a "View
// finding" button when a link is configured. Values from findings have the
// characters Teams' Markdown gives meaning to escaped.
type Teams struct {
	cfg    TeamsConfig
	client *http.Client
}

// NewTeams returns the Teams notifier of cfg.
func NewTeams(cfg TeamsConfig, client *http.Client) *Teams {
	return &Teams{cfg: cfg, client: client}
}

// MaxBatch implements Notifier: Teams refuses messages over 28 KB.
func (t *Teams) MaxBatch() int { return 5 }

// Send implements Notifier.
func (t *Teams) Send(ctx context.Context, alerts []Alert) error {
	body, err := json.Marshal(teamsMessage(alerts))
	if err != nil {
		return Permanent(fmt.Errorf("encode teams message: %w", err))
	}
	return post(ctx, t.client, t.cfg.WebhookURL.Reveal(), body, nil, "post to teams webhook")
}

// TeamsMessage is the webhook payload: a message with one Adaptive Card.
type TeamsMessage struct {
	Type        string            `json:"type"`
	Attachments []TeamsAttachment `json:"attachments"`
}

// TeamsAttachment carries the card.
type TeamsAttachment struct {
	ContentType string       `json:"contentType"`
	ContentURL  *string      `json:"contentUrl"`
	Content     AdaptiveCard `json:"content"`
}

// AdaptiveCard is the card (schema 1.4).
type AdaptiveCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []CardElement  `json:"body"`
	Actions []CardAction   `json:"actions,omitempty"`
	MSTeams map[string]any `json:"msteams,omitempty"`
}

// CardElement is a TextBlock, a FactSet or a Container.
type CardElement struct {
	Type      string        `json:"type"`
	Text      string        `json:"text,omitempty"`
	Size      string        `json:"size,omitempty"`
	Weight    string        `json:"weight,omitempty"`
	Color     string        `json:"color,omitempty"`
	Wrap      bool          `json:"wrap,omitempty"`
	Separator bool          `json:"separator,omitempty"`
	Facts     []CardFact    `json:"facts,omitempty"`
	Items     []CardElement `json:"items,omitempty"`
}

// CardFact is one row of a FactSet.
type CardFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// CardAction is a button.
type CardAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

func teamsMessage(alerts []Alert) TeamsMessage {
	card := AdaptiveCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		MSTeams: map[string]any{"width": "Full"},
	}
	for i := range alerts {
		a := &alerts[i]
		f := &a.Finding
		band := f.Severity.Band()
		color := "Warning"
		if band >= finding.BandHigh {
			color = "Attention"
		}
		facts := []CardFact{
			{"Severity", teamsEscape(severityText(f))},
			{"Type", teamsEscape(string(f.Type))},
			{"Resource", teamsEscape(resourceText(f))},
			{"Account / Region", teamsEscape(f.AccountID + " / " + f.Region)},
			{"Count", strconv.FormatInt(f.Service.Count, 10)},
			{"First seen", timeText(f.Service.EventFirstSeen)},
			{"Last seen", timeText(f.Service.EventLastSeen)},
		}
		if actor := actorText(f); actor != "" {
			facts = append(facts, CardFact{"Remote", teamsEscape(actor)})
		}
		facts = append(facts, CardFact{"Finding ID", teamsEscape(f.ID)})
		items := []CardElement{
			{Type: "TextBlock", Text: teamsEscape(fmt.Sprintf("%s %s %s finding: %s", bandEmoji(band), kindText(a.Kind), band.Title(), f.Type)),
				Size: "Medium", Weight: "Bolder", Color: color, Wrap: true},
			{Type: "TextBlock", Text: teamsEscape(clip(titleText(f), 1000)), Wrap: true},
			{Type: "FactSet", Facts: facts},
		}
		card.Body = append(card.Body, CardElement{Type: "Container", Separator: i > 0, Items: items})
		if a.Link != "" {
			title := "View finding"
			if len(alerts) > 1 {
				title = fmt.Sprintf("View finding %d", i+1)
			}
			card.Actions = append(card.Actions, CardAction{Type: "Action.OpenUrl", Title: title, URL: a.Link})
		}
	}
	return TeamsMessage{Type: "message", Attachments: []TeamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content:     card,
	}}}
}

// teamsEscape escapes what would let a value from a log make a link or markup
// in card text (Teams renders a subset of Markdown there).
var teamsEscape = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;").Replace
