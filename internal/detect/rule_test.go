package detect_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/detect"
)

// TestRuleErrors checks that a broken rule file is refused at load with the
// file, line and column of the mistake, including mistakes inside a filter
// expression, which are mapped from the expression to the file.
func TestRuleErrors(t *testing.T) {
	for _, c := range []struct {
		name, src, want string
	}{
		{"unknown-key", "id: x\nkind: flow\nfiltre: dstPort = 22\n", "3:1: unknown key \"filtre\"; did you mean \"filter\"?"},
		{"nested-unknown-key", "id: x\nkind: flow\nfilter: dstPort = 22\ngroupBy: [srcAddr]\nwindow: 1m\nthreshold:\n  atleast: 3\n", "7:3: unknown key \"atleast\" in threshold; did you mean \"atLeast\"?"},
		{"filter-syntax", "id: x\nkind: flow\nfilter: dstPort = = 22\n", "3:19: filter: "},
		{"filter-unknown-field", "id: x\nkind: flow\nfilter: protocol = 6 and dstPrt = 22\n", "3:26: filter: unknown field dstPrt: flow records have no such field; did you mean dstPort?"},
		{"filter-block-scalar", "id: x\nkind: flow\nfilter: |\n  protocol = 6\n  and dstPrt = 22\n", "5:7: filter: unknown field dstPrt"},
		{"filter-folded", "id: x\nkind: flow\nfilter: >-\n  protocol = 6 and\n  (dstPrt = 22)\n", "5:4: filter: unknown field dstPrt"},
		{"filter-quoted", "id: x\nkind: flow\nfilter: \"dstPort = 22 and srcAdr = 1\"\n", "3:27: filter: unknown field srcAdr"},
		{"group-unknown-field", "id: x\nkind: flow\ngroupBy: [srcAddr, dstAdr]\nwindow: 1m\nthreshold: {distinct: dstPort, atLeast: 5}\nfinding: {type: Recon:EC2/Portscan, resources: [{side: src}]}\n", "3:20: unknown field \"dstAdr\": flow records have no such field; did you mean \"dstAddr\"?"},
		{"bad-type", "id: x\nkind: cloudtrail\nfinding:\n  type: Stealth:IAMUser/CloudTrailLogingDisabled\n", "4:9: finding type \"Stealth:IAMUser/CloudTrailLogingDisabled\" is not in the catalogue; did you mean \"Stealth:IAMUser/CloudTrailLoggingDisabled\"?"},
		{"bad-kind", "id: x\nkind: netflow\n", "2:7: unknown record kind \"netflow\""},
		{"bad-window", "id: x\nkind: flow\nwindow: ten minutes\n", "3:9: invalid duration \"ten minutes\""},
		{"bad-threshold-type", "id: x\nkind: flow\nthreshold:\n  atLeast: many\n", "4:12: threshold.atLeast: expected a number, found \"many\""},
		{"threshold-needs-window", "id: x\nkind: flow\ngroupBy: [srcAddr]\nthreshold: {count: true, atLeast: 5}\nfinding: {type: Recon:EC2/Portscan, resources: [{side: src}]}\n", "4:12: a threshold above 1 needs a window"},
		{"side-needs-group", "id: x\nkind: flow\ngroupBy: [dstAddr]\nwindow: 1m\nthreshold: {count: true, atLeast: 5}\nfinding: {type: Recon:EC2/Portscan, resources: [{side: src}]}\n", "6:56: side src: groupBy must include srcAddr"},
		{"bad-side", "id: x\nkind: dns\nfinding:\n  type: Trojan:EC2/DNSDataExfiltration\n  resources:\n    - side: src\n", "6:13: side \"src\": a dns rule's resources are one of instance"},
		{"unknown-detector", "id: x\nkind: flow\ndetector: portscann\n", "3:11: detector \"portscann\": no such Go detector"},
		{"detector-param", "id: x\nkind: flow\ndetector: dos\nwindow: 1m\nparams:\n  minPackets:\n    udpp: 5\n", "7:5: unknown key \"udpp\" in params.minPackets; did you mean \"udp\"?"},
		{"detector-param-range", "id: x\nkind: dns\ndetector: dnsexfil\nwindow: 1m\nparams:\n  minLabelLength: 80\n", "6:19: minLabelLength must be 1 to 63"},
		{"override-unknown", "override: ssh-brutefroce\nenabled: false\n", "1:11: override ssh-brutefroce: no such rule; did you mean ssh-bruteforce?"},
		{"override-bad-filter", "override: ssh-bruteforce\nfilter: dstPort = 22 and srcAdr = 1\n", "2:26: filter: unknown field srcAdr"},
		{"override-forbidden", "override: ssh-bruteforce\ngroupBy: [srcAddr]\n", "2:1: an override may change enabled, filter, window, threshold.atLeast and params"},
		{"yaml-syntax", "id: x\nkind: flow\n  filter: : :\n", ":3: YAML syntax:"},
		{"bad-id", "id: My Rule\nkind: flow\n", "1:5: rule id \"My Rule\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), c.name+".yaml")
			if err := os.WriteFile(file, []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := detect.CheckFile(file)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			want := file + ":" + c.want
			if strings.HasPrefix(c.want, ":") {
				want = file + c.want
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error:\n  %v\nwant it to contain:\n  %s", err, want)
			}
		})
	}
}

// TestRuleDirOverrides loads a folder with an override of a built-in rule, a
// rule of the user's, and a disabled rule.
func TestRuleDirOverrides(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-tune.yaml", "override: ssh-bruteforce\nthreshold:\n  atLeast: 100\nwindow: 30m\n---\noverride: dns-exfiltration\nparams:\n  minNames: 500\n---\noverride: spambot\nenabled: false\n")
	write("20-mine.yml", "id: telnet-anywhere\ndescription: any telnet connection\nkind: flow\nfilter: dstPort = 23 and protocol = 6\nfinding:\n  type: Behavior:EC2/NetworkPortUnusual\n  resources:\n    - side: src\n      role: ACTOR\n")
	set, err := detect.LoadRules(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := set.Lookup("ssh-bruteforce")
	if r.Threshold.AtLeast != 100 || r.Window.Minutes() != 30 || len(r.Overridden) != 1 {
		t.Errorf("ssh-bruteforce not overridden: %+v", r.Threshold)
	}
	if r, _ := set.Lookup("spambot"); r.Enabled {
		t.Error("spambot still enabled")
	}
	r, _ = set.Lookup("dns-exfiltration")
	if b, _ := r.YAML(); !strings.Contains(string(b), "minNames: 500") || !strings.Contains(string(b), "minEntropy: 3.5") {
		t.Errorf("params not merged:\n%s", b)
	}
	if _, ok := set.Lookup("telnet-anywhere"); !ok {
		t.Error("user rule not loaded")
	}
	// Every built-in rule renders to YAML that loads back as the same rule.
	for _, r := range set.Rules {
		b, err := r.YAML()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "copy.yaml")
		os.WriteFile(f, b, 0o644)
		if _, err := detect.CheckFile(f); err != nil {
			t.Errorf("rules show %s does not load back: %v\n%s", r.ID, err, b)
		}
	}
}
