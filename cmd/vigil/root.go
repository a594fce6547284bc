package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
)

// usageError marks an error caused by how the command was called (unknown flag,
// missing argument, bad flag value): the process exits with code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error.
func usagef(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// commands lists the constructors of the subcommands; each subcommand's file adds
// itself in an init function, so adding a command touches one file.
var commands []func(*globals) *cobra.Command

// globals holds what every subcommand shares: where output goes.
type globals struct {
	stdout, stderr io.Writer
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Threat detection and Logs Insights queries for AWS network and audit logs",
		Long: `vigil reads VPC Flow Logs, Route 53 Resolver query logs and CloudTrail as AWS
delivers them (files, gzip, S3 layouts, Firehose) and works on them on your own
machine: it raises GuardDuty's findings (scan), runs Logs Insights queries
unchanged (query), answers AWS abuse reports (investigate), and runs as a service
with a GuardDuty-shaped API, alerts and automatic blocking (serve).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// A bare "vigil" prints help; an unknown subcommand is a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for \"vigil\" (see 'vigil --help')", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	// --cpu-profile writes a Go CPU profile of the command (for `go tool
	// pprof`): hidden, since it is for the people who make vigil faster.
	var cpuProfile string
	var stopProfile func() error
	root.PersistentFlags().StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the command to this file")
	_ = root.PersistentFlags().MarkHidden("cpu-profile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuProfile == "" {
			return nil
		}
		var err error
		stopProfile, err = startCPUProfile(cpuProfile)
		return err
	}
	root.PersistentPostRunE = func(cmd *cobra.Command, args []string) error {
		if stopProfile == nil {
			return nil
		}
		return stopProfile()
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.CompletionOptions.HiddenDefaultCmd = true
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%s (see '%s --help')", err, cmd.CommandPath())
	})
	for _, newCmd := range commands {
		c := newCmd(g)
		wrapArgs(c)
		root.AddCommand(c)
	}
	return root
}

// wrapArgs turns cobra's argument-count errors into usage errors, recursively.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				var ue *usageError
				if errors.As(err, &ue) {
					return err
				}
				return usagef("%s (see '%s --help')", err, cmd.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// oneLine folds an error message onto one line, so that errors on stderr are
// always a single line however they were built.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// startCPUProfile starts Go's CPU profiler writing to path; the returned
// function stops it and closes the file.
func startCPUProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
