package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/app"
)

func init() { commands = append(commands, newServeCmd) }

func newServeCmd(g *globals) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve [--config FILE]",
		Short: "Run continuously: sources, detection, findings store, API, notifications, responders",
		Long: `serve runs vigil as a service, from one configuration file (see 'vigil config
check' and docs/serve.md): it reads its sources continuously — watched folders,
polled S3 prefixes, a Firehose HTTP endpoint, standard input — detects in event
time, stores findings with the sources' checkpoints, and runs the API,
notifiers, exports and responders the file configures.

It starts the components in order and, on SIGTERM or SIGINT, stops them in
reverse: sources first, then what they read is committed, then the rest drain.
A second signal exits at once. After a restart — clean or not — no record is
lost and none is counted twice in a finding.

/metrics, /healthz and /readyz are served on http.listen (127.0.0.1:9470).`,
		Example: `  vigil config check --config /etc/vigil/vigil.yaml
  vigil serve --config /etc/vigil/vigil.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), g, path)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", defaultConfigPath, "configuration file")
	return cmd
}

func runServe(ctx context.Context, g *globals, path string) error {
	cfg, err := loadConfig(g, path)
	if err != nil {
		return err
	}
	log := app.NewLogger(g.stderr, cfg.Log)
	a, err := app.New(cfg, app.Deps{Log: log})
	if err != nil {
		return err
	}
	// A second signal while stopping exits at once.
	go func() {
		<-ctx.Done()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		log.Error("second signal: exiting without finishing the stop")
		os.Exit(exitFailure)
	}()
	log.Info("vigil serve starting", "version", buildVersion(), "config", path)
	if err := a.Run(ctx); err != nil {
		return err
	}
	log.Info("vigil serve stopped")
	return nil
}
