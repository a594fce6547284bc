package detect_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/simulate"
)

// scan runs the engine over log locations as vigil scan does.
func scan(t testing.TB, cfg detect.Config, deps detect.Deps, workers int, paths ...string) ([]*finding.Finding, detect.Stats) {
	t.Helper()
	if deps.Rules == nil {
		rules, err := detect.LoadRules()
		if err != nil {
			t.Fatal(err)
		}
		deps.Rules = rules
	}
	e, err := detect.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e.Start(ctx)
	icfg := ingest.Config{Workers: workers}
	if cfg.Ordered {
		icfg.Done = e.Done // as vigil scan does
	}
	r := ingest.New(icfg, func() decode.Decoder { return auto.New(auto.DefaultConfig()) })
	if _, err := r.Read(ctx, paths, func(w int, b *decode.Batch) error { return e.Process(w, b) }, nil); err != nil {
		t.Fatal(err)
	}
	fs, err := e.Close()
	if err != nil {
		t.Fatal(err)
	}
	return fs, e.Stats()
}

// simulateCorpus writes a small simulated corpus and returns its folder and labels.
func simulateCorpus(t testing.TB, records int64, layout simulate.Layout) (string, *simulate.Labels) {
	t.Helper()
	dir := t.TempDir()
	cfg := simulate.DefaultConfig()
	cfg.Out, cfg.Records, cfg.Layout = dir, records, layout
	s, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := simulate.ReadLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, l
}

// remoteOf returns a finding's remote address (connection, probe or API caller).
func remoteOf(f *finding.Finding) string {
	a := &f.Service.Action
	switch {
	case a.NetworkConnectionAction != nil:
		return a.NetworkConnectionAction.RemoteIPDetails.IP()
	case a.PortProbeAction != nil && len(a.PortProbeAction.PortProbeDetails) > 0:
		return a.PortProbeAction.PortProbeDetails[0].RemoteIPDetails.IP()
	case a.AWSAPICallAction != nil:
		return a.AWSAPICallAction.RemoteIPDetails.IP()
	}
	return ""
}

func describe(f *finding.Finding) string {
	return fmt.Sprintf("%s %s %s remote=%s count=%d %s", f.Type, finding.ResourceID(&f.Resource), f.Service.ResourceRole, remoteOf(f), f.Service.Count, f.Service.EventFirstSeen)
}

// TestSimulatedCorpus runs the simulator in-process, scans its output with the
// inventory and the built-in threat lists, and checks every label: each expected
// finding raised with its type, resource and role (and remote address where the
// label gives one), and no look-alike raising a type it must not.
func TestSimulatedCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and scans a simulated corpus")
	}
	for _, layout := range []simulate.Layout{simulate.LayoutS3, simulate.LayoutFlat} {
		t.Run(string(layout), func(t *testing.T) {
			records := int64(100000) // the default day
			if layout == simulate.LayoutFlat {
				records = 20000
			}
			dir, labels := simulateCorpus(t, records, layout)
			inv, _, err := inventory.Load(filepath.Join(dir, "inventory"))
			if err != nil {
				t.Fatal(err)
			}
			paths := []string{filepath.Join(dir, "AWSLogs")}
			if layout == simulate.LayoutFlat {
				paths, _ = filepath.Glob(filepath.Join(dir, "*.*"))
				paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "labels.json") })
			}
			fs, st := scan(t, detect.DefaultConfig(), detect.Deps{Inventory: inv, Intel: intel.NewSet(intel.BuiltinLists()...)}, 2, paths...)
			checkLabels(t, labels, fs)
			if t.Failed() || testing.Verbose() {
				for _, f := range fs {
					t.Logf("found: %s", describe(f))
				}
				t.Logf("stats: %+v", st)
			}
		})
	}
}

func checkLabels(t *testing.T, labels *simulate.Labels, fs []*finding.Finding) {
	t.Helper()
	for _, want := range labels.Expect {
		var match *finding.Finding
		for _, f := range fs {
			if string(f.Type) != want.Type || finding.ResourceID(&f.Resource) != want.Resource {
				continue
			}
			if want.Role != "" && string(f.Service.ResourceRole) != want.Role {
				continue
			}
			match = f
			break
		}
		if match == nil {
			t.Errorf("label %s: no %s on %s %s (%s)", want.Scenario, want.Type, want.Resource, want.Role, want.Description)
			continue
		}
		if want.Severity != "" && match.Severity.Band().Title() != want.Severity {
			t.Errorf("label %s: %s severity %s, want %s", want.Scenario, want.Type, match.Severity.Band().Title(), want.Severity)
		}
		if want.RemoteIP != "" && match.Service.Action.AWSAPICallAction == nil {
			found := false
			for _, f := range fs {
				if f.Type == match.Type && finding.ResourceID(&f.Resource) == want.Resource && remoteOf(f) == want.RemoteIP {
					found = true
				}
			}
			if !found {
				t.Errorf("label %s: %s on %s: no finding with remote %s (got %s)", want.Scenario, want.Type, want.Resource, want.RemoteIP, remoteOf(match))
			}
		}
	}
	for _, none := range labels.ExpectNone {
		for _, f := range fs {
			if !slices.Contains(none.Types, string(f.Type)) {
				continue
			}
			if resourceMatches(f, none) {
				t.Errorf("label %s: %s raised on %s %s, which must not raise it (%s)", none.Scenario, f.Type, none.ResourceType, none.Resource, describe(f))
			}
		}
	}
}

func resourceMatches(f *finding.Finding, none simulate.NotExpected) bool {
	switch none.ResourceType {
	case "IAMUser":
		d := f.Resource.AccessKeyDetails
		return d != nil && d.UserName == none.Resource
	case "NetworkInterface":
		if d := f.Resource.InstanceDetails; d != nil {
			for _, ni := range d.NetworkInterfaces {
				if ni.NetworkInterfaceID == none.Resource || none.PrivateIP != "" && ni.PrivateIPAddress == none.PrivateIP {
					return true
				}
			}
		}
		return false
	}
	return finding.ResourceID(&f.Resource) == none.Resource
}
