package query

import (
	"slices"
	"strings"
)

// Kind is the kind of value a function takes or returns, as far as the
// language types them. Logs Insights values are loosely typed: a string that
// looks like a number is a number, booleans print as 1/0, missing values
// propagate. Kinds say what a function expects, for the checker's messages;
// they are not a strict type system.
type Kind uint8

// The kinds.
const (
	KindAny      Kind = iota // any value
	KindNumber               // a number, or a string that parses as one
	KindString               // text; other values are converted
	KindBool                 // a condition; prints as 1/0
	KindTime                 // a timestamp (@timestamp, bin(…), fromMillis(…))
	KindDuration             // a time-period literal such as 5m
	KindList                 // a list (split, jsonParse of an array)
	KindJSON                 // a map or list made by jsonParse
)

var kindNames = [...]string{"any", "number", "string", "boolean", "timestamp", "time period", "list", "json"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// Func describes one function of the language: scalar (§5.1–5.6 of the
// reference) or aggregate (§5.7).
type Func struct {
	// Name is the documented spelling, e.g. "isIpv4InSubnet". Lookups are
	// case-insensitive.
	Name string
	// MinArgs and MaxArgs bound the number of arguments; MaxArgs is -1 for
	// a variadic function.
	MinArgs, MaxArgs int
	// Args gives the kind of each argument position. Arguments beyond the
	// end of Args take the kind of its last entry.
	Args []Kind
	// Result is the kind of the value returned.
	Result Kind
	// Aggregate marks a stats function, which may only appear in a stats
	// command's aggregate items.
	Aggregate bool
	// Star says the function accepts a single * argument: count(*).
	Star bool
	// Group is the section of the reference: numeric, string, datetime,
	// general, ip, json or aggregate.
	Group string
}

// ArgKind returns the kind expected for argument i (from 0).
func (f *Func) ArgKind(i int) Kind {
	switch {
	case len(f.Args) == 0:
		return KindAny
	case i < len(f.Args):
		return f.Args[i]
	}
	return f.Args[len(f.Args)-1]
}

// Variadic reports whether the function takes any number of arguments from
// MinArgs on.
func (f *Func) Variadic() bool { return f.MaxArgs < 0 }

// LookupFunc returns the function called name, ignoring case.
func LookupFunc(name string) (*Func, bool) {
	f, ok := funcIndex[strings.ToLower(name)]
	return f, ok
}

// Funcs returns every function, sorted by lower-cased name. The slice is
// fresh; the *Func values are shared and must not be modified.
func Funcs() []*Func {
	fs := make([]*Func, 0, len(funcTable))
	for i := range funcTable {
		fs = append(fs, &funcTable[i])
	}
	slices.SortFunc(fs, func(a, b *Func) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return fs
}

const variadic = -1

// Short names for the table.
const (
	kAny  = KindAny
	kNum  = KindNumber
	kStr  = KindString
	kBool = KindBool
	kTime = KindTime
	kDur  = KindDuration
	kList = KindList
	kJSON = KindJSON
)

func fn(group, name string, minArgs, maxArgs int, result Kind, args ...Kind) Func {
	return Func{Name: name, MinArgs: minArgs, MaxArgs: maxArgs, Args: args, Result: result, Group: group}
}

func agg(name string, minArgs, maxArgs int, result Kind, args ...Kind) Func {
	f := fn("aggregate", name, minArgs, maxArgs, result, args...)
	f.Aggregate = true
	return f
}

// funcTable is the one table of functions shared by the parser's users: the
// checker (arity and kinds) and the evaluator (which implements each name).
var funcTable = []Func{
	// §5.1 Numeric.
	fn("numeric", "abs", 1, 1, kNum, kNum),
	fn("numeric", "ceil", 1, 1, kNum, kNum),
	fn("numeric", "floor", 1, 1, kNum, kNum),
	fn("numeric", "greatest", 1, variadic, kNum, kNum),
	fn("numeric", "least", 1, variadic, kNum, kNum),
	fn("numeric", "log", 1, 1, kNum, kNum),
	fn("numeric", "sqrt", 1, 1, kNum, kNum),
	fn("numeric", "round", 1, 2, kNum, kNum, kNum),
	fn("numeric", "haversine", 4, 4, kNum, kNum),
	fn("numeric", "toNumber", 1, 1, kNum, kAny),
	fn("numeric", "toInt", 1, 1, kNum, kAny),
	fn("numeric", "toLong", 1, 1, kNum, kAny),
	fn("numeric", "toDouble", 1, 1, kNum, kAny),

	// §5.2 String.
	fn("string", "concat", 1, variadic, kStr, kStr),
	fn("string", "ltrim", 1, 2, kStr, kStr, kStr),
	fn("string", "rtrim", 1, 2, kStr, kStr, kStr),
	fn("string", "trim", 1, 2, kStr, kStr, kStr),
	fn("string", "strlen", 1, 1, kNum, kStr),
	fn("string", "toupper", 1, 1, kStr, kStr),
	fn("string", "tolower", 1, 1, kStr, kStr),
	fn("string", "substr", 2, 3, kStr, kStr, kNum, kNum),
	fn("string", "replace", 3, 3, kStr, kStr),
	fn("string", "strcontains", 2, 3, kNum, kStr, kStr, kBool),
	fn("string", "isempty", 1, 1, kNum, kAny),
	fn("string", "isblank", 1, 1, kNum, kAny),
	fn("string", "regexReplace", 3, 3, kStr, kStr),
	fn("string", "startsWith", 2, 2, kNum, kStr),
	fn("string", "endsWith", 2, 2, kNum, kStr),
	fn("string", "split", 2, 2, kList, kStr),
	fn("string", "urlencode", 1, 1, kStr, kStr),
	fn("string", "urldecode", 1, 1, kStr, kStr),
	fn("string", "base64encode", 1, 1, kStr, kStr),
	fn("string", "base64decode", 1, 1, kStr, kStr),
	fn("string", "hexToAscii", 1, 1, kStr, kStr),
	fn("string", "hexToDec", 1, 1, kNum, kStr),
	fn("string", "decToHex", 1, 1, kStr, kNum),
	fn("string", "messageSize", 1, 1, kNum, kAny),
	fn("string", "md5", 1, 1, kStr, kStr),
	fn("string", "sha256", 1, 1, kStr, kStr),

	// §5.3 Datetime.
	fn("datetime", "bin", 1, 1, kTime, kDur),
	fn("datetime", "datefloor", 2, 2, kTime, kTime, kDur),
	fn("datetime", "dateceil", 2, 2, kTime, kTime, kDur),
	fn("datetime", "fromMillis", 1, 1, kTime, kNum),
	fn("datetime", "toMillis", 1, 1, kNum, kTime),
	fn("datetime", "now", 0, 0, kNum),
	fn("datetime", "parseDate", 2, 3, kNum, kStr),
	fn("datetime", "formatDate", 2, 3, kStr, kTime, kStr, kStr),
	fn("datetime", "strftime", 2, 3, kStr, kTime, kStr, kStr),
	fn("datetime", "queryStartTime", 0, 0, kNum),
	fn("datetime", "queryEndTime", 0, 0, kNum),
	fn("datetime", "queryTimeRange", 0, 0, kNum),

	// §5.4 General and conditional.
	fn("general", "ispresent", 1, 1, kBool, kAny),
	fn("general", "coalesce", 1, variadic, kAny, kAny),
	fn("general", "if", 3, 3, kAny, kBool, kAny),
	// case(c1, v1, c2, v2, …, [default]): at most 10 branches. Conditions
	// and values alternate, which Args cannot say; the checker knows.
	fn("general", "case", 2, 21, kAny, kAny),
	fn("general", "isNumeric", 1, 1, kBool, kAny),

	// §5.5 IP address.
	fn("ip", "isValidIp", 1, 1, kBool, kStr),
	fn("ip", "isValidIpV4", 1, 1, kBool, kStr),
	fn("ip", "isValidIpV6", 1, 1, kBool, kStr),
	fn("ip", "isIpInSubnet", 2, 2, kBool, kStr),
	fn("ip", "isIpv4InSubnet", 2, 2, kBool, kStr),
	fn("ip", "isIpv6InSubnet", 2, 2, kBool, kStr),
	fn("ip", "ipv4ToNumber", 1, 1, kNum, kStr),
	fn("ip", "isPrivateIP", 1, 1, kBool, kStr),
	fn("ip", "isPublicIP", 1, 1, kBool, kStr),
	fn("ip", "isReservedIP", 1, 1, kBool, kStr),

	// §5.6 JSON and structure.
	fn("json", "jsonParse", 1, 1, kJSON, kStr),
	fn("json", "jsonStringify", 1, 1, kStr, kJSON),
	fn("json", "jsonArraySize", 1, 1, kNum, kAny),
	fn("json", "jsonArrayContains", 2, 2, kBool, kAny, kAny),

	// §5.7 Stats (aggregate) functions.
	func() Func {
		f := agg("count", 0, 1, kNum, kAny)
		f.Star = true
		return f
	}(),
	agg("count_distinct", 1, 1, kNum, kAny),
	agg("sum", 1, 1, kNum, kNum),
	agg("avg", 1, 1, kNum, kNum),
	agg("stddev", 1, 1, kNum, kNum),
	agg("min", 1, 1, kAny, kAny),
	agg("max", 1, 1, kAny, kAny),
	agg("pct", 2, 2, kAny, kAny, kNum),
	agg("earliest", 1, 1, kAny, kAny),
	agg("latest", 1, 1, kAny, kAny),
	agg("sortsFirst", 1, 1, kAny, kAny),
	agg("sortsLast", 1, 1, kAny, kAny),
}

// funcIndex maps lower-cased names to funcTable entries.
var funcIndex = func() map[string]*Func {
	m := make(map[string]*Func, len(funcTable))
	for i := range funcTable {
		key := strings.ToLower(funcTable[i].Name)
		if _, dup := m[key]; dup {
			panic("BUG: duplicate function " + key)
		}
		m[key] = &funcTable[i]
	}
	return m
}()
