package inventory

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t *testing.T, paths ...string) *Inventory {
	t.Helper()
	inv, warns, err := Load(paths...)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Errorf("unexpected warning: %s", w)
	}
	return inv
}

// Two good instances around the bad things the cases put in the middle.
const (
	goodInstanceA = `{"InstanceId":"i-0000000000000000a","InstanceType":"t3.micro","PrivateIpAddress":"10.0.0.1","VpcId":"vpc-1"}`
	goodInstanceB = `{"InstanceId":"i-0000000000000000b","InstanceType":"t3.micro","PrivateIpAddress":"10.0.0.2","VpcId":"vpc-1"}`
)

func reservations(middle string) string {
	return `{"Reservations":[{"OwnerId":"111122223333","Instances":[` + goodInstanceA + `,` + middle + `,` + goodInstanceB + `]}]}`
}

// Every kind of bad input gives a warning that names the file and the JSON path,
// and every good entry is still loaded.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    []string // substrings of the warnings, in order
		good    []string // instance ids that must be loaded
	}{
		{
			name:    "bad IP in one entry",
			content: reservations(`{"InstanceId":"i-0000000000000000c","PrivateIpAddress":"10.0.0.x","PublicIpAddress":"999.1.1.1"}`),
			want: []string{
				`a.json: Reservations[0].Instances[1].PrivateIpAddress: "10.0.0.x" is not an IP address`,
				`a.json: Reservations[0].Instances[1].PublicIpAddress: "999.1.1.1" is not an IP address`,
			},
			good: []string{"i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"},
		},
		{
			name: "bad IP deep in an ENI",
			content: reservations(`{"InstanceId":"i-0000000000000000c","NetworkInterfaces":[{"NetworkInterfaceId":"eni-1",
				"PrivateIpAddresses":[{"PrivateIpAddress":"10.0.0.3","Primary":true,"Association":{"PublicIp":"fe80::1%eth0"}},{"PrivateIpAddress":""}],
				"Ipv6Addresses":[{"Ipv6Address":"10.0.0.4"}]}]}`),
			want: []string{
				`a.json: Reservations[0].Instances[1].NetworkInterfaces[0].PrivateIpAddresses[0].Association.PublicIp: "fe80::1%eth0" is not an IP address`,
				`a.json: Reservations[0].Instances[1].NetworkInterfaces[0].Ipv6Addresses[0].Ipv6Address: "10.0.0.4" is not an IPv6 address`,
			},
			good: []string{"i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"},
		},
		{
			name:    "bad time",
			content: reservations(`{"InstanceId":"i-0000000000000000c","LaunchTime":"yesterday"}`),
			want:    []string{`Reservations[0].Instances[1].LaunchTime: "yesterday" is not an RFC 3339 time`},
			good:    []string{"i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"},
		},
		{
			name:    "wrong type for a field",
			content: reservations(`{"InstanceId":"i-0000000000000000c","Placement":{"AvailabilityZone":42}}`),
			want:    []string{`Reservations[0].Instances[1].Placement.AvailabilityZone: want a string, got JSON number; value ignored`},
			good:    []string{"i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"},
		},
		{
			name:    "entry of the wrong type",
			content: reservations(`"i-0000000000000000c"`),
			want:    []string{`Reservations[0].Instances[1]: want an object, got JSON string; entry skipped`},
			good:    []string{"i-0000000000000000a", "i-0000000000000000b"},
		},
		{
			name:    "entry without id",
			content: reservations(`{"InstanceType":"t3.micro","PrivateIpAddress":"10.0.0.9"}`),
			want:    []string{`Reservations[0].Instances[1]: no InstanceId; entry skipped`},
			good:    []string{"i-0000000000000000a", "i-0000000000000000b"},
		},
		{
			name:    "top-level key not an array",
			content: `{"Reservations":{"Instances":[]},"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","PrivateIpAddress":"10.0.0.1","Attachment":{"InstanceId":"i-0000000000000000a"}}]}`,
			want:    []string{`a.json: Reservations: want an array, got an object`},
			good:    []string{"i-0000000000000000a"}, // as a stub
		},
		{
			name:    "not JSON",
			content: "InstanceId,PrivateIpAddress\ni-1,10.0.0.1\n",
			want:    []string{`a.json: not JSON at byte 1: invalid character 'I' looking for beginning of value`},
		},
		{
			name:    "truncated",
			content: `{"Reservations":[{"Instances":[` + goodInstanceA + `]},{"Instances":[{"InstanceId":"i-1"`,
			want:    []string{`a.json: Reservations[1]: truncated JSON`},
			good:    []string{"i-0000000000000000a"},
		},
		{
			name:    "syntax error mid-file keeps what came before",
			content: `{"Reservations":[{"Instances":[` + goodInstanceA + `]}, {"Instances": [}]}`,
			want:    []string{`a.json: Reservations[1]: invalid JSON at byte`},
			good:    []string{"i-0000000000000000a"},
		},
		{
			name:    "unknown shape",
			content: `{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16"}]}`,
			want:    []string{`a.json: unknown shape: keys "Vpcs"; want the output of aws ec2 describe-instances`},
		},
		{
			name:    "empty object",
			content: `{}`,
			want:    []string{`a.json: unknown shape: no keys`},
		},
		{
			name:    "top-level scalar",
			content: `"hello"`,
			want:    []string{`a.json: not an inventory document: the top level is a string`},
		},
		{
			name:    "empty file",
			content: "  \n",
			want:    []string{`a.json: empty file`},
		},
		{
			name:    "unknown element of a top-level array",
			content: `[` + goodInstanceA + `, {"VpcId":"vpc-1"}, 7]`,
			want:    []string{`a.json: [1]: unknown entry`, `a.json: [2]: want an object, got a number`},
			good:    []string{"i-0000000000000000a"},
		},
		{
			name:    "trailing garbage after a document",
			content: reservations(goodInstanceA) + "\n}",
			want:    []string{`a.json (document 2): invalid JSON at byte`},
			good:    []string{"i-0000000000000000a", "i-0000000000000000b"},
		},
		{
			name:    "address without public IP, NAT and ENI without id",
			content: `{"Addresses":[{"AllocationId":"eipalloc-1"}],"NatGateways":[{"State":"available"}],"NetworkInterfaces":[{"PrivateIpAddress":"10.0.0.1"}]}`,
			want: []string{
				`a.json: Addresses[0]: no PublicIp; entry skipped`,
				`a.json: NatGateways[0]: no NatGatewayId; entry skipped`,
				`a.json: NetworkInterfaces[0]: no NetworkInterfaceId; entry skipped`,
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := write(t, dir, "a.json", c.content)
			inv, warns, err := Load(p)
			if err != nil {
				t.Fatalf("Load: %v (bad content must be a warning)", err)
			}
			if len(warns) != len(c.want) {
				t.Errorf("got %d warnings, want %d: %v", len(warns), len(c.want), warns)
			}
			for i, w := range c.want {
				if i < len(warns) && !strings.Contains(warns[i].String(), w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warns[i], w)
				}
				if i < len(warns) && warns[i].File != p {
					t.Errorf("warning %d names file %q, want %q", i, warns[i].File, p)
				}
			}
			for _, id := range c.good {
				if _, ok := inv.Instance(id); !ok {
					t.Errorf("good instance %s not loaded", id)
				}
			}
			if len(inv.Instances()) != len(c.good) {
				t.Errorf("loaded %d instances, want %d", len(inv.Instances()), len(c.good))
			}
		})
	}
}

func TestUnreadablePathIsAnError(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("Load(missing) error = %v", err)
	}
	// A good path before a missing one does not hide the error.
	if _, _, err := Load("testdata/estate", "/nonexistent/inventory"); err == nil {
		t.Error("Load(good, missing) succeeded")
	}
}

func TestFolder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "notes.txt", "not inventory")
	if _, warns, err := Load(dir); err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), "folder holds no .json files") {
		t.Errorf("empty folder: %v %v", warns, err)
	}
	// Recursive, any case of extension, other files ignored.
	write(t, dir, "a/b/c/instances.JSON", reservations(goodInstanceA))
	inv := mustLoad(t, dir)
	if len(inv.Instances()) != 2 {
		t.Errorf("nested folder: %d instances", len(inv.Instances()))
	}
	// An unreadable file inside a folder is a warning, not an error.
	if os.Getuid() != 0 {
		p := write(t, dir, "secret.json", reservations(goodInstanceA))
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		_, warns, err := Load(dir)
		if err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), "secret.json: cannot read") {
			t.Errorf("unreadable file in folder: %v %v", warns, err)
		}
	}
}

// All four commands' keys in one object, and the CLI's paginated form.
func TestSeveralKeysAndPagination(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "all.json", `{
		"Reservations": [{"OwnerId": "1", "Instances": [`+goodInstanceA+`]}],
		"NetworkInterfaces": [{"NetworkInterfaceId": "eni-9", "InterfaceType": "nat_gateway", "PrivateIpAddress": "10.0.0.9"}],
		"NatGateways": [{"NatGatewayId": "nat-9", "VpcId": "vpc-1", "NatGatewayAddresses": [{"NetworkInterfaceId": "eni-9", "PrivateIp": "10.0.0.9", "PublicIp": "198.51.100.9"}]}],
		"Addresses": [{"PublicIp": "198.51.100.9", "AllocationId": "eipalloc-9", "NetworkInterfaceId": "eni-9", "PrivateIpAddress": "10.0.0.9"}],
		"NextToken": "eyJ2IjoxfQ==",
		"ResponseMetadata": {"RequestId": "x", "HTTPStatusCode": 200}
	}`)
	inv := mustLoad(t, p)
	if o, ok := inv.ByIP(ip("198.51.100.9")); !ok || o.Kind != KindNATGateway || o.EIP == nil || o.Interface.ID != "eni-9" {
		t.Errorf("ByIP(NAT EIP) = %v %v", o, ok)
	}
	if got := inv.InstanceEgressIPs("i-0000000000000000a"); len(got) != 1 || got[0] != ip("198.51.100.9") {
		t.Errorf("egress %v", got)
	}

	// Pages appended to one file (a loop over --starting-token >> file).
	p = write(t, dir, "pages.json", `{"Reservations":[{"Instances":[`+goodInstanceA+`]}],"NextToken":"abc"}
{"Reservations":[{"Instances":[`+goodInstanceB+`]}]}`)
	inv = mustLoad(t, p)
	if len(inv.Instances()) != 2 {
		t.Errorf("appended pages: %d instances", len(inv.Instances()))
	}
}

// Output of --query: top-level arrays of instances (flat or per reservation), of
// ENIs, of NAT gateways, of addresses.
func TestQueryArrays(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "flat.json", `[`+goodInstanceA+`]`)
	write(t, dir, "nested.json", `[[`+goodInstanceB+`]]`)
	write(t, dir, "mixed.json", `[
		{"NetworkInterfaceId":"eni-5","InterfaceType":"vpc_endpoint","PrivateIpAddress":"10.0.0.5"},
		{"NatGatewayId":"nat-6","NatGatewayAddresses":[{"PrivateIp":"10.0.0.6","PublicIp":"198.51.100.6"}]},
		{"PublicIp":"198.51.100.7","AllocationId":"eipalloc-7"},
		{"ReservationId":"r-1","Instances":[{"InstanceId":"i-0000000000000000c","ImageId":"ami-1"}]}]`)
	inv := mustLoad(t, dir)
	if len(inv.Instances()) != 3 {
		t.Errorf("%d instances", len(inv.Instances()))
	}
	for a, k := range map[string]Kind{"10.0.0.5": KindVPCEndpoint, "198.51.100.6": KindNATGateway, "198.51.100.7": KindEIP} {
		if o, ok := inv.ByIP(ip(a)); !ok || o.Kind != k {
			t.Errorf("ByIP(%s) = %v %v, want %s", a, o, ok, k)
		}
	}
}

func TestEncodings(t *testing.T) {
	dir := t.TempDir()
	doc := reservations(`{"InstanceId":"i-0000000000000000c","Tags":[{"Key":"Name","Value":"café"}]}`)
	// UTF-8 with a BOM (Notepad).
	write(t, dir, "bom.json", "\xEF\xBB\xBF"+doc)
	// UTF-16 LE with a BOM (Windows PowerShell 5 `>`).
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, u := range utf16.Encode([]rune(strings.ReplaceAll(doc, "i-0000000000000000", "i-1111111111111111"))) {
		_ = binary.Write(&b, binary.LittleEndian, u)
	}
	write(t, dir, "utf16.json", b.String())
	inv := mustLoad(t, dir)
	for _, id := range []string{"i-0000000000000000c", "i-1111111111111111c"} {
		in, ok := inv.Instance(id)
		if !ok || in.Name() != "café" {
			t.Errorf("%s: %+v", id, in)
		}
	}
}

func TestLimits(t *testing.T) {
	dir := t.TempDir()
	big := write(t, dir, "big.json", reservations(goodInstanceA))

	// A file over the size limit is skipped whole.
	l := NewLoader(Config{MaxFileSize: 100})
	if err := l.AddPath(big); err != nil {
		t.Fatal(err)
	}
	if w := l.Warnings(); len(w) != 1 || !strings.Contains(w[0].String(), "more than the 100-byte limit; skipped") {
		t.Errorf("size limit: %v", w)
	}
	// A stream over the limit keeps what came before the limit.
	l = NewLoader(Config{MaxFileSize: int64(len(`{"Reservations":[{"OwnerId":"1","Instances":[`+goodInstanceA)) + 2})
	l.AddReader("stdin", strings.NewReader(`{"Reservations":[{"OwnerId":"1","Instances":[`+goodInstanceA+`]},{"Instances":[`+goodInstanceB+`]}]}`))
	if w := l.Warnings(); len(w) != 1 || !strings.Contains(w[0].String(), "stdin: Reservations: file is larger than the") {
		t.Errorf("stream limit: %v", w)
	}
	// A file of exactly the limit is fine.
	content := reservations(goodInstanceA)
	l = NewLoader(Config{MaxFileSize: int64(len(content))})
	l.AddReader("exact", strings.NewReader(content))
	if w := l.Warnings(); len(w) != 0 || len(l.Inventory().Instances()) != 2 {
		t.Errorf("exact size: %v", w)
	}

	// Deep nesting inside an entry, and under an ignored key.
	deep := strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100)
	p := write(t, dir, "deep.json", reservations(`{"InstanceId":"i-0000000000000000c","Junk":`+deep+`}`))
	_, warns, err := Load(p)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), "Reservations[0].Instances[1]: JSON nested deeper than 64 levels; entry skipped") {
		t.Errorf("deep entry: %v %v", warns, err)
	}
	p = write(t, dir, "deep2.json", `{"Junk":`+strings.Repeat(`[`, 100000)+`,"Reservations":[]}`)
	_, warns, err = Load(p)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), "Junk: JSON nested deeper than 64 levels") {
		t.Errorf("deep junk: %v %v", warns, err)
	}

	// Warnings per file are capped and counted.
	var entries []string
	for range 200 {
		entries = append(entries, `{"InstanceId":"i-1","PrivateIpAddress":"bad"}`)
	}
	p = write(t, dir, "noisy.json", `{"Reservations":[{"Instances":[`+strings.Join(entries, ",")+`]}]}`)
	_, warns, _ = Load(p)
	if len(warns) != 51 || !strings.Contains(warns[50].String(), "noisy.json: 150 more problems in this file not shown") {
		t.Errorf("per-file cap: %d warnings, last %v", len(warns), warns[len(warns)-1])
	}
	// And in all.
	l = NewLoader(Config{MaxWarnings: 10})
	for range 3 {
		_ = l.AddPath(p)
	}
	if w := l.Warnings(); len(w) != 11 || !strings.Contains(w[10].String(), "more warnings not shown") {
		t.Errorf("total cap: %d warnings", len(w))
	}
}

// A huge bad value is quoted short in the warning.
func TestLongValueClipped(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.json", reservations(`{"InstanceId":"i-1","PrivateIpAddress":"`+strings.Repeat("x", 100000)+`"}`))
	_, warns, _ := Load(p)
	if len(warns) != 1 || len(warns[0].String()) > 300 {
		t.Errorf("warning of %d bytes", len(warns[0].String()))
	}
}

func TestFolderLinksAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	write(t, real, "i.json", reservations(goodInstanceA))
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("cannot make a symbolic link:", err)
	}
	inv, warns, err := Load(link)
	if err != nil || len(warns) != 0 || len(inv.Instances()) != 2 {
		t.Errorf("linked folder: %d instances, %v, %v", len(inv.Instances()), warns, err)
	}
	// A FIFO named *.json inside a folder is skipped, not opened (which would block).
	fifo := filepath.Join(real, "pipe.json")
	if err := mkfifo(fifo); err != nil {
		t.Skip("cannot make a FIFO:", err)
	}
	_, warns, err = Load(real)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), "pipe.json: not a regular file; skipped") {
		t.Errorf("FIFO: %v %v", warns, err)
	}
}

// One Elastic IP described with its allocation id and, elsewhere, without it (a
// --query that trimmed it) is one address, not an ambiguous two.
func TestEIPMergesByAddress(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "1.json", `{"Addresses":[{"PublicIp":"198.51.100.7","AllocationId":"eipalloc-7","Tags":[{"Key":"Name","Value":"spare"}]}]}`)
	write(t, dir, "2.json", `[{"PublicIp":"198.51.100.7","Domain":"vpc"}]`)
	inv := mustLoad(t, dir)
	o, ok := inv.ByIP(ip("198.51.100.7"))
	if !ok || o.Kind != KindEIP || o.EIP.AllocationID != "eipalloc-7" || o.EIP.Domain != "vpc" || len(inv.Addresses()) != 1 {
		t.Errorf("ByIP = %+v %v; %d addresses", o, ok, len(inv.Addresses()))
	}
}

// A nil inventory is an empty one.
func TestNilInventory(t *testing.T) {
	var inv *Inventory
	a := ip("10.0.0.1")
	if _, ok := inv.ByIP(a); ok {
		t.Error("ByIP")
	}
	if _, ok := inv.ByIPInVPC("vpc-1", a); ok {
		t.Error("ByIPInVPC")
	}
	if _, ok := inv.Interface("eni-1"); ok {
		t.Error("Interface")
	}
	if _, ok := inv.Instance("i-1"); ok {
		t.Error("Instance")
	}
	if _, ok := inv.NATGateway("nat-1"); ok {
		t.Error("NATGateway")
	}
	if _, ok := inv.NATByPrivateIP(a); ok {
		t.Error("NATByPrivateIP")
	}
	if inv.IsOwnPublicIP(a) || inv.InstanceEgressIPs("i-1") != nil || inv.Owners(a) != nil ||
		inv.NATGateways() != nil || inv.Instances() != nil || inv.Interfaces() != nil || inv.Addresses() != nil {
		t.Error("a nil inventory is not empty")
	}
}
