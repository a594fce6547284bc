package query

import (
	"net/netip"

	"github.com/vigil-dev/vigil/internal/record"
)

// General and conditional functions (§5.4), IP functions (§5.5) and JSON
// functions (§5.6).

func init() {
	register("ispresent", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value { return boolValue(a(r).Kind != record.Missing) }, nil
	})
	register("coalesce", func(c *Compiler, call *CallExpr) (Eval, error) {
		args, err := c.args(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			for _, a := range args {
				if v := a(r); v.Kind != record.Missing {
					return v
				}
			}
			return missing
		}, nil
	})
	register("if", func(c *Compiler, call *CallExpr) (Eval, error) {
		cond, err := c.Cond(call.Args[0])
		if err != nil {
			return nil, err
		}
		a, err := c.Value(call.Args[1])
		if err != nil {
			return nil, err
		}
		b, err := c.Value(call.Args[2])
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			if cond(r) {
				return a(r)
			}
			return b(r)
		}, nil
	})
	register("case", buildCase)
	register("isNumeric", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value { return boolValue(isNumeric(a(r))) }, nil
	})

	register("isValidIp", addrFn(func(a netip.Addr) bool { return true }))
	register("isValidIpV4", addrFn(func(a netip.Addr) bool { return a.Is4() }))
	register("isValidIpV6", addrFn(func(a netip.Addr) bool { return a.Is6() }))
	register("isIpInSubnet", subnetFn(0))
	register("isIpv4InSubnet", subnetFn(4))
	register("isIpv6InSubnet", subnetFn(6))
	register("isPrivateIP", addrFn(func(a netip.Addr) bool { return a.IsPrivate() }))
	register("isReservedIP", addrFn(isReserved))
	register("isPublicIP", addrFn(func(a netip.Addr) bool { return !a.IsPrivate() && !isReserved(a) }))
	register("ipv4ToNumber", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			ip, ok := addrOf(a(r))
			if !ok || !ip.Is4() {
				return missing
			}
			b := ip.As4()
			return record.IntValue(int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3]))
		}, nil
	})

	register("jsonParse", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			v := a(r)
			switch v.Kind {
			case JSONValue:
				return v
			case record.String:
				return parseJSONValue(v.Str)
			}
			return missing
		}, nil
	})
	register("jsonStringify", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			v := a(r)
			if v.Kind != JSONValue {
				return missing
			}
			return record.StringValue(v.Str)
		}, nil
	})
	register("jsonArraySize", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			t, ok := asJSON(a(r))
			if !ok || t[0] != '[' {
				return missing
			}
			n := int64(0)
			eachElement(t, func(string) bool { n++; return true })
			return record.IntValue(n)
		}, nil
	})
	register("jsonArrayContains", func(c *Compiler, call *CallExpr) (Eval, error) {
		args, err := c.args(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			t, ok := asJSON(args[0](r))
			if !ok || t[0] != '[' {
				return boolValue(false)
			}
			want := args[1](r)
			found := false
			jsonElements(t, func(el record.Value) bool {
				if el.Kind == record.String && want.Kind == record.String {
					found = el.Str == want.Str
				} else {
					found = equalValues(el, want)
				}
				return !found
			})
			return boolValue(found)
		}, nil
	})
}

// buildCase builds case(c1, v1, c2, v2, …, [default]): the value of the
// first true condition, else the default, else missing.
func buildCase(c *Compiler, call *CallExpr) (Eval, error) {
	n := len(call.Args)
	var conds []Pred
	var vals []Eval
	for i := 0; i+1 < n; i += 2 {
		p, err := c.Cond(call.Args[i])
		if err != nil {
			return nil, err
		}
		v, err := c.Value(call.Args[i+1])
		if err != nil {
			return nil, err
		}
		conds, vals = append(conds, p), append(vals, v)
	}
	def := constant(missing)
	if n%2 == 1 {
		var err error
		if def, err = c.Value(call.Args[n-1]); err != nil {
			return nil, err
		}
	}
	return func(r *Row) record.Value {
		for i, p := range conds {
			if p(r) {
				return vals[i](r)
			}
		}
		return def(r)
	}, nil
}

// addrFn builds a one-argument IP test: false for a value that is not an
// address.
func addrFn(f func(netip.Addr) bool) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			ip, ok := addrOf(a(r))
			return boolValue(ok && f(ip))
		}, nil
	}
}

// subnetFn builds isIpInSubnet (family 0), isIpv4InSubnet (4) and
// isIpv6InSubnet (6): true when the value is a valid address of the family
// inside the network. A constant network is parsed once.
func subnetFn(family int) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		args, err := c.args(call)
		if err != nil {
			return nil, err
		}
		fits := func(a netip.Addr) bool {
			switch family {
			case 4:
				return a.Is4()
			case 6:
				return a.Is6()
			}
			return true
		}
		if lit, ok := call.Args[1].(*StringLit); ok {
			p, err := netip.ParsePrefix(lit.Value)
			if err != nil {
				return nil, c.errorf(lit, "invalid CIDR %q", lit.Value)
			}
			p = p.Masked()
			x := args[0]
			return func(r *Row) record.Value {
				v := x(r)
				if v.Kind == record.Addr {
					return boolValue(fits(v.IP) && p.Contains(v.IP))
				}
				ip, ok := addrOf(v)
				return boolValue(ok && fits(ip) && p.Contains(ip))
			}, nil
		}
		return func(r *Row) record.Value {
			ip, ok := addrOf(args[0](r))
			if !ok || !fits(ip) {
				return boolValue(false)
			}
			s, ok := strValue(args[1](r))
			if !ok {
				return boolValue(false)
			}
			p, err := netip.ParsePrefix(s)
			return boolValue(err == nil && p.Masked().Contains(ip))
		}, nil
	}
}

// reservedNets are the IANA special-purpose networks other than the
// private ones (RFC 1918, fc00::/7), which isPrivateIP covers.
var reservedNets = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24",
		"192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "100::/64", "2001::/23",
		"2001:db8::/32", "fe80::/10", "ff00::/8",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// isReserved reports an address in a special-purpose network (loopback,
// link-local, multicast, documentation, shared address space, …).
func isReserved(a netip.Addr) bool {
	for _, p := range reservedNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
