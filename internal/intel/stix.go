package intel

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strings"
)

// STIX 1.x, as GuardDuty reads it: a STIX_Package whose observables (at the top
// level or inside indicators) hold CybOX objects. vigil reads
//
//   - AddressObject (Address_Value): an address, a CIDR, a list of them joined by
//     "##comma##", or with condition="InclusiveBetween" a range "first##comma##last"
//     (turned into the CIDRs that cover it exactly);
//   - DomainNameObject (Value) and HostnameObject (Hostname_Value): a domain; with
//     condition="EndsWith" and a leading dot, its subdomains;
//   - URIObject (Value): the host of the URL. Note that this lists the whole host:
//     a URL indicator on a shared host (a file-sharing site) lists the site.
//
// Address objects of other categories (e-mail, MAC, ASN) and other object types
// (files, hashes) are skipped and counted. The threat name of an entry is the
// title of the indicator around it, else the package title. Elements are matched
// by local name, whatever their namespace prefix.

// maxXMLDepth bounds element nesting; real packages nest about a dozen deep.
const maxXMLDepth = 256

type stixObject uint8

const (
	stixNone stixObject = iota
	stixAddress
	stixDomain
	stixHostname
	stixURI
	stixOther
)

func stixObjectOf(xsiType string) stixObject {
	t := xsiType
	if i := strings.LastIndexByte(t, ':'); i >= 0 {
		t = t[i+1:]
	}
	switch t {
	case "AddressObjectType":
		return stixAddress
	case "DomainNameObjectType":
		return stixDomain
	case "HostnameObjectType":
		return stixHostname
	case "URIObjectType", "LinkObjectType":
		return stixURI
	case "":
		return stixNone
	}
	return stixOther
}

const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

func parseSTIX(b *builder, data []byte) error {
	src := b.opt.Source
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q: expected UTF-8", charset)
	}

	var (
		depth     int
		rootSeen  bool
		titles    []string // the title of each open Indicator
		inIndic   []int    // depth of each open Indicator
		pkgTitle  string
		prop      stixObject // the object type of the open Properties, if any
		propDepth int
		category  string
		// the open value element
		inValue   bool
		valueDep  int
		valueLine int
		condition string
		text      strings.Builder
		// an open Title element: -1 none, else what it belongs to
		titleFor  int // 1: an indicator, 2: the package header
		titleDep  int
		titleText strings.Builder
		inHeader  int // depth of an open STIX_Header, 0 if none
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
			}
			if !rootSeen {
				return fmt.Errorf("%s: %w: not a STIX file (STIX is XML): %v", src, ErrFormat, err)
			}
			return fmt.Errorf("%s:%d: %w: bad STIX XML: %v", src, line, ErrFormat, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				line, _ := dec.InputPos()
				return fmt.Errorf("%s:%d: %w: STIX elements nested more than %d deep", src, line, ErrFormat, maxXMLDepth)
			}
			name := t.Name.Local
			if !rootSeen {
				rootSeen = true
				if name != "STIX_Package" {
					return fmt.Errorf("%s: %w: root element is <%s>, expected a STIX 1.x <stix:STIX_Package>", src, ErrFormat, name)
				}
			}
			switch name {
			case "Indicator":
				inIndic = append(inIndic, depth)
				titles = append(titles, "")
			case "STIX_Header":
				if inHeader == 0 {
					inHeader = depth
				}
			case "Title":
				switch {
				case len(inIndic) > 0 && inIndic[len(inIndic)-1] == depth-1:
					titleFor, titleDep = 1, depth
					titleText.Reset()
				case inHeader > 0 && inHeader == depth-1:
					titleFor, titleDep = 2, depth
					titleText.Reset()
				}
			case "Properties":
				if prop == stixNone {
					prop, propDepth, category = stixOther, depth, ""
					for _, a := range t.Attr {
						switch {
						case a.Name.Local == "type" && (a.Name.Space == xsiNamespace || a.Name.Space == "xsi"):
							prop = stixObjectOf(a.Value)
						case a.Name.Local == "category" && a.Name.Space == "":
							category = a.Value
						}
					}
				}
			case "Address_Value", "Value", "Hostname_Value":
				if prop != stixNone && !inValue {
					obj := prop
					if obj == stixOther {
						// Properties without an xsi:type: go by the element.
						switch name {
						case "Address_Value":
							obj = stixAddress
						case "Hostname_Value":
							obj = stixHostname
						}
					}
					if obj == stixOther || obj == stixNone {
						break
					}
					inValue, valueDep = true, depth
					valueLine, _ = dec.InputPos()
					condition = ""
					for _, a := range t.Attr {
						if a.Name.Local == "condition" && a.Name.Space == "" {
							condition = a.Value
						}
					}
					text.Reset()
					prop = obj
				}
			}
		case xml.CharData:
			if inValue {
				text.Write(t)
			}
			if titleFor != 0 {
				titleText.Write(t)
			}
		case xml.EndElement:
			switch {
			case inValue && depth == valueDep:
				inValue = false
				threat := pkgTitle
				if len(titles) > 0 && titles[len(titles)-1] != "" {
					threat = titles[len(titles)-1]
				}
				stixValue(b, valueLine, prop, category, condition, text.String(), threat)
				if b.full() {
					return nil
				}
			case titleFor != 0 && depth == titleDep:
				title := strings.Join(strings.Fields(titleText.String()), " ")
				if titleFor == 1 {
					titles[len(titles)-1] = title
				} else {
					pkgTitle = title
				}
				titleFor = 0
			case prop != stixNone && depth == propDepth:
				if prop == stixOther {
					b.skipped++
				}
				prop = stixNone
			case len(inIndic) > 0 && depth == inIndic[len(inIndic)-1]:
				inIndic = inIndic[:len(inIndic)-1]
				titles = titles[:len(titles)-1]
			case inHeader == depth:
				inHeader = 0
			}
			depth--
		}
	}
	if !rootSeen {
		return fmt.Errorf("%s: %w: not a STIX file (STIX is XML, and this has no XML element)", src, ErrFormat)
	}
	return nil
}

// stixValue adds the entries of one value element.
func stixValue(b *builder, line int, obj stixObject, category, condition, value, threat string) {
	value = strings.TrimSpace(value)
	if value == "" {
		b.warn(line, "empty STIX value: expected an address, CIDR or domain")
		return
	}
	if obj == stixAddress {
		switch strings.ToLower(category) {
		case "", "ipv4-addr", "ipv6-addr", "cidr", "ipv4-net", "ipv6-net":
		default:
			b.skipped++ // e-mail, MAC, ASN…: not a network indicator
			return
		}
	}
	items := strings.Split(value, "##comma##")
	switch condition {
	case "InclusiveBetween":
		if obj != stixAddress || len(items) != 2 {
			b.warn(line, quote(value)+` with condition="InclusiveBetween": expected an address range first##comma##last`)
			return
		}
		first, err1 := netip.ParseAddr(strings.TrimSpace(items[0]))
		last, err2 := netip.ParseAddr(strings.TrimSpace(items[1]))
		first, last = first.Unmap(), last.Unmap()
		if err1 != nil || err2 != nil || first.Zone() != "" || last.Zone() != "" || first.Is4() != last.Is4() || last.Less(first) {
			b.warn(line, quote(value)+" is not an address range: expected first##comma##last, two addresses of one family in order")
			return
		}
		for _, p := range rangePrefixes(first, last) {
			b.addPrefix(line, p, threat)
		}
		return
	case "", "Equals", "EndsWith":
	default:
		b.warn(line, fmt.Sprintf("condition %q is not supported: expected Equals, InclusiveBetween or EndsWith", condition))
		return
	}
	for _, it := range items {
		it = strings.TrimSpace(it)
		switch obj {
		case stixAddress:
			p, ok, msg := parseNet(it)
			if !ok {
				if msg == "" {
					msg = quote(it) + " is not an IP address or CIDR"
				}
				b.warn(line, msg)
				continue
			}
			b.addPrefix(line, p, threat)
		case stixURI:
			host := urlHost(it)
			if host == "" {
				b.warn(line, quote(it)+" is not a URL with a host")
				continue
			}
			b.add(line, host, threat)
		default:
			if condition == "EndsWith" && strings.HasPrefix(it, ".") {
				it = "*" + it
			}
			b.add(line, it, threat)
		}
	}
}

// urlHost returns the host of a URL ("http://evil.example/x" → "evil.example"),
// accepting URLs written without a scheme.
func urlHost(s string) string {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// rangePrefixes returns the CIDRs that cover first..last exactly (both
// inclusive, same family, no zone, first ≤ last): at most 2×(address bits).
func rangePrefixes(first, last netip.Addr) []netip.Prefix {
	if !first.IsValid() || first.Zone() != "" || last.Zone() != "" || first.Is4() != last.Is4() || last.Less(first) {
		return nil
	}
	var out []netip.Prefix
	bitLen := first.BitLen()
	end := u128Of(last)
	for len(out) < 2*bitLen+1 {
		// The widest prefix starting at first that does not pass last.
		bits := bitLen
		for bits > 0 {
			p := netip.PrefixFrom(first, bits-1).Masked()
			if p.Addr() != first || end.less(lastOf(p)) {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(first, bits)
		out = append(out, p)
		pEnd := lastOf(p)
		if pEnd == end {
			break
		}
		first = addrOf(pEnd.addOne(), bitLen)
	}
	return out
}

// addrOf converts a u128 back to an address of the family with bitLen bits.
func addrOf(x u128, bitLen int) netip.Addr {
	if bitLen == 32 {
		v := uint32(x.lo)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	var b [16]byte
	for i := range 8 {
		b[i] = byte(x.hi >> (56 - 8*i))
		b[8+i] = byte(x.lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}
