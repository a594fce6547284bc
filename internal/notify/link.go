package notify

import (
	"errors"
	"net/url"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Linker builds the link to a finding's page from Config.LinkURL.
type Linker struct {
	template string
}

// NewLinker checks a link URL: empty (no links), a base URL (links are
// <base>/findings/<id>), or a template with {id}, {region}, {account} and {type}
// placeholders.
func NewLinker(s string) (Linker, error) {
	if s == "" {
		return Linker{}, nil
	}
	probe := strings.NewReplacer("{id}", "x", "{region}", "x", "{account}", "x", "{type}", "x").Replace(s)
	if strings.ContainsAny(probe, "{}") {
		return Linker{}, errors.New("unknown placeholder (want {id}, {region}, {account} or {type})")
	}
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Linker{}, errors.New("not an http or https URL")
	}
	if !strings.Contains(s, "{") {
		s = strings.TrimRight(s, "/") + "/findings/{id}"
	}
	return Linker{template: s}, nil
}

// Link returns the link to f, or "" when no link is configured. Values are
// escaped for a URL path or query.
func (l Linker) Link(f *finding.Finding) string {
	if l.template == "" {
		return ""
	}
	return strings.NewReplacer(
		"{id}", url.PathEscape(f.ID),
		"{region}", url.PathEscape(f.Region),
		"{account}", url.PathEscape(f.AccountID),
		"{type}", url.QueryEscape(string(f.Type)),
	).Replace(l.template)
}
