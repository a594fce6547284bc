package investigate

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// hostileResult holds attacker-controlled text where a report, a log line and an
// inventory tag can put it.
func hostileResult() *Result {
	t0 := time.Date(2026, 11, 1, 11, 0, 0, 0, time.UTC)
	return &Result{
		Report: &Report{Name: "r.eml", Subject: "<script>alert(1)</script> | ``` [x](javascript:alert(2))",
			Notes: []string{"<img src=x onerror=alert(3)>"},
			Lines: []LogLine{{Line: 1, Format: "<b>fmt</b>", Time: t0}}},
		Kind:       KindPortScan,
		Window:     TimeRange{From: t0, Until: t0.Add(time.Minute), Basis: "<i>basis</i>"},
		ReadWindow: TimeRange{From: t0, Until: t0.Add(time.Minute)},
		Targets:    []Target{{IP: netip.MustParseAddr("198.51.100.1"), Kind: "nat-gateway", ID: "nat-1", Name: "<svg onload=alert(4)>"}},
		Verdict:    "<script>alert(5)</script>",
		Confidence: "high",
		Candidates: []Candidate{{Rank: 1, Addr: netip.MustParseAddr("10.0.0.1"), Confidence: "high",
			Instance: &InstanceInfo{ID: "i-1", Name: "<script>alert(6)</script>"},
			Reasons:  []string{"<iframe>"},
			Evidence: Evidence{Sample: []FlowRecord{{Raw: "2 1 eni-1 ``` <script>alert(7)</script>", Start: t0}}}}},
		Statements: []string{"<marquee>"},
		Reply:      "```\n<script>alert(8)</script>",
	}
}

func TestOutputEscapes(t *testing.T) {
	r := hostileResult()
	var h bytes.Buffer
	if err := r.Write(&h, HTML); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img", "<svg", "<iframe", "<marquee", "<b>fmt", "<i>basis"} {
		if strings.Contains(h.String(), bad) {
			t.Errorf("HTML output holds %q unescaped", bad)
		}
	}
	if !strings.Contains(h.String(), "&lt;script&gt;alert(6)&lt;/script&gt;") {
		t.Errorf("HTML output lost the escaped instance name")
	}

	var m bytes.Buffer
	if err := r.Write(&m, Markdown); err != nil {
		t.Fatal(err)
	}
	md := m.String()
	// Outside code blocks no tag survives; inside them, text is literal. A fence
	// closes only with a run of backticks at least as long as the one that opened
	// it (CommonMark).
	open := 0
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		run := len(trimmed) - len(strings.TrimLeft(trimmed, "`"))
		switch {
		case open == 0 && run >= 3:
			open = run
			continue
		case open > 0 && run >= open && strings.Trim(trimmed, "`") == "":
			open = 0
			continue
		}
		if open == 0 && (strings.Contains(line, "<script") || strings.Contains(line, "<img") || strings.Contains(line, "<svg") || strings.Contains(line, "<iframe")) {
			t.Errorf("markdown line outside code holds a tag: %q", line)
		}
	}
	if open > 0 {
		t.Errorf("markdown ends inside a code block: a backtick run broke a fence")
	}

	var j bytes.Buffer
	if err := r.Write(&j, JSON); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || strings.Contains(j.String(), "<script>") {
		t.Errorf("JSON output: %v, unescaped %v", err, strings.Contains(j.String(), "<script>"))
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"i-0abc":       "i-0abc",
		"a b":          "'a b'",
		"x'; rm -rf /": `'x'\''; rm -rf /'`,
		"$(id)":        "'$(id)'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
