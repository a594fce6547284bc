package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/config"
)

func init() { commands = append(commands, newConfigCmd) }

// defaultConfigPath is where serve and config check look without --config.
const defaultConfigPath = "vigil.yaml"

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Check vigil serve's configuration file",
		Example: `  vigil config check --config /etc/vigil/vigil.yaml`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var path string
	check := &cobra.Command{
		Use:   "check [--config FILE]",
		Short: "Validate the configuration and print it as vigil serve will use it",
		Long: `check reads the configuration file strictly — an unknown key, a value of the
wrong type, a missing environment variable or secret file is an error naming
the key's path and line — validates every section, and prints the effective
configuration: the file with every default filled in and secrets shown as
[redacted]. Every problem is reported, one per line on standard error.

Exit status: 0 when the configuration is valid, 1 when it is not.`,
		Example: `  vigil config check --config /etc/vigil/vigil.yaml
  vigil config check -c vigil.yaml > effective.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(g, path)
			if err != nil {
				return err
			}
			out, err := config.Print(cfg)
			if err != nil {
				return err
			}
			_, err = g.stdout.Write(out)
			return err
		},
	}
	check.Flags().StringVarP(&path, "config", "c", defaultConfigPath, "configuration file")
	cmd.AddCommand(check)
	return cmd
}

// loadConfig loads a configuration file. When it has problems, each is
// written to stderr on its own line, and the error counts them.
func loadConfig(g *globals, path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err == nil {
		return cfg, nil
	}
	var problems []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" && line != path+":" {
			problems = append(problems, line)
		}
	}
	if len(problems) <= 1 {
		return nil, err
	}
	for _, p := range problems {
		fmt.Fprintf(g.stderr, "vigil: %s: %s\n", path, p)
	}
	return nil, fmt.Errorf("%s: %d problems (above)", path, len(problems))
}
