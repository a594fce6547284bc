package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Slack posts Block Kit messages to a Slack incoming webhook: per finding a
// header with its severity band and type, the title (linked to the finding when
// a link is configured), fields for severity, type, resource, account and region,
// count, first and last seen and the remote party, and a context line with the
// finding ID.
//
// Everything that comes from a finding is escaped for Slack's mrkdwn (&, <, >),
// so a hostile domain or user agent cannot mention @channel or forge a link.
type Slack struct {
	cfg    SlackConfig
	client *http.Client
}

// slackBlocksPerAlert is how many blocks one finding takes; Slack accepts 50
// blocks per message.
const slackBlocksPerAlert = 5

// NewSlack returns the Slack notifier of cfg.
func NewSlack(cfg SlackConfig, client *http.Client) *Slack {
	return &Slack{cfg: cfg, client: client}
}

// MaxBatch implements Notifier: as many findings as fit in 50 blocks.
func (s *Slack) MaxBatch() int { return 50 / slackBlocksPerAlert }

// Send implements Notifier.
func (s *Slack) Send(ctx context.Context, alerts []Alert) error {
	body, err := json.Marshal(s.message(alerts))
	if err != nil {
		return Permanent(fmt.Errorf("encode slack message: %w", err))
	}
	return post(ctx, s.client, s.cfg.WebhookURL.Reveal(), body, nil, "post to slack webhook")
}

// SlackMessage is an incoming-webhook payload.
type SlackMessage struct {
	Channel   string       `json:"channel,omitempty"`
	Username  string       `json:"username,omitempty"`
	IconEmoji string       `json:"icon_emoji,omitempty"`
	Text      string       `json:"text"`
	Blocks    []SlackBlock `json:"blocks"`
}

// SlackBlock is a Block Kit block (header, section, context or divider).
type SlackBlock struct {
	Type     string      `json:"type"`
	Text     *SlackText  `json:"text,omitempty"`
	Fields   []SlackText `json:"fields,omitempty"`
	Elements []SlackText `json:"elements,omitempty"`
}

// SlackText is a Block Kit text object.
type SlackText struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

func (s *Slack) message(alerts []Alert) SlackMessage {
	m := SlackMessage{
		Channel:   s.cfg.Channel,
		Username:  s.cfg.Username,
		IconEmoji: s.cfg.IconEmoji,
		// The notification text (phones, screen readers) is plain; Slack
		// reads it as mrkdwn, so it is escaped too.
		Text:   slackEscape(clip("vigil: "+summaryText(alerts), 3000)),
		Blocks: make([]SlackBlock, 0, len(alerts)*slackBlocksPerAlert),
	}
	for i := range alerts {
		if i > 0 {
			m.Blocks = append(m.Blocks, SlackBlock{Type: "divider"})
		}
		m.Blocks = append(m.Blocks, slackBlocks(&alerts[i])...)
	}
	return m
}

func slackBlocks(a *Alert) []SlackBlock {
	f := &a.Finding
	band := f.Severity.Band()
	header := fmt.Sprintf("%s %s %s finding: %s", bandEmoji(band), kindText(a.Kind), band.Title(), f.Type)
	title := "*" + slackEscape(clip(titleText(f), 2900)) + "*"
	if a.Link != "" {
		title = "*<" + slackLinkURL(a.Link) + "|" + slackEscape(clip(titleText(f), 2800)) + ">*"
	}
	field := func(name, value string) SlackText {
		return SlackText{Type: "mrkdwn", Text: "*" + name + "*\n" + slackEscape(clip(value, 1900))}
	}
	fields := []SlackText{
		field("Severity", severityText(f)),
		field("Type", string(f.Type)),
		field("Resource", resourceText(f)),
		field("Account / Region", f.AccountID+" / "+f.Region),
		field("Count", strconv.FormatInt(f.Service.Count, 10)),
		field("First seen", timeText(f.Service.EventFirstSeen)),
		field("Last seen", timeText(f.Service.EventLastSeen)),
	}
	if actor := actorText(f); actor != "" {
		fields = append(fields, field("Remote", actor))
	}
	ctx := "Finding `" + slackEscape(f.ID) + "` · updated " + timeText(f.UpdatedAt)
	if a.Link != "" {
		ctx += " · <" + slackLinkURL(a.Link) + "|View finding>"
	}
	return []SlackBlock{
		{Type: "header", Text: &SlackText{Type: "plain_text", Text: clip(header, 150)}},
		{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: title}},
		{Type: "section", Fields: fields},
		{Type: "context", Elements: []SlackText{{Type: "mrkdwn", Text: ctx}}},
	}
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to:
// without it "<!channel>" in a log would page a whole channel.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// slackLinkURL makes a URL safe inside <url|text>: '|' and '>' would end it.
var slackLinkURL = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace
