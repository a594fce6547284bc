// Package testenv starts real servers for tests and tears them down when the test
// ends: a real S3 (MinIO) rather than a mock, so that listing, paging, signing,
// policies and error codes are S3's own, and a throwaway PostgreSQL cluster
// (initdb in a temporary folder, an unprivileged user, a random port), so that the
// cluster store runs against the database it will meet.
//
// The server binaries are installed by scripts/test (MinIO pinned and cached in
// GOPATH/bin; PostgreSQL from Debian's package), never fetched while tests run. A test whose server is not installed is skipped
// with the command that installs it, except under CI (CI set), where a missing
// server is a failure: CI must not pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// findBinary returns the path of the named server binary: the environment variable
// env when set, else GOBIN or GOPATH/bin, where `go install` puts it. When it is
// missing the test is skipped, or failed under CI, with install as the way out.
func findBinary(t testing.TB, name, env, install string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", env, p, err)
		}
		return p
	}
	var tried []string
	for _, dir := range goBinDirs() {
		p := filepath.Join(dir, name)
		tried = append(tried, p)
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			return p
		}
	}
	msg := name + " is not installed (looked for " + strings.Join(tried, ", ") + "; or set " + env + "); " +
		"./scripts/test installs it, or run:\n  " + install
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// goBinDirs returns where `go install` puts binaries: GOBIN if set, else the first
// GOPATH entry's bin. It asks the go command, which also knows values set with
// `go env -w`, and falls back to the environment.
func goBinDirs() []string {
	var gobin, gopath string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			gobin, gopath = strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
		}
	}
	if gopath == "" {
		gobin, gopath = os.Getenv("GOBIN"), os.Getenv("GOPATH")
	}
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	var dirs []string
	if gobin != "" {
		dirs = append(dirs, gobin)
	}
	if gopath != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(gopath)[0], "bin"))
	}
	return dirs
}
