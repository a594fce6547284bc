package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInvestigateExitCodes(t *testing.T) {
	dir := t.TempDir()
	noIP := filepath.Join(dir, "no-ip.txt")
	if err := os.WriteFile(noIP, []byte("Hello, something happened yesterday.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"investigate", "--ip", "198.51.100.1"}, 2, "no logs to read"},
		{[]string{"investigate", "--ip", "not-an-ip", dir}, 2, `--ip "not-an-ip": not an IP address`},
		{[]string{"investigate", "-o", "pdf", "--ip", "198.51.100.1", dir}, 2, `unknown output format "pdf"`},
		{[]string{"investigate", "--activity", "knitting", "--ip", "198.51.100.1", dir}, 2, `--activity "knitting"`},
		{[]string{"investigate", "--report", filepath.Join(dir, "missing.eml"), dir}, 2, "--report: open " + filepath.Join(dir, "missing.eml")},
		{[]string{"investigate", "--report", noIP, dir}, 2, "no reported address"},
		{[]string{"investigate", "--ip", "198.51.100.1", dir}, 2, "no time window"},
		{[]string{"investigate", "--ip", "198.51.100.1", "--from", "2026-11-01T10:00:00Z", "--until", "2026-11-01T09:00:00Z", dir}, 2, "is before --from"},
		{[]string{"investigate", "--report", "-", "-"}, 2, "both read standard input"},
	}
	for _, c := range cases {
		code, stdout, stderr := runVigil(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("vigil %v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stderr, "goroutine ") || stdout != "" {
			t.Errorf("vigil %v: stdout %q, stderr not one line: %q", c.args, stdout, stderr)
		}
	}
}

// TestInvestigateSimulated runs simulate, then investigate on its abuse report,
// in the three output formats.
func TestInvestigateSimulated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "corpus")
	if code, _, stderr := runVigil(t, "simulate", "--out", dir, "--records", "25000", "--duration", "2h", "--seed", "3"); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Expect []struct{ Scenario, Resource string }
	}
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	culprit := ""
	for _, e := range labels.Expect {
		if e.Scenario == "nat-abuse-ssh-bruteforce" {
			culprit = e.Resource
		}
	}
	args := []string{"investigate", "--report", filepath.Join(dir, "abuse-report", "nat-abuse.eml"), "--inventory", filepath.Join(dir, "inventory")}
	logs := filepath.Join(dir, "AWSLogs")

	code, out, stderr := runVigil(t, append(args, logs)...)
	if code != 0 || !strings.Contains(out, "**Verdict.** "+culprit) || !strings.Contains(out, "| Confidence | **high** |") {
		t.Fatalf("markdown: exit %d, stderr %q, verdict not naming %s:\n%s", code, stderr, culprit, out[:min(len(out), 1500)])
	}
	if !strings.Contains(stderr, "confidence high") {
		t.Errorf("stderr summary %q", stderr)
	}

	code, out, _ = runVigil(t, append(args, "-o", "json", logs)...)
	var res struct {
		Confidence string
		Candidates []struct {
			Confidence string
			Instance   struct{ ID string }
		}
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
		t.Fatalf("json: exit %d, %v", code, err)
	}
	if len(res.Candidates) == 0 || res.Candidates[0].Instance.ID != culprit || res.Candidates[0].Confidence != "high" {
		t.Errorf("json candidates %+v, want %s high first", res.Candidates, culprit)
	}

	code, out, _ = runVigil(t, append(args, "-o", "html", logs)...)
	if code != 0 || !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, culprit) {
		t.Errorf("html: exit %d, %.200q", code, out)
	}

	// The pasted text from standard input needs the year: its Date line gives it.
	text, err := os.ReadFile(filepath.Join(dir, "abuse-report", "nat-abuse.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var outb, errb strings.Builder
	code = runWithStdin(string(text), []string{"investigate", "--report", "-", "--inventory", filepath.Join(dir, "inventory"), "--no-detections", "--no-queries", logs}, &outb, &errb)
	if code != 0 || !strings.Contains(outb.String(), "**Verdict.** "+culprit) {
		t.Errorf("pasted text: exit %d, stderr %q", code, errb.String())
	}
}

// runWithStdin runs the CLI in-process with stdin as standard input.
func runWithStdin(stdin string, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintf(stderr, "vigil: %s\n", oneLine(err.Error()))
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}
