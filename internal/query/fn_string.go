package query

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/record"
)

// String functions (§5.2). Arguments that are not strings are converted to
// their text (srcAddr, dstPort); a missing argument gives missing, except
// where a function is about absence (isempty, isblank) or is variadic over
// text (concat skips missing arguments, as SQL's concat does).

func init() {
	register("concat", buildConcat)
	register("ltrim", trimFn(strings.TrimLeftFunc, strings.TrimLeft))
	register("rtrim", trimFn(strings.TrimRightFunc, strings.TrimRight))
	register("trim", trimFn(strings.TrimFunc, strings.Trim))
	register("strlen", strFn(func(s string) record.Value { return record.IntValue(int64(utf8.RuneCountInString(s))) }))
	register("toupper", strFn(func(s string) record.Value { return record.StringValue(strings.ToUpper(s)) }))
	register("tolower", strFn(func(s string) record.Value { return record.StringValue(strings.ToLower(s)) }))
	register("substr", buildSubstr)
	register("replace", buildReplace)
	register("strcontains", buildStrcontains)
	register("isempty", absentFn(func(s string) bool { return s == "" }))
	register("isblank", absentFn(func(s string) bool { return strings.TrimFunc(s, unicode.IsSpace) == "" }))
	register("regexReplace", buildRegexReplace)
	register("startsWith", str2Fn(func(s, p string) record.Value { return intBool(strings.HasPrefix(s, p)) }))
	register("endsWith", str2Fn(func(s, p string) record.Value { return intBool(strings.HasSuffix(s, p)) }))
	register("split", str2Fn(split))
	register("urlencode", strFn(func(s string) record.Value { return record.StringValue(url.QueryEscape(s)) }))
	register("urldecode", strFn(func(s string) record.Value {
		d, err := url.QueryUnescape(s)
		if err != nil {
			return missing
		}
		return record.StringValue(d)
	}))
	register("base64encode", strFn(func(s string) record.Value {
		return record.StringValue(base64.StdEncoding.EncodeToString([]byte(s)))
	}))
	register("base64decode", strFn(func(s string) record.Value {
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			if d, err = base64.RawStdEncoding.DecodeString(s); err != nil {
				return missing
			}
		}
		return record.StringValue(string(d))
	}))
	register("hexToAscii", strFn(func(s string) record.Value {
		d, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
		if err != nil {
			return missing
		}
		return record.StringValue(string(d))
	}))
	register("hexToDec", strFn(func(s string) record.Value {
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"), 16, 64)
		if err != nil {
			return missing
		}
		return record.IntValue(n)
	}))
	register("decToHex", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			n, ok := toInt(a(r))
			if !ok {
				return missing
			}
			if n < 0 {
				return record.StringValue("-" + strconv.FormatUint(uint64(-n), 16))
			}
			return record.StringValue(strconv.FormatInt(n, 16))
		}, nil
	})
	register("messageSize", strFn(func(s string) record.Value { return record.IntValue(int64(len(s))) }))
	register("md5", strFn(func(s string) record.Value {
		h := md5.Sum([]byte(s))
		return record.StringValue(hex.EncodeToString(h[:]))
	}))
	register("sha256", strFn(func(s string) record.Value {
		h := sha256.Sum256([]byte(s))
		return record.StringValue(hex.EncodeToString(h[:]))
	}))
}

// intBool returns 1 or 0 as a number, as strcontains and its kin do.
func intBool(b bool) record.Value {
	if b {
		return record.IntValue(1)
	}
	return record.IntValue(0)
}

// strFn builds a one-argument string function.
func strFn(f func(string) record.Value) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			s, ok := strValue(a(r))
			if !ok {
				return missing
			}
			return f(s)
		}, nil
	}
}

// str2Fn builds a two-argument string function.
func str2Fn(f func(a, b string) record.Value) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		args, err := c.args(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			a, ok := strValue(args[0](r))
			if !ok {
				return missing
			}
			b, ok := strValue(args[1](r))
			if !ok {
				return missing
			}
			return f(a, b)
		}, nil
	}
}

// absentFn builds isempty and isblank: 1 when the value is missing or
// empty (blank), else 0.
func absentFn(empty func(string) bool) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			v := a(r)
			switch v.Kind {
			case record.Missing:
				return boolValue(true)
			case record.String:
				return boolValue(empty(v.Str))
			}
			return boolValue(false)
		}, nil
	}
}

func buildConcat(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	return func(r *Row) record.Value {
		var b []byte
		present := false
		for _, a := range args {
			v := a(r)
			if v.Kind == record.Missing {
				continue
			}
			present = true
			b = AppendValue(b, v)
		}
		if !present {
			return missing
		}
		return record.StringValue(string(b))
	}, nil
}

// trimFn builds ltrim, rtrim and trim: without a second argument they strip
// white space; with one, any of its characters (and only those).
func trimFn(space func(string, func(rune) bool) string, chars func(string, string) string) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		args, err := c.args(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			s, ok := strValue(args[0](r))
			if !ok {
				return missing
			}
			if len(args) == 1 {
				return record.StringValue(space(s, unicode.IsSpace))
			}
			set, ok := strValue(args[1](r))
			if !ok {
				return missing
			}
			return record.StringValue(chars(s, set))
		}, nil
	}
}

// buildSubstr builds substr(s, start [, len]): 0-based, in characters
// (code points); a start past the end gives "".
func buildSubstr(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	return func(r *Row) record.Value {
		s, ok := strValue(args[0](r))
		if !ok {
			return missing
		}
		start, ok := toInt(args[1](r))
		if !ok {
			return missing
		}
		length := int64(-1)
		if len(args) > 2 {
			if length, ok = toInt(args[2](r)); !ok {
				return missing
			}
			if length < 0 {
				length = 0
			}
		}
		start = max(start, 0)
		// Walk code points to byte offsets.
		from, to := len(s), len(s)
		i := int64(0)
		for off := range s {
			if i == start {
				from = off
			}
			if length >= 0 && i == start+length {
				to = off
				break
			}
			i++
		}
		if from > to {
			return record.StringValue("")
		}
		return record.StringValue(s[from:to])
	}, nil
}

// buildReplace builds replace(s, search, repl): every literal occurrence.
func buildReplace(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	return func(r *Row) record.Value {
		var ss [3]string
		for i, a := range args {
			s, ok := strValue(a(r))
			if !ok {
				return missing
			}
			ss[i] = s
		}
		if ss[1] == "" {
			return record.StringValue(ss[0])
		}
		return record.StringValue(strings.ReplaceAll(ss[0], ss[1], ss[2]))
	}, nil
}

// buildStrcontains builds strcontains(s, sub [, caseInsensitive]): 1 or 0.
func buildStrcontains(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	return func(r *Row) record.Value {
		v := args[0](r)
		if v.Kind == record.Missing || v.Kind == JSONValue {
			return missing
		}
		sub, ok := strValue(args[1](r))
		if !ok {
			return missing
		}
		fold := len(args) > 2 && truthy(args[2](r))
		var buf [64]byte
		s := textOf(buf[:], v)
		if fold {
			return intBool(strings.Contains(strings.ToLower(string(s)), strings.ToLower(sub)))
		}
		return intBool(strings.Contains(unsafeString(s), sub))
	}, nil
}

// buildRegexReplace builds regexReplace(s, pattern, repl) with RE2 syntax;
// repl may refer to groups as $1 or ${name}. A constant pattern is compiled
// once.
func buildRegexReplace(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	var fixed *regexp.Regexp
	if lit, ok := call.Args[1].(*StringLit); ok {
		if fixed, err = regexp.Compile(lit.Value); err != nil {
			return nil, c.errorf(lit, "regexReplace: invalid regex %q", lit.Value)
		}
	}
	return func(r *Row) record.Value {
		s, ok := strValue(args[0](r))
		if !ok {
			return missing
		}
		re := fixed
		if re == nil {
			p, ok := strValue(args[1](r))
			if !ok {
				return missing
			}
			if re, err = regexp.Compile(p); err != nil {
				return missing
			}
		}
		repl, ok := strValue(args[2](r))
		if !ok {
			return missing
		}
		return record.StringValue(re.ReplaceAllString(s, repl))
	}, nil
}

// split returns the parts of s between occurrences of delim, as a list.
func split(s, delim string) record.Value {
	var parts []string
	if delim == "" {
		parts = strings.Split(s, "")
	} else {
		parts = strings.Split(s, delim)
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(p))
	}
	b.WriteByte(']')
	return jsonValue(b.String())
}
