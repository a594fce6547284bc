package record

import (
	"sort"
	"strings"
)

// FieldID identifies a field within one kind's catalogue. IDs are dense from 0 so
// that callers can index slices by them; they are not comparable across kinds.
type FieldID uint16

// Type is the static type of a catalogued field.
type Type uint8

// The field types.
const (
	TypeString Type = iota + 1
	TypeInt
	TypeFloat
	TypeAddr
	TypeTime
	TypeBool
)

// String returns the type's name for messages and documentation.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeAddr:
		return "ip"
	case TypeTime:
		return "timestamp"
	case TypeBool:
		return "bool"
	}
	return "unknown"
}

// Field describes one field of a record kind.
type Field struct {
	ID FieldID
	// Name is the name Logs Insights users write: srcAddr, query_name, eventName.
	Name string
	// LogName is the name in the log itself where it differs (srcaddr, log-status);
	// empty when it is the same as Name.
	LogName string
	Type    Type
	// Version is, for flow-log fields, the format version that introduced it.
	Version int
	Doc     string
}

// Catalogue is the set of fields of one record kind.
type Catalogue struct {
	Kind   Kind
	Fields []Field // indexed by FieldID
	byName map[string]FieldID
	byFold map[string][]string // lower-cased name → names, for "did you mean"
	// Open is true for kinds whose records can carry fields beyond the catalogue
	// (JSON events): an unknown name is then a path to look up, not an error.
	Open bool
}

// newCatalogue builds a catalogue; aliases map extra names to a field's name.
func newCatalogue(kind Kind, open bool, fields []Field, aliases map[string]string) *Catalogue {
	c := &Catalogue{Kind: kind, Fields: fields, Open: open,
		byName: make(map[string]FieldID), byFold: make(map[string][]string)}
	add := func(name string, id FieldID) {
		if _, dup := c.byName[name]; dup {
			panic("BUG: duplicate field name " + name)
		}
		c.byName[name] = id
		fold := strings.ToLower(name)
		c.byFold[fold] = append(c.byFold[fold], name)
	}
	for i := range fields {
		if fields[i].ID != FieldID(i) {
			panic("BUG: field " + fields[i].Name + " out of order")
		}
		add(fields[i].Name, fields[i].ID)
	}
	names := make([]string, 0, len(aliases))
	for a := range aliases {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		id, ok := c.byName[aliases[a]]
		if !ok {
			panic("BUG: alias " + a + " of unknown field " + aliases[a])
		}
		add(a, id)
	}
	return c
}

// Lookup returns the field with exactly this name (names are case-sensitive, as in
// Logs Insights), following aliases.
func (c *Catalogue) Lookup(name string) (Field, bool) {
	id, ok := c.byName[name]
	if !ok {
		return Field{}, false
	}
	return c.Fields[id], true
}

// Suggest returns the names that match name when case is ignored, for "did you mean
// srcAddr?" messages; nil when there are none.
func (c *Catalogue) Suggest(name string) []string {
	return c.byFold[strings.ToLower(name)]
}

// Names returns every name the catalogue accepts (fields and aliases), sorted.
func (c *Catalogue) Names() []string {
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CatalogueOf returns the catalogue of a kind, or nil for an unknown kind.
func CatalogueOf(k Kind) *Catalogue {
	switch k {
	case KindFlow:
		return FlowCatalogue
	}
	return catalogues[k]
}

// catalogues holds the catalogues of the JSON kinds, registered by their files.
var catalogues = map[Kind]*Catalogue{}
