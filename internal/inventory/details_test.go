package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/details")

// Details marshals to GuardDuty's resource.instanceDetails, checked against golden
// files that were reviewed key by key against GuardDuty's published sample findings
// (key names, null platform, empty arrays, millisecond UTC launch time). Regenerate
// with -update only after reviewing the diff the same way.
func TestDetailsGolden(t *testing.T) {
	inv := loadEstate(t)
	for _, c := range []struct{ id, file string }{
		{web1, "web-1.json"},      // public IP, IPv6, profile, merged ENI with a secondary address
		{bastion, "bastion.json"}, // Elastic IP, no profile
		{app1, "app-1.json"},      // private, Windows, Marketplace product code
	} {
		in, _ := inv.Instance(c.id)
		got, err := json.MarshalIndent(in.Details(), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", "details", c.file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Details() =\n%s\nwant\n%s", c.id, got, want)
		}
	}
}

// The key set is exactly GuardDuty's: nothing renamed, nothing extra.
func TestDetailsKeys(t *testing.T) {
	inv := loadEstate(t)
	in, _ := inv.Instance(web1)
	d := in.Details()
	d.OutpostARN = "arn:aws:outposts:eu-west-1:111122223333:outpost/op-0123456789abcdef0"
	d.ImageDescription = "Amazon Linux 2023 AMI"
	b, _ := json.Marshal(d)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"availabilityZone", "iamInstanceProfile", "imageDescription", "imageId", "instanceId", "instanceState",
		"instanceType", "launchTime", "networkInterfaces", "outpostArn", "platform", "productCodes", "tags"}
	if got := keys(m); !reflect.DeepEqual(got, want) {
		t.Errorf("instanceDetails keys %v, want %v", got, want)
	}
	ni := m["networkInterfaces"].([]any)[0].(map[string]any)
	want = []string{"ipv6Addresses", "networkInterfaceId", "privateDnsName", "privateIpAddress", "privateIpAddresses",
		"publicDnsName", "publicIp", "securityGroups", "subnetId", "vpcId"}
	if got := keys(ni); !reflect.DeepEqual(got, want) {
		t.Errorf("networkInterfaces keys %v, want %v", got, want)
	}
	if m["platform"] != nil {
		t.Errorf("Linux platform = %v, want null", m["platform"])
	}
	if _, err := time.Parse(time.RFC3339, m["launchTime"].(string)); err != nil {
		t.Errorf("launchTime: %v", err)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// A stub instance, and one whose ENIs were trimmed by --query, still render valid
// details with [] rather than null.
func TestDetailsSparse(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "i.json", `[{"InstanceId":"i-1","InstanceType":"t3.nano","PrivateIpAddress":"10.0.0.1","PublicIpAddress":"198.51.100.1",
		"SubnetId":"subnet-1","VpcId":"vpc-1","SecurityGroups":[{"GroupId":"sg-1","GroupName":"default"}]}]`)
	write(t, dir, "e.json", `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-2","PrivateIpAddress":"10.0.0.2","Attachment":{"InstanceId":"i-2"}}]}`)
	inv := mustLoad(t, dir)
	in, _ := inv.Instance("i-1")
	b, _ := json.Marshal(in.Details())
	want := `{"instanceId":"i-1","instanceType":"t3.nano","platform":null,"productCodes":[],"networkInterfaces":[{"ipv6Addresses":[],"privateIpAddress":"10.0.0.1","privateIpAddresses":[{"privateIpAddress":"10.0.0.1"}],"publicIp":"198.51.100.1","securityGroups":[{"groupId":"sg-1","groupName":"default"}],"subnetId":"subnet-1","vpcId":"vpc-1"}],"tags":[]}`
	if string(b) != want {
		t.Errorf("trimmed instance:\n%s\nwant\n%s", b, want)
	}
	in, _ = inv.Instance("i-2")
	b, _ = json.Marshal(in.Details())
	want = `{"instanceId":"i-2","platform":null,"productCodes":[],"networkInterfaces":[{"ipv6Addresses":[],"networkInterfaceId":"eni-2","privateIpAddress":"10.0.0.2","privateIpAddresses":[{"privateIpAddress":"10.0.0.2"}],"securityGroups":[]}],"tags":[]}`
	if string(b) != want {
		t.Errorf("stub instance:\n%s\nwant\n%s", b, want)
	}
	if strings.Contains(string(b), "null,") && !strings.Contains(string(b), `"platform":null`) {
		t.Error("null array")
	}
}

// Owners and resources marshal without looping through their back-pointers.
func TestMarshalResources(t *testing.T) {
	inv := loadEstate(t)
	for _, a := range []string{"10.0.0.10", "198.51.100.50", "198.51.100.99", "10.0.0.60"} {
		o, _ := inv.ByIP(ip(a))
		if _, err := json.Marshal(o); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}
