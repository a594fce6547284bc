package main

import (
	"strings"
	"testing"
)

// runVigil runs the CLI in-process and returns its exit code and output.
func runVigil(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodesAndOneLineErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"version", "--nope"}, 2, "unknown flag: --nope"},
		{[]string{"version", "extra"}, 2, "unknown command \"extra\""},
		{[]string{"cat"}, 2, "requires at least 1 arg"},
		{[]string{"cat", "-o", "yaml", "x"}, 2, `unknown output format "yaml"`},
		{[]string{"cat", "--since", "yesterday-ish", "x"}, 2, `invalid --since "yesterday-ish"`},
		{[]string{"cat", "/definitely/not/here"}, 1, "open /definitely/not/here: no such file or directory"},
	}
	for _, c := range cases {
		code, _, stderr := runVigil(t, c.args...)
		if code != c.code {
			t.Errorf("vigil %v: exit %d, want %d (stderr %q)", c.args, code, c.code, stderr)
		}
		if c.want != "" && !strings.Contains(stderr, c.want) {
			t.Errorf("vigil %v: stderr %q does not contain %q", c.args, stderr, c.want)
		}
		if c.code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("vigil %v: error is not one line: %q", c.args, stderr)
		}
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
			t.Errorf("vigil %v: stack trace on stderr: %q", c.args, stderr)
		}
	}
}

func TestHelpHasExamples(t *testing.T) {
	root := newRootCmd(&strings.Builder{}, &strings.Builder{})
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("vigil %s --help has no examples", c.Name())
		}
	}
	code, out, _ := runVigil(t, "--help")
	if code != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("vigil --help: exit %d, %q", code, out)
	}
}
