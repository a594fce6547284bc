package detect

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/finding"
)

// ruleOut is a rule as `vigil rules show` prints it: the effective settings,
// overrides applied, in the rule-file format (so the output can be copied into a
// rule file and edited).
type ruleOut struct {
	ID          string      `yaml:"id"`
	Description string      `yaml:"description,omitempty"`
	Kind        string      `yaml:"kind"`
	Detector    string      `yaml:"detector,omitempty"`
	Enabled     bool        `yaml:"enabled"`
	Filter      string      `yaml:"filter,omitempty"`
	Direction   string      `yaml:"direction,omitempty"`
	GroupBy     []string    `yaml:"groupBy,omitempty,flow"`
	Window      string      `yaml:"window,omitempty"`
	Threshold   *thresholdO `yaml:"threshold,omitempty"`
	Params      any         `yaml:"params,omitempty"`
	Finding     findingOut  `yaml:"finding"`
}

type thresholdO struct {
	Count    bool    `yaml:"count,omitempty"`
	Distinct string  `yaml:"distinct,omitempty"`
	Sum      string  `yaml:"sum,omitempty"`
	AtLeast  float64 `yaml:"atLeast"`
}

type findingOut struct {
	Type           string            `yaml:"type"`
	Resources      []resourceOut     `yaml:"resources,omitempty"`
	Title          string            `yaml:"title,omitempty"`
	Description    string            `yaml:"description,omitempty"`
	AdditionalInfo map[string]string `yaml:"additionalInfo,omitempty"`
}

type resourceOut struct {
	Side     string `yaml:"side"`
	Role     string `yaml:"role,omitempty"`
	Severity string `yaml:"severity,omitempty"`
}

// YAML renders the rule's effective settings in the rule-file format.
func (r *Rule) YAML() ([]byte, error) {
	o := ruleOut{ID: r.ID, Description: r.Description, Kind: r.Kind.String(), Detector: r.Detector,
		Enabled: r.Enabled, Filter: r.Filter, GroupBy: r.GroupBy, Params: r.params}
	if r.Direction == DirRequest {
		o.Direction = "request"
	}
	if r.Window > 0 {
		o.Window = formatDuration(r.Window)
	}
	if r.Detector == "" && r.Window > 0 {
		t := r.Threshold
		o.Threshold = &thresholdO{Count: t.Count, Distinct: t.Distinct, Sum: t.Sum, AtLeast: t.AtLeast}
	}
	o.Finding = findingOut{Type: string(r.Finding.Type), Title: r.Finding.Title, Description: r.Finding.Description,
		AdditionalInfo: r.Finding.AdditionalInfo}
	for _, rs := range r.Finding.Resources {
		ro := resourceOut{Side: rs.Side, Role: string(rs.Role)}
		if rs.Severity != 0 {
			ro.Severity = fmt.Sprintf("%g", float64(rs.Severity))
		}
		o.Finding.Resources = append(o.Finding.Resources, ro)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(o); err != nil {
		return nil, fmt.Errorf("render rule %s: %w", r.ID, err)
	}
	return b.Bytes(), enc.Close()
}

// Summary says in a few words what makes the rule fire: "distinct dstPort ≥ 50
// in 5m by srcAddr, dstAddr", "each matching event", "Go detector dos".
func (r *Rule) Summary() string {
	switch {
	case r.Detector != "":
		s := "Go detector " + r.Detector
		if r.Window > 0 {
			s += " (window " + formatDuration(r.Window) + ")"
		}
		return s
	case r.Window <= 0:
		return "each matching event"
	}
	s := fmt.Sprintf("%s ≥ %g in %s", r.Threshold.Metric(), r.Threshold.AtLeast, formatDuration(r.Window))
	if len(r.GroupBy) > 0 {
		s += " by "
		for i, g := range r.GroupBy {
			if i > 0 {
				s += ", "
			}
			s += g
		}
	}
	return s
}

// Severity describes the severity the rule's findings get: the catalogue's
// band, or per role.
func (r *Rule) Severity() string {
	ti, ok := finding.Lookup(r.Finding.Type)
	if !ok {
		return "-"
	}
	switch ti.Rule.Kind {
	case finding.SevActor:
		return fmt.Sprintf("%s (TARGET), %s (ACTOR)", ti.Severity.Band().Title(), ti.Rule.Severity.Band().Title())
	case finding.SevLocalPort, finding.SevRemotePort:
		return fmt.Sprintf("%s; %s on ports %v", ti.Severity.Band().Title(), ti.Rule.Severity.Band().Title(), ti.Rule.Ports)
	case finding.SevVariable:
		return fmt.Sprintf("%s to %s", ti.Severity.Band().Title(), ti.Rule.Severity.Band().Title())
	}
	return ti.Severity.Band().Title()
}
