package main

import (
	"errors"
	"fmt"
	"io"
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
delivers them (files, gzip, S3 layouts) and works on them offline.`,
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
