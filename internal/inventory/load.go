package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

// Config bounds what loading may cost. The defaults fit any real estate: the CLI
// prints a few kilobytes per instance, so 512 MiB is millions of instances, and the
// deepest real path (Reservations[].Instances[].NetworkInterfaces[].
// PrivateIpAddresses[].Association) is 9 levels.
type Config struct {
	// MaxFileSize is the largest file read; a larger one is skipped with a warning.
	MaxFileSize int64
	// MaxDepth is the deepest JSON nesting accepted inside one entry (an instance,
	// ENI…); a deeper entry is skipped with a warning.
	MaxDepth int
	// MaxWarningsPerFile caps the warnings kept for one file; the rest are counted in
	// a final warning, so that a broken million-entry file cannot flood memory.
	MaxWarningsPerFile int
	// MaxWarnings caps the warnings kept in all; the rest are counted.
	MaxWarnings int
}

// DefaultConfig returns the defaults: 512 MiB files, nesting 64 deep, 50 warnings per
// file and 1,000 in all.
func DefaultConfig() Config {
	return Config{MaxFileSize: 512 << 20, MaxDepth: 64, MaxWarningsPerFile: 50, MaxWarnings: 1000}
}

// Warning reports one problem in the input: a file that could not be used, or one
// entry or field in it that was skipped. Loading goes on after a warning.
type Warning struct {
	File string // the file path, or the name given to AddReader
	// Doc is the 1-based number of the JSON document in the file when the file holds
	// several (CLI pages appended one after the other); 0 or 1 for the usual one.
	Doc int
	// Path is the JSON path of the entry or field, as in
	// "Reservations[0].Instances[3].PrivateIpAddress"; "" for the whole file.
	Path string
	Msg  string
}

// String renders the warning as one line: "file: path: message".
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(w.File)
	if w.Doc > 1 {
		fmt.Fprintf(&b, " (document %d)", w.Doc)
	}
	if w.Path != "" {
		b.WriteString(": ")
		b.WriteString(w.Path)
	}
	b.WriteString(": ")
	b.WriteString(w.Msg)
	return b.String()
}

// Error makes a Warning usable where an error is expected (logging, wrapping).
func (w Warning) Error() string { return w.String() }

// Load reads the given files and folders (folders recursively, every *.json file, in
// name order) and returns the merged inventory and the warnings about bad input. The
// error is non-nil only when a path cannot be read at all (missing, permission
// denied); bad content is a warning and the good entries around it are kept.
func Load(paths ...string) (*Inventory, []Warning, error) {
	l := NewLoader(DefaultConfig())
	for _, p := range paths {
		if err := l.AddPath(p); err != nil {
			return nil, l.Warnings(), err
		}
	}
	return l.Inventory(), l.Warnings(), nil
}

// Loader reads inventory files one by one and builds an Inventory from all of them.
// Use it to set a Config, or to read from something other than files (an upload).
// A Loader is used by one goroutine at a time.
type Loader struct {
	cfg      Config
	b        *builder
	warnings []Warning
	dropped  int // warnings beyond MaxWarnings
}

// NewLoader returns an empty Loader; zero fields of cfg take their defaults.
func NewLoader(cfg Config) *Loader {
	d := DefaultConfig()
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = d.MaxFileSize
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = d.MaxDepth
	}
	if cfg.MaxWarningsPerFile <= 0 {
		cfg.MaxWarningsPerFile = d.MaxWarningsPerFile
	}
	if cfg.MaxWarnings <= 0 {
		cfg.MaxWarnings = d.MaxWarnings
	}
	return &Loader{cfg: cfg, b: newBuilder()}
}

// Warnings returns the warnings so far, in input order. When more than MaxWarnings
// were raised, the last one says how many were left out.
func (l *Loader) Warnings() []Warning {
	out := append([]Warning(nil), l.warnings...)
	if l.dropped > 0 {
		out = append(out, Warning{File: "inventory", Msg: fmt.Sprintf("%d more warnings not shown", l.dropped)})
	}
	return out
}

// Inventory builds the inventory from everything added so far. The Loader can go on
// adding and build again; earlier inventories do not change.
func (l *Loader) Inventory() *Inventory { return l.b.build() }

func (l *Loader) warn(w Warning) {
	if len(l.warnings) >= l.cfg.MaxWarnings {
		l.dropped++
		return
	}
	l.warnings = append(l.warnings, w)
}

// AddPath reads a file, or every *.json file under a folder (recursively, in lexical
// order; symbolic links to files are followed, to folders below the root not, so that
// a link loop cannot hang it). A path named explicitly may be anything readable
// (/dev/stdin); inside a folder only regular files are read. It returns an error
// only when path itself cannot be read; a file inside a folder that cannot be read
// is a warning.
func (l *Loader) AddPath(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	if !st.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("inventory: %w", err)
		}
		defer f.Close()
		l.addFile(path, f)
		return nil
	}
	// WalkDir does not enter a root that is a symbolic link; a trailing separator
	// makes the system resolve it, and the paths in warnings keep the user's name.
	root := path
	if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		root = path + string(filepath.Separator)
	}
	n := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			l.warn(Warning{File: p, Msg: "cannot read: " + errText(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(p), ".json") {
			return nil
		}
		// Only regular files (or links to them): opening a FIFO would block forever.
		if st, err := os.Stat(p); err != nil {
			l.warn(Warning{File: p, Msg: "cannot read: " + errText(err)})
			return nil
		} else if !st.Mode().IsRegular() {
			if !st.IsDir() {
				l.warn(Warning{File: p, Msg: "not a regular file; skipped"})
			}
			return nil
		}
		n++
		f, err := os.Open(p)
		if err != nil {
			l.warn(Warning{File: p, Msg: "cannot read: " + errText(err)})
			return nil
		}
		defer f.Close()
		l.addFile(p, f)
		return nil
	})
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	if n == 0 {
		l.warn(Warning{File: path, Msg: "folder holds no .json files"})
	}
	return nil
}

// errText strips the path an *fs.PathError repeats, since the warning names the file.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (l *Loader) addFile(name string, f *os.File) {
	st, err := f.Stat()
	if err != nil {
		l.warn(Warning{File: name, Msg: "cannot read: " + errText(err)})
		return
	}
	if st.IsDir() {
		return
	}
	if st.Mode().IsRegular() && st.Size() > l.cfg.MaxFileSize {
		l.warn(Warning{File: name, Msg: fmt.Sprintf("file is %d bytes, more than the %d-byte limit; skipped", st.Size(), l.cfg.MaxFileSize)})
		return
	}
	l.AddReader(name, f)
}

// AddReader reads one inventory document (or several, one after the other) from r;
// name is used in warnings. At most MaxFileSize bytes are read: entries after the
// limit are dropped with a warning.
func (l *Loader) AddReader(name string, r io.Reader) {
	p := &parser{l: l, file: name}
	p.parse(r)
	if p.dropped > 0 {
		l.warn(Warning{File: name, Msg: fmt.Sprintf("%d more problems in this file not shown", p.dropped)})
	}
}

// errTooLarge is returned by limitReader past the size limit.
var errTooLarge = errors.New("file too large")

// limitReader fails with errTooLarge instead of ending quietly at the limit, so that
// a cut-off file is reported, not mistaken for a short one.
type limitReader struct {
	r io.Reader
	n int64
}

func (lr *limitReader) Read(b []byte) (int, error) {
	if lr.n <= 0 {
		// One byte more tells a file of exactly the limit from a longer one.
		var one [1]byte
		if _, err := io.ReadFull(lr.r, one[:]); err != nil {
			return 0, err
		}
		return 0, errTooLarge
	}
	if int64(len(b)) > lr.n {
		b = b[:lr.n]
	}
	n, err := lr.r.Read(b)
	lr.n -= int64(n)
	return n, err
}

// parser reads one file.
type parser struct {
	l       *Loader
	file    string
	doc     int
	kept    int // warnings kept for this file
	dropped int // warnings beyond MaxWarningsPerFile
	max     int64
}

func (p *parser) warn(path, format string, args ...any) {
	if p.kept >= p.l.cfg.MaxWarningsPerFile {
		p.dropped++
		return
	}
	p.kept++
	p.l.warn(Warning{File: p.file, Doc: p.doc, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// topKind is the kind of entry a top-level key (or an element of a top-level array)
// holds.
type topKind int

const (
	kindUnknown topKind = iota
	kindReservation
	kindInstance
	kindENI
	kindNAT
	kindAddress
)

// topKeys maps the CLI's top-level keys to what their arrays hold.
var topKeys = map[string]topKind{
	"Reservations":      kindReservation,
	"NetworkInterfaces": kindENI,
	"NatGateways":       kindNAT,
	"Addresses":         kindAddress,
}

// ignoredKeys are top-level keys that carry no inventory: pagination and the SDKs'
// response metadata.
var ignoredKeys = map[string]bool{"NextToken": true, "ResponseMetadata": true}

func topKey(k string) (topKind, bool) {
	if t, ok := topKeys[k]; ok {
		return t, true
	}
	for name, t := range topKeys {
		if strings.EqualFold(name, k) {
			return t, true
		}
	}
	return kindUnknown, false
}

// parse walks the documents of one file. The top level is read token by token and
// each entry of the big arrays is decoded on its own, so that memory is bounded by
// the largest entry and one bad entry costs only itself.
func (p *parser) parse(r io.Reader) {
	p.max = p.l.cfg.MaxFileSize
	br := bufio.NewReader(&limitReader{r: r, n: p.max})
	head, _ := br.Peek(3)
	var src io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		// Windows PowerShell 5 writes `aws … > file.json` as UTF-16 with a BOM.
		data, err := io.ReadAll(br)
		if err != nil {
			p.readError("", err)
			return
		}
		src = bytes.NewReader(fromUTF16(data))
	}
	dec := json.NewDecoder(src)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if p.doc == 0 {
				p.warn("", "empty file")
			}
			return
		}
		p.doc++
		if err != nil {
			p.syntax("", dec, err)
			return
		}
		var ok bool
		switch tok {
		case json.Delim('{'):
			ok = p.object(dec)
		case json.Delim('['):
			ok = p.array(dec, "", 0)
		default:
			p.warn("", "not an inventory document: the top level is %s, not an object with Reservations, NetworkInterfaces, NatGateways or Addresses", describeToken(tok))
			return
		}
		if !ok {
			return
		}
	}
}

// object reads the rest of a top-level object. It returns false when the file
// cannot be read further.
func (p *parser) object(dec *json.Decoder) bool {
	known := false
	var unknown []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			p.syntax("", dec, err)
			return false
		}
		key, _ := tok.(string)
		kind, isTop := topKey(key)
		switch {
		case isTop:
			known = true
			if !p.list(dec, key, kind) {
				return false
			}
		default:
			if !ignoredKeys[key] && len(unknown) < 5 {
				unknown = append(unknown, fmt.Sprintf("%q", key))
			}
			if !p.skip(dec, key) {
				return false
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		p.syntax("", dec, err)
		return false
	}
	if !known {
		got := "no keys"
		if len(unknown) > 0 {
			got = "keys " + strings.Join(unknown, ", ")
		}
		p.warn("", "unknown shape: %s; want the output of aws ec2 describe-instances, describe-network-interfaces, describe-nat-gateways or describe-addresses (top-level Reservations, NetworkInterfaces, NatGateways or Addresses)", got)
	}
	return true
}

// list reads the value of a top-level key: an array of entries of one kind.
func (p *parser) list(dec *json.Decoder, key string, kind topKind) bool {
	tok, err := dec.Token()
	if err != nil {
		p.syntax(key, dec, err)
		return false
	}
	switch tok {
	case nil:
		return true
	case json.Delim('['):
	default:
		p.warn(key, "want an array, got %s", describeToken(tok))
		if d, ok := tok.(json.Delim); ok && d == '{' {
			return p.skipRest(dec, key, 1)
		}
		return true
	}
	for i := 0; dec.More(); i++ {
		path := fmt.Sprintf("%s[%d]", key, i)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			p.syntax(path, dec, err)
			return false
		}
		p.entry(path, kind, raw)
	}
	if _, err := dec.Token(); err != nil { // ']'
		p.syntax(key, dec, err)
		return false
	}
	return true
}

// array reads a top-level array, as printed by a --query such as
// 'Reservations[].Instances[]': each element's kind is told by its keys, and nested
// arrays ('Reservations[*].Instances[*]') are read one level further.
func (p *parser) array(dec *json.Decoder, path string, depth int) bool {
	for i := 0; dec.More(); i++ {
		ep := fmt.Sprintf("%s[%d]", path, i)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			p.syntax(ep, dec, err)
			return false
		}
		p.element(ep, raw, depth)
	}
	if _, err := dec.Token(); err != nil {
		p.syntax(path, dec, err)
		return false
	}
	return true
}

// probe finds which keys an element of a top-level array has.
type probe struct {
	Instances          json.RawMessage
	NatGatewayId       json.RawMessage
	InstanceId         json.RawMessage
	ImageId            json.RawMessage
	InstanceType       json.RawMessage
	NetworkInterfaceId json.RawMessage
	PublicIp           json.RawMessage
}

func (p *parser) element(path string, raw json.RawMessage, depth int) {
	b := bytes.TrimLeft(raw, " \t\r\n")
	if len(b) > 0 && b[0] == '[' && depth < 2 {
		var items []json.RawMessage
		if err := p.unmarshal(path, raw, &items); err != nil {
			return
		}
		for i, it := range items {
			p.element(fmt.Sprintf("%s[%d]", path, i), it, depth+1)
		}
		return
	}
	if len(b) == 0 || b[0] != '{' {
		p.warn(path, "want an object, got %s", describeRaw(b))
		return
	}
	var pr probe
	if err := p.unmarshal(path, raw, &pr); err != nil {
		return
	}
	switch {
	case pr.Instances != nil:
		p.entry(path, kindReservation, raw)
	case pr.NatGatewayId != nil:
		p.entry(path, kindNAT, raw)
	case pr.InstanceId != nil && (pr.ImageId != nil || pr.InstanceType != nil):
		p.entry(path, kindInstance, raw)
	case pr.PublicIp != nil:
		p.entry(path, kindAddress, raw)
	case pr.NetworkInterfaceId != nil:
		p.entry(path, kindENI, raw)
	default:
		p.warn(path, "unknown entry: not a reservation, instance, network interface, NAT gateway or address")
	}
}

// skip reads and ignores one value.
func (p *parser) skip(dec *json.Decoder, path string) bool {
	tok, err := dec.Token()
	if err != nil {
		p.syntax(path, dec, err)
		return false
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return p.skipRest(dec, path, 1)
	}
	return true
}

// skipRest reads tokens until depth open objects/arrays are closed, refusing to go
// deeper than MaxDepth.
func (p *parser) skipRest(dec *json.Decoder, path string, depth int) bool {
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			p.syntax(path, dec, err)
			return false
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
				if depth > p.l.cfg.MaxDepth {
					p.warn(path, "JSON nested deeper than %d levels; rest of file ignored", p.l.cfg.MaxDepth)
					return false
				}
			default:
				depth--
			}
		}
	}
	return true
}

// syntax reports an error that stops reading the file.
func (p *parser) syntax(path string, dec *json.Decoder, err error) {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errTooLarge):
		p.warn(path, "file is larger than the %d-byte limit; the rest is ignored", p.max)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		p.warn(path, "truncated JSON: the file ends inside this value; the rest is ignored")
	case errors.As(err, &se):
		msg := strings.TrimPrefix(se.Error(), "json: ")
		if p.doc <= 1 && path == "" && dec.InputOffset() == 0 {
			p.warn(path, "not JSON at byte %d: %s; file skipped", se.Offset, msg)
			return
		}
		p.warn(path, "invalid JSON at byte %d: %s; the rest of the file is ignored", se.Offset, msg)
	default:
		p.readError(path, err)
	}
}

func (p *parser) readError(path string, err error) {
	if errors.Is(err, errTooLarge) {
		p.warn(path, "file is larger than the %d-byte limit; the rest is ignored", p.max)
		return
	}
	p.warn(path, "cannot read: %s", errText(err))
}

// unmarshal decodes one entry after checking its depth; a failure becomes a warning.
func (p *parser) unmarshal(path string, raw json.RawMessage, v any) error {
	return p.decode(path, raw, v, true)
}

// decode is unmarshal with the depth check optional: a reservation is not checked as
// a whole, because its instances are checked one by one and one deep instance must
// not cost its siblings. Skipping is safe: encoding/json skips unknown and raw values
// without recursion, and its scanner refuses nesting beyond 10,000 levels.
func (p *parser) decode(path string, raw json.RawMessage, v any, checkDepth bool) error {
	if checkDepth && depth(raw) > p.l.cfg.MaxDepth {
		p.warn(path, "JSON nested deeper than %d levels; entry skipped", p.l.cfg.MaxDepth)
		return errTooDeep
	}
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	// encoding/json goes on after a value of the wrong type and fills in the rest,
	// so only that value is lost (it reports the first such value only).
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			p.warn(path, "want %s, got JSON %s; entry skipped", goTypeName(te.Type.String()), te.Value)
			return err
		}
		p.warn(joinPath(path, te.Field), "want %s, got JSON %s; value ignored", goTypeName(te.Type.String()), te.Value)
		return nil
	}
	p.warn(path, "%s; entry skipped", strings.TrimPrefix(err.Error(), "json: "))
	return err
}

var errTooDeep = errors.New("too deep")

// joinPath appends a field path to a JSON path.
func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// goTypeName turns a Go type into words for a message.
func goTypeName(t string) string {
	switch {
	case t == "string":
		return "a string"
	case t == "bool" || strings.HasPrefix(t, "*bool"):
		return "true or false"
	case strings.HasPrefix(t, "int") || t == "*int":
		return "a whole number"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	}
	return "an object"
}

// depth returns the deepest nesting of objects and arrays in a JSON value.
func depth(b []byte) int {
	d, maxD := 0, 0
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			d++
			if d > maxD {
				maxD = d
			}
		case c == '}' || c == ']':
			d--
		}
	}
	return maxD
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "true/false"
	}
	return "something else"
}

func describeRaw(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "a string"
	case 't', 'f':
		return "true/false"
	case 'n':
		return "null"
	case '[':
		return "an array"
	}
	return "a number"
}

// fromUTF16 converts UTF-16 with a byte-order mark to UTF-8.
func fromUTF16(b []byte) []byte {
	big := b[0] == 0xFE
	b = b[2:]
	u := make([]uint16, len(b)/2)
	for i := range u {
		if big {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return []byte(string(utf16.Decode(u)))
}
