package app

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
)

// Detection is what the detection engine reads from files: the rules, the
// estate's inventory and the threat and trusted lists. vigil scan and vigil
// serve load it the same way.
type Detection struct {
	Rules     *detect.RuleSet
	Inventory *inventory.Inventory // nil without inventory files
	Lists     []*intel.List        // built-in first, then threat, then trusted
}

// Intel returns the set the engine looks addresses and domains up in.
func (d *Detection) Intel() *intel.Set { return intel.NewSet(d.Lists...) }

// LoadDetection loads the rules, the inventory and the lists a detect section
// names. A file that cannot be read or parsed is an error naming it; bad lines
// of a list and odd inventory entries are warnings, passed to warn with the
// name of what they are about ("inventory", "threat list bad-ips").
func LoadDetection(cfg config.DetectConfig, warn func(what, msg string)) (*Detection, error) {
	if warn == nil {
		warn = func(string, string) {}
	}
	rules, err := detect.LoadRules(cfg.Rules...)
	if err != nil {
		return nil, fmt.Errorf("rules:\n%w", err)
	}
	d := &Detection{Rules: rules}
	if len(cfg.Inventory) > 0 {
		inv, warns, err := inventory.Load(cfg.Inventory...)
		if err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
		for _, w := range warns {
			warn("inventory", w.String())
		}
		d.Inventory = inv
	}
	if cfg.BuiltinLists {
		d.Lists = append(d.Lists, intel.BuiltinLists()...)
	}
	for _, spec := range []struct {
		what  string
		kind  intel.Kind
		lists []config.ListConfig
	}{{"threat list", intel.Threat, cfg.ThreatLists}, {"trusted list", intel.Trusted, cfg.TrustedLists}} {
		for _, lc := range spec.lists {
			name := lc.Name
			if name == "" {
				name = strings.TrimSuffix(filepath.Base(lc.Path), filepath.Ext(lc.Path))
			}
			opts := intel.Options{Name: name, Kind: spec.kind, Finding: finding.Type(lc.FindingType)}
			l, warns, err := intel.LoadFile(lc.Path, opts)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", spec.what, lc.Path, err)
			}
			for _, w := range warns {
				warn(spec.what+" "+name, w.String())
			}
			d.Lists = append(d.Lists, l)
		}
	}
	return d, nil
}
