package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scanFixture writes a flow log with an SSH brute force against an instance and
// a CloudTrail file with a StopLogging call, and returns their folder.
func scanFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range 60 {
		start := 1793491200 + i*2
		b.WriteString("2 111122223333 eni-0abc 198.51.100.7 10.0.1.5 " + itoa(40000+i) + " 22 6 14 2900 " + itoa(start) + " " + itoa(start+1) + " ACCEPT OK\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "flows.log"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ct := `{"Records":[{"eventVersion":"1.10","userIdentity":{"type":"IAMUser","principalId":"AIDAX","arn":"arn:aws:iam::111122223333:user/ops","accountId":"111122223333","accessKeyId":"AKIAEXAMPLEKEY00001","userName":"ops"},"eventTime":"2026-11-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"aws-cli/2","requestParameters":{"name":"main"},"responseElements":null,"eventID":"e1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}]}`
	if err := os.WriteFile(filepath.Join(dir, "trail.json"), []byte(ct), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestScanTableJSONAndFailOn(t *testing.T) {
	dir := scanFixture(t)
	code, out, stderr := runVigil(t, "scan", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"UnauthorizedAccess:EC2/SSHBruteForce", "eni-0abc", "TARGET", "Stealth:IAMUser/CloudTrailLoggingDisabled", "AKIAEXAMPLEKEY00001 (ops)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "read 61 records") || !strings.Contains(stderr, "2 findings (2 Low)") {
		t.Errorf("summary: %q", stderr)
	}

	code, out, stderr = runVigil(t, "scan", "-o", "json", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var fs []map[string]any
	if err := json.Unmarshal([]byte(out), &fs); err != nil || len(fs) != 2 {
		t.Fatalf("json: %v, %d findings:\n%s", err, len(fs), out)
	}
	if fs[0]["schemaVersion"] != "2.0" || fs[0]["type"] == nil {
		t.Errorf("not GuardDuty JSON: %v", fs[0])
	}

	code, out, _ = runVigil(t, "scan", "-o", "jsonl", dir)
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("jsonl: exit %d, %q", code, out)
	}

	// --fail-on: both findings are Low.
	if code, _, stderr = runVigil(t, "scan", "--fail-on", "low", dir); code != 1 || !strings.Contains(stderr, "2 findings at or above LOW (--fail-on)") {
		t.Errorf("--fail-on low: exit %d, %q", code, stderr)
	}
	if code, _, stderr = runVigil(t, "scan", "--fail-on", "HIGH", dir); code != 0 {
		t.Errorf("--fail-on HIGH: exit %d, %q", code, stderr)
	}
	// An empty input prints "no findings" / [].
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "x.log"), []byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"), 0o644)
	if code, out, _ = runVigil(t, "scan", "-o", "json", empty); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("empty json: exit %d, %q", code, out)
	}
}

func TestScanUsageAndRuleErrors(t *testing.T) {
	dir := scanFixture(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"scan"}, 2, "requires at least 1 arg"},
		{[]string{"scan", "-o", "csv", dir}, 2, `unknown output format "csv"`},
		{[]string{"scan", "--fail-on", "severe", dir}, 2, `unknown severity "severe"`},
		{[]string{"scan", "--threat-list", "=x", dir}, 2, "expected [NAME=]PATH or TYPE=PATH"},
		{[]string{"scan", "--threat-list", "/no/such/list.txt", dir}, 1, "no such file"},
		{[]string{"scan", "--inventory", "/no/such/inventory", dir}, 1, "inventory"},
	} {
		code, _, stderr := runVigil(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("vigil %v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	rules := t.TempDir()
	os.WriteFile(filepath.Join(rules, "bad.yaml"), []byte("override: ssh-bruteforce\nfilter: dstPort = 22 and srcAdr = 1\n"), 0o644)
	code, _, stderr := runVigil(t, "scan", "--rules", rules, dir)
	if code != 1 || !strings.Contains(stderr, filepath.Join(rules, "bad.yaml")+":2:26: filter: unknown field srcAdr") {
		t.Errorf("bad rule: exit %d, %q", code, stderr)
	}
	// A disabled rule raises nothing.
	os.WriteFile(filepath.Join(rules, "bad.yaml"), []byte("override: ssh-bruteforce\nenabled: false\n"), 0o644)
	code, out, stderr := runVigil(t, "scan", "--rules", rules, dir)
	if code != 0 || strings.Contains(out, "SSHBruteForce") {
		t.Errorf("disabled rule: exit %d, %q %q", code, out, stderr)
	}
}

// TestScanTypedThreatList gives a threat list a finding type: an instance
// connecting to a listed address raises that type instead of .Custom.
func TestScanTypedThreatList(t *testing.T) {
	dir := t.TempDir()
	flows := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 111122223333 eni-0abc 10.0.1.5 203.0.113.66 40000 443 6 14 2900 1793491200 1793491201 ACCEPT OK\n"
	os.WriteFile(filepath.Join(dir, "flows.log"), []byte(flows), 0o644)
	list := filepath.Join(t.TempDir(), "c2.txt")
	os.WriteFile(list, []byte("203.0.113.66\n"), 0o644)
	code, out, stderr := runVigil(t, "scan", "-o", "jsonl", "--threat-list", "Backdoor:EC2/C&CActivity.B="+list, dir)
	if code != 0 || !strings.Contains(out, `"type":"Backdoor:EC2/C&CActivity.B"`) || !strings.Contains(out, `"threatListName":"c2"`) {
		t.Errorf("exit %d %q %q", code, out, stderr)
	}
}

func TestRulesCommand(t *testing.T) {
	code, out, stderr := runVigil(t, "rules", "list")
	if code != 0 || !strings.Contains(out, "ssh-bruteforce") || !strings.Contains(out, "distinct srcPort ≥ 25 in 10m by srcAddr, dstAddr") {
		t.Errorf("rules list: exit %d %q %q", code, out, stderr)
	}
	code, out, _ = runVigil(t, "rules", "show", "denial-of-service")
	if code != 0 || !strings.Contains(out, "detector: dos") || !strings.Contains(out, "dns: 1000") {
		t.Errorf("rules show: exit %d %q", code, out)
	}
	if code, _, stderr = runVigil(t, "rules", "show", "nope"); code != 2 || !strings.Contains(stderr, `no rule "nope"`) {
		t.Errorf("rules show nope: exit %d %q", code, stderr)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("id: telnet\nkind: flow\nfilter: dstPort = 23\nfinding:\n  type: Behavior:EC2/NetworkPortUnusual\n  resources: [{side: src}]\n"), 0o644)
	os.WriteFile(bad, []byte("id: telnet2\nkind: flow\nfilter: dstPort = = 23\n"), 0o644)
	code, out, stderr = runVigil(t, "rules", "test", good, bad)
	if code != 1 || !strings.Contains(out, good+": ok (telnet)") || !strings.Contains(stderr, bad+":3:19: filter:") {
		t.Errorf("rules test: exit %d %q %q", code, out, stderr)
	}
}
