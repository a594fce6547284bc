package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// run is one measured execution of a program.
type run struct {
	wall      time.Duration
	user, sys time.Duration
	maxRSS    int64 // bytes: the largest resident set of the process, or of any process of a pipeline
	stdout    []byte
	stderr    []byte
}

func (r run) cpu() time.Duration { return r.user + r.sys }

// timeBin is GNU time, which reports the peak RSS of the program it runs.
const timeBin = "/usr/bin/time"

// measure runs argv as a child process and takes its wall time, its CPU time
// (user and system, from wait4's rusage, which includes the processes it
// waited for) and its peak RSS.
//
// The peak RSS comes from GNU time (%M), which forks the program: Go starts
// children with vfork (CLONE_VM), and Linux then counts the parent's peak RSS
// (the harness's) in the child's ru_maxrss, which would put a floor of several
// MiB under every small tool. Through GNU time the floor is time's own ~1 MiB.
// For a shell pipeline (bash -c) the figure is the largest process's, not the
// sum.
func measure(ctx context.Context, dir string, argv []string) (run, error) {
	rss, err := os.CreateTemp("", "vigil-bench-rss-")
	if err != nil {
		return run{}, err
	}
	rss.Close()
	defer os.Remove(rss.Name())
	full := append([]string{timeBin, "-f", "%M", "-o", rss.Name(), "--"}, argv...)
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r := run{wall: time.Since(start), stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.user = time.Duration(ru.Utime.Nano())
			r.sys = time.Duration(ru.Stime.Nano())
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w\n%s", shortArgv(argv), err, tail(stderr.String(), 2000))
	}
	// GNU time writes "Command exited with non-zero status N" before the
	// figures when the program fails; the figures are the last line.
	b, err := os.ReadFile(rss.Name())
	if err != nil {
		return r, err
	}
	lines := strings.Fields(string(b))
	if len(lines) == 0 {
		return r, fmt.Errorf("%s printed no peak RSS", timeBin)
	}
	kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		return r, fmt.Errorf("%s: peak RSS %q: %w", timeBin, b, err)
	}
	r.maxRSS = kb * 1024
	return r, nil
}

// shortArgv renders a command line for messages, eliding long arguments
// (SQL, awk programs, file lists).
func shortArgv(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		a = strings.Join(strings.Fields(a), " ")
		parts[i] = truncate(a, 120)
	}
	return strings.Join(parts, " ")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
