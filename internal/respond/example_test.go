package respond_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/respond"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
)

// A rule blocks public addresses behind high-severity findings on a
// blocklist; private addresses are refused whatever the rule says.
func Example() {
	dir, _ := os.MkdirTemp("", "vigil-example")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "vigil.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	cfg, err := respond.ParseConfig([]byte(`
batch_window: 10ms
rules:
  - name: high
    when: severity >= HIGH
    ttl: 12h
targets:
  - name: edge
    type: blocklist
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := respond.New(cfg, respond.Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()

	f := &finding.Finding{ID: "5cc8e0b1a1a3f0e2b3c4d5e6f7a8b9c0", Type: "Recon:EC2/PortProbeUnprotectedPort", Severity: 8}
	f.Service.Action.PortProbeAction = &finding.PortProbeAction{PortProbeDetails: []finding.PortProbeDetail{
		{RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: "45.155.205.6"}},
		{RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: "45.155.205.7"}},
		{RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: "10.0.3.7"}},
	}}
	ds, _ := r.Consider(ctx, f)
	for _, d := range ds {
		fmt.Println(d.Target, d.Prefix, d.ExpiresAt.Sub(d.CreatedAt), d.Origin, d.Reason)
	}
	time.Sleep(100 * time.Millisecond) // a batch window or two
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/edge", nil))
	fmt.Print(rec.Body.String())
	fmt.Println("refused as reserved:", r.Stats().Skipped[respond.SkipReserved])
	cancel()
	<-done
	// Output:
	// edge 45.155.205.6/32 12h0m0s rule:high Recon:EC2/PortProbeUnprotectedPort (severity 8.0) from 45.155.205.6 matched rule high
	// edge 45.155.205.7/32 12h0m0s rule:high Recon:EC2/PortProbeUnprotectedPort (severity 8.0) from 45.155.205.7 matched rule high
	// 45.155.205.6/31
	// refused as reserved: 1
}
