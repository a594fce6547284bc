package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, never hang,
// and every lookup on what it loaded must be consistent.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/estate/*/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// Compacted: the same entries in half the bytes, so that the engine spends
		// less time minimizing each new interesting input derived from them.
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			f.Fatal(err)
		}
		f.Add(c.Bytes())
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `{"Reservations":null}`, `{"Reservations":[null,1,"x",[],{}]}`,
		reservations(`{"InstanceId":"i-1","PrivateIpAddress":"10.0.0.x"}`),
		`{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","Attachment":{"InstanceId":"i-1","DeviceIndex":-3},"PrivateIpAddresses":[{"PrivateIpAddress":"::ffff:10.0.0.1","Association":{"PublicIp":"1.2.3.4"}}]}]}`,
		`{"NatGateways":[{"NatGatewayId":"nat-1","VpcId":"v","NatGatewayAddresses":[{"NetworkInterfaceId":"eni-1","PrivateIp":"10.0.0.1","PublicIp":"1.2.3.4"}]}],"Addresses":[{"PublicIp":"1.2.3.4","InstanceId":"i-9","NetworkInterfaceId":"eni-1","PrivateIpAddress":"10.0.0.1"}]}`,
		`[[[{"InstanceId":"i-1","ImageId":"a"}]]]`, "\xFF\xFE{\x00}\x00", "\xFE\xFF\x00", "\xEF\xBB\xBF{}",
		`{"Reservations":[]}{"NatGateways":[]}x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := NewLoader(Config{MaxFileSize: 1 << 20})
		l.AddReader("fuzz.json", bytes.NewReader(data))
		for _, w := range l.Warnings() {
			if w.File == "" || w.Msg == "" {
				t.Fatalf("warning without file or message: %#v", w)
			}
		}
		inv := l.Inventory()
		for a, owners := range inv.byIP {
			if !a.IsValid() || a.Is4In6() || len(owners) == 0 {
				t.Fatalf("bad index entry %v: %v", a, owners)
			}
			o, ok := inv.ByIP(a)
			if ok != (len(owners) == 1) {
				t.Fatalf("ByIP(%s) ok=%v with %d owners", a, ok, len(owners))
			}
			if ok && (o.Kind == "" || o.Addr != a || o.String() == "") {
				t.Fatalf("ByIP(%s) = %#v", a, o)
			}
			if ok && o.Public != inv.IsOwnPublicIP(a) && o.Public {
				t.Fatalf("%s public but not own", a)
			}
			inv.NATByPrivateIP(a)
		}
		for _, in := range inv.Instances() {
			if _, err := json.Marshal(in.Details()); err != nil {
				t.Fatal(err)
			}
			inv.InstanceEgressIPs(in.ID)
			for _, e := range in.Interfaces {
				if e.Instance != in {
					t.Fatalf("ENI %s of %s points to %v", e.ID, in.ID, e.Instance)
				}
			}
		}
		for _, e := range inv.Interfaces() {
			if got, ok := inv.Interface(e.ID); !ok || got != e {
				t.Fatalf("Interface(%s)", e.ID)
			}
			_ = e.Kind()
		}
		for _, n := range inv.NATGateways() {
			for _, e := range n.Interfaces {
				if e.NATGateway != n {
					t.Fatalf("NAT ENI %s points to %v", e.ID, e.NATGateway)
				}
			}
		}
	})
}
