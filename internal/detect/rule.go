package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// Rule is one detection: a threshold rule (records matching a filter, grouped by
// fields, counted over a window of event time, raising a finding when a threshold
// is reached) or a Go detector (Detector set) with the same configuration surface.
// Rules come from YAML files; see docs/detections.md for the format.
type Rule struct {
	ID          string
	Description string
	Kind        record.Kind
	// Detector names the Go detector behind the rule; "" for a threshold rule.
	Detector string
	Enabled  bool
	// Filter is a Logs Insights expression every record must match ("" for all).
	Filter string
	// Direction restricts flow rules to records of connections' initiating side
	// (DirRequest) or takes every record (DirAny).
	Direction Direction
	// GroupBy names the fields whose values make the key of a group.
	GroupBy []string
	// Window is the length of the window the threshold applies to. Counts cover
	// between Window and twice Window of event time (see window.DistinctSet).
	Window    time.Duration
	Threshold Threshold
	Finding   FindingSpec

	// Source is where the rule was read ("builtin:rules/portscan.yaml", a path).
	Source string
	// Builtin is true for rules embedded in the binary.
	Builtin bool
	// Overridden lists the files that overrode this rule's settings.
	Overridden []string

	filter    func(record.Record) bool
	pre       *prefilter // flows: a fast necessary condition of filter
	flowPred  flowPred   // flows: filter compiled to read the record directly (flowfilter.go)
	groupBy   []fieldRef
	paramNode *yaml.Node
	params    any // decoded parameters of a Go detector
	doc       *docDecoder
	src       []byte
}

// Direction restricts which flow records a rule sees.
type Direction uint8

// The directions.
const (
	DirAny     Direction = iota // every record
	DirRequest                  // records from the side that opened the connection
)

// Threshold says when a group raises a finding.
type Threshold struct {
	// Exactly one of Count, Distinct and Sum is set. Count counts records (for
	// flows: distinct flows, so a flow logged on two interfaces counts once);
	// Distinct counts distinct values of a field; Sum adds up a numeric field.
	Count    bool
	Distinct string
	Sum      string
	// AtLeast is the value the count, distinct count or sum must reach.
	AtLeast float64

	field *fieldRef
}

// Metric names the measured quantity for messages: "count", "distinct dstPort".
func (t Threshold) Metric() string {
	switch {
	case t.Distinct != "":
		return "distinct " + t.Distinct
	case t.Sum != "":
		return "sum of " + t.Sum
	}
	return "count"
}

// FindingSpec says what finding a rule raises.
type FindingSpec struct {
	Type finding.Type
	// Resources lists who the finding is about: for flows, the source or the
	// destination of the connections (each raises its own finding when it is one of
	// ours, with its role and severity); for DNS the querying instance; for
	// CloudTrail the caller's access key or the bucket.
	Resources []ResourceSpec
	// Title and Description override the catalogue's templates.
	Title, Description string
	// AdditionalInfo copies record fields into service.additionalInfo (key → field).
	AdditionalInfo map[string]string
}

// ResourceSpec is one resource a finding can be about.
type ResourceSpec struct {
	// Side is "src" or "dst" (flows), "instance" (DNS), "accessKey" or "bucket"
	// (CloudTrail).
	Side string
	Role finding.ResourceRole
	// Severity overrides the catalogue's severity (a band name or a number).
	Severity finding.Severity
}

// fieldRef is a field a rule reads: catalogued (id) or a JSON path.
type fieldRef struct {
	name string
	id   record.FieldID
	path bool
}

func (f fieldRef) get(r record.Record) record.Value {
	if f.path {
		return r.Path(f.name)
	}
	return r.Get(f.id)
}

// The YAML document of a rule file. Keys are camelCase; see docs/detections.md.
type ruleDoc struct {
	ID          string         `yaml:"id"`
	Override    string         `yaml:"override"`
	Description string         `yaml:"description"`
	Kind        string         `yaml:"kind"`
	Detector    string         `yaml:"detector"`
	Enabled     *bool          `yaml:"enabled"`
	Filter      *yaml.Node     `yaml:"filter"`
	Direction   string         `yaml:"direction"`
	GroupBy     []string       `yaml:"groupBy"`
	Window      *time.Duration `yaml:"window"`
	Threshold   *thresholdDoc  `yaml:"threshold"`
	Params      *yaml.Node     `yaml:"params"`
	Finding     *findingDoc    `yaml:"finding"`
}

type thresholdDoc struct {
	Count    *bool    `yaml:"count"`
	Distinct string   `yaml:"distinct"`
	Sum      string   `yaml:"sum"`
	AtLeast  *float64 `yaml:"atLeast"`
}

type findingDoc struct {
	Type           string            `yaml:"type"`
	Resources      []resourceDoc     `yaml:"resources"`
	Title          string            `yaml:"title"`
	Description    string            `yaml:"description"`
	AdditionalInfo map[string]string `yaml:"additionalInfo"`
}

type resourceDoc struct {
	Side     string `yaml:"side"`
	Role     string `yaml:"role"`
	Severity string `yaml:"severity"`
}

var ruleIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// parsedDoc is one YAML document of a rule file: a rule or an override.
type parsedDoc struct {
	doc  ruleDoc
	dec  *docDecoder
	root *yaml.Node
	src  []byte
	file string
}

// parseRuleFile splits a rule file into its YAML documents and decodes each
// strictly. Errors carry file:line:col.
func parseRuleFile(file string, src []byte) ([]parsedDoc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var out []parsedDoc
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlSyntaxError(file, err)
		}
		if len(root.Content) == 0 || root.Content[0].Kind == yaml.ScalarNode && root.Content[0].Tag == "!!null" {
			continue // an empty document (a file that is only comments, a trailing ---)
		}
		p := parsedDoc{dec: &docDecoder{file: file}, root: &root, src: src, file: file}
		if err := p.dec.decode(&root, reflect.ValueOf(&p.doc).Elem(), ""); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, &PosError{File: file, Msg: errNoDocument.Error()}
	}
	return out, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError turns yaml.v3's "yaml: line 3: mapping values are not allowed"
// into file:3: ….
func yamlSyntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscanf(m[1], "%d", &line)
		return &PosError{File: file, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return &PosError{File: file, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// build turns a rule document into a Rule and compiles it.
func (p *parsedDoc) build(builtin bool) (*Rule, error) {
	d := &p.doc
	errAt := func(path, format string, args ...any) error {
		return p.dec.errAt(p.dec.at(path), format, args...)
	}
	if d.Override != "" {
		return nil, errAt("override", "BUG: override document built as a rule")
	}
	if d.ID == "" {
		return nil, errAt("", "a rule needs an id (or override: ID to change a rule's settings)")
	}
	if !ruleIDPattern.MatchString(d.ID) {
		return nil, errAt("id", "rule id %q: use lower-case letters, digits, '.', '_' and '-' (at most 64)", d.ID)
	}
	r := &Rule{ID: d.ID, Description: strings.TrimSpace(d.Description), Source: p.file, Builtin: builtin,
		Enabled: true, doc: p.dec, src: p.src, Detector: d.Detector, paramNode: d.Params}
	if d.Enabled != nil {
		r.Enabled = *d.Enabled
	}
	if d.Kind == "" {
		return nil, errAt("", "rule %s: kind is required (flow, dns or cloudtrail)", d.ID)
	}
	kind, err := record.ParseKind(d.Kind)
	if err != nil {
		return nil, errAt("kind", "%v", err)
	}
	r.Kind = kind
	switch d.Direction {
	case "", "any":
	case "request":
		if kind != record.KindFlow {
			return nil, errAt("direction", "direction applies to flow rules only")
		}
		r.Direction = DirRequest
	default:
		return nil, errAt("direction", "direction %q: expected request or any", d.Direction)
	}
	if d.Filter != nil {
		if d.Filter.Kind != yaml.ScalarNode {
			return nil, errAt("filter", "filter: expected an expression (a string), found %s", describeNode(d.Filter))
		}
		r.Filter = d.Filter.Value
		if err := r.compileFilter(); err != nil {
			return nil, err
		}
	}
	r.GroupBy = d.GroupBy
	if d.Window != nil {
		r.Window = *d.Window
	}
	switch {
	case d.Finding != nil:
		if err := r.buildFinding(p, d.Finding); err != nil {
			return nil, err
		}
	case d.Detector == "":
		return nil, errAt("", "rule %s: finding is required (at least finding.type)", d.ID)
	}
	if d.Threshold != nil {
		t := d.Threshold
		n := 0
		if t.Count != nil && *t.Count {
			r.Threshold.Count = true
			n++
		}
		if t.Distinct != "" {
			r.Threshold.Distinct = t.Distinct
			n++
		}
		if t.Sum != "" {
			r.Threshold.Sum = t.Sum
			n++
		}
		if n > 1 {
			return nil, errAt("threshold", "threshold: give one of count, distinct and sum")
		}
		if n == 0 {
			r.Threshold.Count = true
		}
		if t.AtLeast == nil {
			return nil, errAt("threshold", "threshold: atLeast is required")
		}
		r.Threshold.AtLeast = *t.AtLeast
	}
	if err := r.compile(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Rule) buildFinding(p *parsedDoc, d *findingDoc) error {
	errAt := func(path, format string, args ...any) error {
		return p.dec.errAt(p.dec.at(path), format, args...)
	}
	if d.Type == "" && r.Detector != "" {
		return nil // the detector's types (checkDetector)
	}
	ti, ok := finding.Lookup(finding.Type(d.Type))
	if !ok {
		msg := fmt.Sprintf("finding type %q is not in the catalogue", d.Type)
		var names []string
		for _, t := range finding.Types() {
			names = append(names, string(t.Type))
		}
		if s := suggest(d.Type, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return errAt("finding.type", "%s (see vigil rules types)", msg)
	}
	r.Finding = FindingSpec{Type: ti.Type, Title: d.Title, Description: d.Description, AdditionalInfo: d.AdditionalInfo}
	for i, rd := range d.Resources {
		path := fmt.Sprintf("finding.resources.%d", i)
		rs := ResourceSpec{Side: rd.Side, Role: ti.Role}
		if !slices.Contains(sidesOf(r.Kind), rd.Side) {
			return errAt(path+".side", "side %q: a %s rule's resources are one of %s", rd.Side, r.Kind, strings.Join(sidesOf(r.Kind), ", "))
		}
		switch strings.ToUpper(rd.Role) {
		case "":
		case "ACTOR":
			rs.Role = finding.RoleActor
		case "TARGET":
			rs.Role = finding.RoleTarget
		default:
			return errAt(path+".role", "role %q: expected ACTOR or TARGET", rd.Role)
		}
		if rd.Severity != "" {
			sev, err := parseSeverity(rd.Severity)
			if err != nil {
				return errAt(path+".severity", "%v", err)
			}
			rs.Severity = sev
		}
		r.Finding.Resources = append(r.Finding.Resources, rs)
	}
	return nil
}

// sidesOf lists the resource sides a rule of a kind can name.
func sidesOf(k record.Kind) []string {
	switch k {
	case record.KindFlow:
		return []string{"src", "dst"}
	case record.KindDNS:
		return []string{"instance"}
	}
	return []string{"accessKey", "bucket"}
}

// parseSeverity reads a band name (Low, MEDIUM…) or a number from 1 to 10.
func parseSeverity(s string) (finding.Severity, error) {
	if b, err := finding.ParseBand(s); err == nil {
		return b.Default(), nil
	}
	var f float64
	if _, err := fmt.Sscanf(s, "%g", &f); err == nil {
		if sev := finding.Severity(f); sev.Band() != finding.BandNone {
			return sev, nil
		}
	}
	return 0, fmt.Errorf("severity %q: expected Low, Medium, High, Critical or a number from 1 to 10", s)
}

// compileFilter compiles the rule's filter; an error is positioned in the rule
// file, inside the filter's text.
func (r *Rule) compileFilter() error {
	r.filter, r.pre, r.flowPred = nil, nil, nil
	if r.Filter == "" {
		return nil
	}
	f, _, err := query.ParseFilter(r.Filter, r.Kind)
	if err != nil {
		n := r.doc.at("filter")
		var qe *query.Error
		if errors.As(err, &qe) && n != nil {
			line, col := scalarPos(r.src, n, qe.Line, qe.Column)
			return &PosError{File: r.doc.file, Line: line, Col: col, Msg: "filter: " + qe.Msg}
		}
		return r.doc.errAt(n, "filter: %v", err)
	}
	r.filter = f
	if r.Kind == record.KindFlow {
		r.pre = newPrefilter(r.Filter)
		r.flowPred = compileFlowFilter(r.Filter, r.pre)
	}
	return nil
}

// match reports whether a record passes the rule's filter.
func (r *Rule) match(x *rec) bool {
	if r.pre != nil && !r.pre.ok(x.flow) {
		return false
	}
	if r.flowPred != nil {
		return r.flowPred(x.flow)
	}
	return r.filter == nil || r.filter(x.r)
}

// compile checks the rule against the record catalogue and compiles its filter and
// fields. Errors point into the rule file.
func (r *Rule) compile() error {
	d := r.doc
	if err := r.compileFilter(); err != nil {
		return err
	}
	cat := record.CatalogueOf(r.Kind)
	resolve := func(path, name string) (fieldRef, error) {
		if f, ok := cat.Lookup(name); ok {
			return fieldRef{name: name, id: f.ID}, nil
		}
		if cat.Open && name != "" && !strings.HasPrefix(name, "@") {
			return fieldRef{name: name, path: true}, nil
		}
		msg := fmt.Sprintf("unknown field %q: %s records have no such field", name, r.Kind)
		if s := cat.Suggest(name); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %q?", s[0])
		} else if s := suggest(name, cat.Names()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return fieldRef{}, d.errAt(d.at(path), "%s", msg)
	}
	r.groupBy = r.groupBy[:0]
	for i, g := range r.GroupBy {
		f, err := resolve(fmt.Sprintf("groupBy.%d", i), g)
		if err != nil {
			return err
		}
		r.groupBy = append(r.groupBy, f)
	}
	if r.Detector != "" {
		return nil // the detector checks its own settings (buildDetector)
	}
	if r.Threshold.AtLeast < 0 {
		return d.errAt(d.at("threshold.atLeast"), "threshold.atLeast must not be negative")
	}
	if fld := r.Threshold.Distinct + r.Threshold.Sum; fld != "" {
		path := "threshold.distinct"
		if r.Threshold.Sum != "" {
			path = "threshold.sum"
		}
		f, err := resolve(path, fld)
		if err != nil {
			return err
		}
		r.Threshold.field = &f
	}
	if r.Threshold.AtLeast > 1 || r.Threshold.Distinct != "" || r.Threshold.Sum != "" {
		if r.Window <= 0 {
			return d.errAt(d.at("threshold"), "a threshold above 1 needs a window (e.g. window: 10m)")
		}
	}
	if r.Window > 0 && r.Window < time.Second {
		return d.errAt(d.at("window"), "window %s: must be at least 1s", r.Window)
	}
	for k, name := range r.Finding.AdditionalInfo {
		if _, err := resolve("finding.additionalInfo."+k, name); err != nil {
			return err
		}
	}
	if len(r.Finding.Resources) == 0 {
		return d.errAt(d.at("finding"), "finding.resources: name at least one resource (side: %s)", strings.Join(sidesOf(r.Kind), ", "))
	}
	if r.Kind == record.KindFlow && r.Window > 0 {
		for i, rs := range r.Finding.Resources {
			want := map[string]string{"src": "srcAddr", "dst": "dstAddr"}[rs.Side]
			if !slices.Contains(r.GroupBy, want) {
				return d.errAt(d.at(fmt.Sprintf("finding.resources.%d.side", i)),
					"side %s: groupBy must include %s, so that each group is about one %s", rs.Side, want, rs.Side)
			}
		}
	}
	return nil
}

// apply changes r as the override says. Only enabled, filter (replaces),
// window, threshold.atLeast, params (merged key by key), severity of resources and
// description may change; the rest of the rule is the rule's.
func (o *parsedDoc) apply(r *Rule) error {
	d := &o.doc
	errAt := func(path, format string, args ...any) error {
		return o.dec.errAt(o.dec.at(path), format, args...)
	}
	for _, bad := range []struct {
		set  bool
		name string
	}{
		{d.ID != "", "id"}, {d.Kind != "", "kind"}, {d.Detector != "", "detector"},
		{d.Direction != "", "direction"}, {d.GroupBy != nil, "groupBy"}, {d.Finding != nil, "finding"},
	} {
		if bad.set {
			return o.dec.errAt(o.dec.key(bad.name), "an override may change enabled, filter, window, threshold.atLeast and params; to change %s, copy the rule (vigil rules show %s) under a new id", bad.name, r.ID)
		}
	}
	if d.Enabled != nil {
		r.Enabled = *d.Enabled
	}
	if d.Description != "" {
		r.Description = d.Description
	}
	if d.Window != nil {
		r.Window = *d.Window
	}
	if d.Threshold != nil {
		t := d.Threshold
		if t.Count != nil || t.Distinct != "" || t.Sum != "" {
			return errAt("threshold", "an override may only change threshold.atLeast")
		}
		if t.AtLeast != nil {
			r.Threshold.AtLeast = *t.AtLeast
		}
	}
	// From here on, problems with the rule are the override's: the parts it
	// changes are checked with positions in its file.
	r.Overridden = append(r.Overridden, o.file)
	r.doc, r.src = o.dec, o.src
	if d.Filter != nil {
		if d.Filter.Kind != yaml.ScalarNode {
			return errAt("filter", "filter: expected an expression (a string)")
		}
		r.Filter = d.Filter.Value
		if err := r.compileFilter(); err != nil {
			return err
		}
	}
	if d.Params != nil {
		if r.Detector == "" {
			return errAt("params", "rule %s is a threshold rule; it has no params (change threshold.atLeast or window)", r.ID)
		}
		merged, err := mergeParams(r.paramNode, d.Params)
		if err != nil {
			return errAt("params", "%v", err)
		}
		r.paramNode = merged
	}
	return nil
}

// mergeParams returns base's mapping with over's keys replacing base's.
func mergeParams(base, over *yaml.Node) (*yaml.Node, error) {
	if over.Kind != yaml.MappingNode {
		return nil, errors.New("params: expected a mapping")
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	keys := map[string]int{}
	if base != nil {
		for i := 0; i+1 < len(base.Content); i += 2 {
			keys[base.Content[i].Value] = len(out.Content)
			out.Content = append(out.Content, base.Content[i], base.Content[i+1])
		}
	}
	for i := 0; i+1 < len(over.Content); i += 2 {
		if j, ok := keys[over.Content[i].Value]; ok {
			out.Content[j], out.Content[j+1] = over.Content[i], over.Content[i+1]
			continue
		}
		out.Content = append(out.Content, over.Content[i], over.Content[i+1])
	}
	return out, nil
}

// decodeParams decodes the rule's params into v (a pointer to the detector's
// parameter struct, already holding its defaults), strictly.
func (r *Rule) decodeParams(v any) error {
	if r.paramNode == nil {
		return nil
	}
	return r.doc.decode(r.paramNode, reflect.ValueOf(v).Elem(), "params")
}
