package notify

import (
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Filter chooses the findings a destination hears about: a minimum severity
// band and type patterns. The zero Filter lets everything of band LOW or above
// through.
type Filter struct {
	min              finding.Band
	include, exclude []string
}

// NewFilter checks and compiles a FilterConfig; the error names the key.
func NewFilter(c FilterConfig) (Filter, error) {
	b, err := parseBand(c.MinSeverity)
	if err != nil {
		return Filter{}, fmt.Errorf("min_severity: %w", err)
	}
	for i, p := range c.IncludeTypes {
		if err := checkPattern(p); err != nil {
			return Filter{}, fmt.Errorf("include_types[%d]: %w", i, err)
		}
	}
	for i, p := range c.ExcludeTypes {
		if err := checkPattern(p); err != nil {
			return Filter{}, fmt.Errorf("exclude_types[%d]: %w", i, err)
		}
	}
	return Filter{min: b, include: c.IncludeTypes, exclude: c.ExcludeTypes}, nil
}

func checkPattern(p string) error {
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("empty pattern")
	}
	return nil
}

// Match reports whether f passes the filter.
func (fl Filter) Match(f *finding.Finding) bool {
	min := fl.min
	if min == finding.BandNone {
		min = finding.BandLow
	}
	if !f.Severity.AtLeast(min) {
		return false
	}
	t := string(f.Type)
	if len(fl.include) > 0 && !matchAny(fl.include, t) {
		return false
	}
	return !matchAny(fl.exclude, t)
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if Wildcard(p, s) {
			return true
		}
	}
	return false
}

// Wildcard reports whether s matches pattern, where '*' matches any run of
// characters (none included) and every other character itself. It runs in time
// linear in len(pattern)·len(s) at worst, whatever the pattern.
func Wildcard(pattern, s string) bool {
	// The classic greedy match with one backtrack point: the last '*'.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
