package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/record"
)

// goDetector describes a detection written in Go: what a rule's `detector:` key
// names. Its rule file gives it the same surface as a threshold rule (id,
// enabled, filter, window, finding) plus params, whose defaults are the struct
// newParams returns and whose keys are checked strictly.
type goDetector struct {
	name string
	kind record.Kind
	// types are the finding types the detector raises (the first is the rule's
	// finding.type when its file gives none).
	types []finding.Type
	// newParams returns a pointer to the parameters with their defaults.
	newParams func() any
	// check validates decoded parameters against the rule (nil: nothing to check).
	check func(r *Rule, params any) error
	// build makes the detector for the engine.
	build func(r *Rule, params any, e *Engine) detector
}

var registry = map[string]*goDetector{}

func register(d *goDetector) {
	if _, dup := registry[d.name]; dup {
		panic("BUG: detect: detector " + d.name + " registered twice")
	}
	registry[d.name] = d
}

// DetectorNames lists the Go detectors a rule can name, sorted.
func DetectorNames() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// checkDetector decodes and validates a Go detector rule's parameters (a threshold
// rule has none). Errors point into the rule file.
func checkDetector(r *Rule) error {
	if r.Detector == "" {
		if r.paramNode != nil {
			return r.doc.errAt(r.doc.at("params"), "params belong to Go detectors (detector: …); a threshold rule uses threshold and window")
		}
		return nil
	}
	gd, ok := registry[r.Detector]
	if !ok {
		msg := fmt.Sprintf("detector %q: no such Go detector", r.Detector)
		if s := suggest(r.Detector, DetectorNames()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += " (known: " + strings.Join(DetectorNames(), ", ") + ")"
		}
		return r.doc.errAt(r.doc.at("detector"), "%s", msg)
	}
	if r.Finding.Type == "" {
		r.Finding.Type = gd.types[0]
	} else if !slices.Contains(gd.types, r.Finding.Type) {
		return r.doc.errAt(r.doc.at("finding.type"), "detector %s raises %s, not %s", gd.name, typeList(gd.types), r.Finding.Type)
	}
	if gd.kind != r.Kind {
		return r.doc.errAt(r.doc.at("kind"), "detector %s reads %s records, not %s", gd.name, gd.kind, r.Kind)
	}
	if r.Threshold != (Threshold{}) {
		return r.doc.errAt(r.doc.at("threshold"), "detector %s takes its thresholds from params, not threshold", gd.name)
	}
	p := gd.newParams()
	if err := r.decodeParams(p); err != nil {
		return err
	}
	if gd.check != nil {
		if err := gd.check(r, p); err != nil {
			// Point at the parameter the message starts with, when it names one.
			n := r.doc.at("params")
			word, _, _ := strings.Cut(err.Error(), " ")
			word = strings.TrimSuffix(word, ":")
			if pn := r.doc.at("params." + word); pn != nil {
				n = pn
			} else if word == "this" {
				n = r.doc.key("window")
			}
			if n == nil {
				n = r.doc.at("")
			}
			return r.doc.errAt(n, "%v", err)
		}
	}
	r.params = p
	return nil
}

// buildDetector makes the engine's detector for a rule.
func buildDetector(r *Rule, e *Engine) (detector, error) {
	if r.Detector == "" {
		return &thresholdDetector{rule: r}, nil
	}
	gd, ok := registry[r.Detector]
	if !ok {
		return nil, fmt.Errorf("rule %s: %w %q", r.ID, errUnknownDetector, r.Detector)
	}
	if r.params == nil {
		if err := checkDetector(r); err != nil {
			return nil, err
		}
	}
	return gd.build(r, r.params, e), nil
}

// Types returns the finding types the rule can raise: its detector's, or its
// own finding type.
func (r *Rule) Types() []finding.Type {
	if gd, ok := registry[r.Detector]; ok {
		return gd.types
	}
	return []finding.Type{r.Finding.Type}
}

func typeList(ts []finding.Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// ParamsValue returns a Go detector rule's parameters (a pointer to its parameter
// struct), for display; nil for a threshold rule.
func (r *Rule) ParamsValue() any { return r.params }

func checkPorts(name string, p []int) error {
	for _, n := range p {
		if n < 0 || n > 65535 {
			return fmt.Errorf("%s: port %d out of 0–65535", name, n)
		}
	}
	return nil
}

// prefixes is a list of CIDR prefixes in params.
func parsePrefixes(name string, ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return nil, fmt.Errorf("%s: %q is not an address or CIDR prefix", name, s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
