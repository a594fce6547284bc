package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimulateExitCodes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"simulate"}, 2, "--out is required"},
		{[]string{"simulate", "--out", filepath.Join(dir, "a"), "--records", "10"}, 2, "--records: must be at least"},
		{[]string{"simulate", "--out", filepath.Join(dir, "b"), "--flow-format", "v9"}, 2, `--flow-format: must be mixed, v2 or custom, got "v9"`},
		{[]string{"simulate", "--out", filepath.Join(dir, "c"), "--layout", "zip"}, 2, "--layout: must be s3 or flat"},
		{[]string{"simulate", "--out", filepath.Join(dir, "d"), "--start", "yesterday"}, 2, "--start: want an RFC 3339 time"},
		{[]string{"simulate", "--out", filepath.Join(dir, "e"), "--start", "2026-11-01T00:03:00Z"}, 2, "--start: must fall on a 5-minute boundary"},
		{[]string{"simulate", "--out", filepath.Join(dir, "f"), "--duration", "10m"}, 2, "--duration: must be between 1h"},
		{[]string{"simulate", "--out", filepath.Join(dir, "g"), "--records", "lots"}, 2, `invalid argument "lots"`},
		{[]string{"simulate", "--out", filepath.Join(file, "corpus")}, 1, "create output folder " + filepath.Join(file, "corpus") + ": not a directory"},
		{[]string{"simulate", "--out", dir}, 1, "output folder is not empty: " + dir + " (choose a new folder, or add --force"},
	}
	for _, c := range cases {
		code, stdout, stderr := runVigil(t, c.args...)
		if code != c.code {
			t.Errorf("vigil %v: exit %d, want %d (stderr %q)", c.args, code, c.code, stderr)
		}
		if !strings.Contains(stderr, c.want) {
			t.Errorf("vigil %v: stderr %q does not contain %q", c.args, stderr, c.want)
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stderr, "goroutine ") {
			t.Errorf("vigil %v: error is not one line: %q", c.args, stderr)
		}
		if stdout != "" {
			t.Errorf("vigil %v: wrote %q to stdout on failure", c.args, stdout)
		}
	}
}

func TestSimulateUnwritableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop root from writing")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runVigil(t, "simulate", "--out", dir)
	if code != 1 || !strings.Contains(stderr, "write to output folder "+dir+": permission denied") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestSimulateWritesCorpus(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "corpus")
	code, stdout, stderr := runVigil(t, "simulate", "--out", dir, "--records", "15000", "--duration", "1h", "--seed", "9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("progress written to a stderr that is not a terminal: %q", stderr)
	}
	if !strings.HasPrefix(stdout, "Wrote 15000 VPC flow records, ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("summary: %q", stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "labels.json")); err != nil {
		t.Error(err)
	}
	// Again with --force: the earlier output is replaced.
	if code, _, stderr := runVigil(t, "simulate", "--out", dir, "--records", "15000", "--duration", "1h", "--force"); code != 0 {
		t.Errorf("--force: exit %d: %s", code, stderr)
	}
}
