package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecisionsCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "vigil.db")
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runVigil(t, append(append([]string{"decisions"}, args...), "--store", db)...)
	}
	if code, out, errs := run("add", "45.155.205.0/24", "--target", "edge,vpc", "--ttl", "12h", "--reason", "abuse report 4711"); code != 0 ||
		!strings.Contains(out, "45.155.205.0/24 blocked on edge until") || !strings.Contains(out, "on vpc") {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"add", "10.1.2.3", "--target", "edge"}, 1, "vigil: not blocked: 10.1.2.3/32 is in 10.0.0.0/8, private (RFC 1918)\n"},
		{[]string{"add", "45.0.0.0/8", "--target", "edge"}, 1, "wider than /16"},
		{[]string{"add", "45.155.205.7/24", "--target", "edge"}, 2, "host bits set (did you mean 45.155.205.0/24?)"},
		{[]string{"add", "45.155.205.7"}, 2, "--target is required"},
		{[]string{"delete", "81.2.69.0/24"}, 1, "no decision on 81.2.69.0/24"},
		{[]string{"audit", "--limit", "0"}, 2, "--limit 0"},
	} {
		code, _, errs := run(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.err) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: %d %q, want %d %q", tc.args, code, errs, tc.code, tc.err)
		}
	}
	code, out, _ := run("list", "-o", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 2 || rows[0]["target"] != "edge" ||
		rows[0]["hits"] != 1.0 || rows[1]["reason"] != "abuse report 4711" {
		t.Fatalf("list: %d %s %v", code, out, err)
	}
	if code, out, _ := run("delete", "45.155.205.0/24", "--target", "vpc", "--reason", "false positive"); code != 0 || out != "45.155.205.0/24 unblocked on vpc\n" {
		t.Errorf("delete: %d %q", code, out)
	}
	code, out, _ = run("audit", "-o", "jsonl")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[0], `"action":"remove"`) || !strings.Contains(lines[0], "false positive") {
		t.Errorf("audit: %d %q", code, out)
	}
	if code, out, _ := run("list", "--target", "vpc", "-o", "csv"); code != 0 || strings.TrimSpace(out) != "target,prefix,expiresAt,remaining,hits,origin,findingType,findingId,reason" {
		t.Errorf("list after delete: %q", out)
	}
}
