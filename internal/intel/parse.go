package intel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
)

// GuardDuty's list limits, vigil's defaults (Options.MaxEntries, MaxBytes).
// GuardDuty documents 250,000 entries per threat list, 2,000 per trusted list and
// 35 MB per file, none of which it will raise. vigil applies the same defaults so
// that a list that works in GuardDuty works here and a runaway file (a feed URL
// that starts serving something else) is refused rather than loaded; unlike
// GuardDuty, each can be raised per list.
const (
	DefaultMaxThreatEntries  = 250_000
	DefaultMaxTrustedEntries = 2_000
	DefaultMaxBytes          = 35 << 20
	// DefaultMaxWarnings is how many bad lines a list reports one by one; the
	// rest are counted (List.Bad) and summed up in one last warning.
	DefaultMaxWarnings = 100
)

// Options says how to read one list.
type Options struct {
	// Name is the list's name, reported in findings as threatListName. Required.
	Name string
	// Kind is Threat or Trusted. Required.
	Kind Kind
	// Format of the file; FormatAuto (the zero value) detects it.
	Format Format
	// Source names the file in warnings and entries ("lists/threat.txt", a URL).
	// LoadFile and the Loader set it to the path or URL.
	Source string
	// Threat is the threat name given to entries whose format has none (a TXT
	// list of Tor exits: "Tor exit node").
	Threat string
	// Finding is the finding type given to every entry (see Entry.Finding);
	// usually empty.
	Finding finding.Type
	// MaxEntries caps the number of entries: more is an error wrapping
	// ErrTooManyEntries. 0 means GuardDuty's limit for the kind
	// (DefaultMaxThreatEntries or DefaultMaxTrustedEntries); negative means no
	// limit.
	MaxEntries int
	// MaxBytes caps the file size: more is an error wrapping ErrTooLarge. 0 means
	// DefaultMaxBytes; negative means no limit.
	MaxBytes int64
	// MaxWarnings caps the warnings reported one by one; 0 means
	// DefaultMaxWarnings.
	MaxWarnings int
}

func (o *Options) maxEntries() int {
	switch {
	case o.MaxEntries > 0:
		return o.MaxEntries
	case o.MaxEntries < 0:
		return int(^uint(0) >> 1)
	case o.Kind == Trusted:
		return DefaultMaxTrustedEntries
	}
	return DefaultMaxThreatEntries
}

func (o *Options) maxBytes() int64 {
	switch {
	case o.MaxBytes > 0:
		return o.MaxBytes
	case o.MaxBytes < 0:
		return 1<<63 - 1
	}
	return DefaultMaxBytes
}

func (o *Options) validate() error {
	if o.Name == "" {
		return errors.New("list has no name")
	}
	if o.Kind != Threat && o.Kind != Trusted {
		return fmt.Errorf("list %s: kind must be threat or trusted", o.Name)
	}
	if int(o.Format) >= len(formatNames) {
		return fmt.Errorf("list %s: unknown format %d", o.Name, o.Format)
	}
	return nil
}

// LoadFile reads the list at path. The returned warnings name the lines that
// were skipped (path:line: what was expected); an error means no list.
func LoadFile(path string, opt Options) (*List, []Warning, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if opt.Source == "" {
		opt.Source = path
	}
	return Parse(f, opt)
}

// Parse reads a list from r. Bad lines are skipped and returned as warnings; the
// good ones around them are loaded. It fails, returning no list, when the content
// is larger than MaxBytes, has more than MaxEntries entries, cannot be read in
// its format at all (STIX that is not XML), or has bad lines and not a single
// good one (a file that is not a list, such as an HTML error page served in place
// of a feed).
func Parse(r io.Reader, opt Options) (*List, []Warning, error) {
	if err := opt.validate(); err != nil {
		return nil, nil, err
	}
	if opt.Source == "" {
		opt.Source = opt.Name
	}
	data, err := readCapped(r, opt.maxBytes())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", opt.Source, err)
	}
	return parseBytes(data, opt)
}

// readCapped reads all of r, failing with ErrTooLarge past max bytes.
func readCapped(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("%w: more than %d bytes (GuardDuty's limit is 35 MB; raise the list's max bytes to load it)", ErrTooLarge, max)
	}
	return buf.Bytes(), nil
}

func parseBytes(data []byte, opt Options) (*List, []Warning, error) {
	format := opt.Format
	if format == FormatAuto {
		format = DetectFormat(data)
	}
	b := &builder{opt: opt, limit: opt.maxEntries(), maxWarn: opt.MaxWarnings, intern: map[string]string{}}
	if b.maxWarn <= 0 {
		b.maxWarn = DefaultMaxWarnings
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	var err error
	switch format {
	case FormatTXT:
		err = parseTXT(b, data)
	case FormatSTIX:
		err = parseSTIX(b, data)
	case FormatOTXCSV:
		err = parseOTX(b, data)
	case FormatAlienVault:
		err = parseAlienVault(b, data)
	case FormatProofPoint:
		err = parseProofPoint(b, data)
	case FormatFireEye:
		err = parseFireEye(b, data)
	case FormatTorExit:
		err = parseTorExit(b, data)
	case FormatAbuseCH:
		err = parseAbuseCH(b, data)
	case FormatSpamhausDROP:
		err = parseDROP(b, data)
	case FormatSpamhausJSON:
		err = parseDROPJSON(b, data)
	default:
		err = fmt.Errorf("unknown format %v", format)
	}
	if err == nil && b.err != nil {
		err = b.err
	}
	if err != nil {
		return nil, b.warnings, err
	}
	if len(b.entries) == 0 && b.bad > 0 {
		return nil, b.warnings, fmt.Errorf("%s: %w: no line is a valid %v entry (%d bad lines; the first: %s)",
			opt.Source, ErrFormat, format, b.bad, b.warnings[0].Msg)
	}
	if b.bad > len(b.warnings) {
		b.warnings = append(b.warnings, Warning{File: opt.Source, Msg: fmt.Sprintf("%d more bad lines not shown", b.bad-len(b.warnings))})
	}
	l := &List{
		Name:     opt.Name,
		Kind:     opt.Kind,
		Format:   format,
		Source:   opt.Source,
		Entries:  b.entries,
		Bad:      b.bad,
		Skipped:  b.skipped,
		Warnings: b.warnings,
	}
	return l, b.warnings, nil
}

// builder collects the entries and warnings of one list as a parser finds them.
type builder struct {
	opt      Options
	limit    int
	maxWarn  int
	entries  []Entry
	warnings []Warning
	bad      int // bad lines, reported or not
	skipped  int // rows that are not network indicators (file hashes, e-mails)
	intern   map[string]string
	err      error // fatal: the limit was passed
}

// full reports whether parsing must stop (the entry limit was passed).
func (b *builder) full() bool { return b.err != nil }

// warn records a bad line.
func (b *builder) warn(line int, msg string) {
	b.bad++
	if len(b.warnings) < b.maxWarn {
		b.warnings = append(b.warnings, Warning{File: b.opt.Source, Line: line, Msg: msg})
	}
}

// add parses value (an address, CIDR, domain or wildcard) and adds it with the
// given threat name; a bad value becomes a warning for line.
func (b *builder) add(line int, value, threat string) {
	ind, msg := parseIndicator(value)
	if msg != "" {
		b.warn(line, msg)
		return
	}
	b.addIndicator(line, ind, threat)
}

func (b *builder) addPrefix(line int, p netip.Prefix, threat string) {
	b.addIndicator(line, indicator{prefix: p}, threat)
}

func (b *builder) addIndicator(line int, ind indicator, threat string) {
	if b.err != nil {
		return
	}
	if ind.prefix.IsValid() && ind.prefix.Bits() == 0 {
		b.warn(line, quote(ind.prefix.String())+" would match every address; a list entry must be narrower than /0")
		return
	}
	if len(b.entries) >= b.limit {
		what := "threat"
		if b.opt.Kind == Trusted {
			what = "trusted"
		}
		b.err = fmt.Errorf("%s:%d: %w: more than %d entries, the limit for a %s list (GuardDuty's; raise the list's max entries to load it)",
			b.opt.Source, line, ErrTooManyEntries, b.limit, what)
		return
	}
	if threat == "" {
		threat = b.opt.Threat
	}
	b.entries = append(b.entries, Entry{
		Prefix:  ind.prefix,
		Domain:  strings.Clone(ind.domain),
		Match:   ind.match,
		Kind:    b.opt.Kind,
		List:    b.opt.Name,
		Threat:  b.str(threat),
		Finding: b.opt.Finding,
		Source:  b.opt.Source,
		Line:    line,
	})
}

// str interns short repeated strings (threat names, categories) so that a list
// of 250,000 "Malicious Host" entries holds the text once. The string is copied,
// so that it does not pin the file's bytes.
func (b *builder) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := b.intern[s]; ok {
		return v
	}
	v := string([]byte(s))
	if len(b.intern) < 10_000 && len(s) <= 128 {
		b.intern[v] = v
	}
	return v
}
