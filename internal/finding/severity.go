package finding

import (
	"fmt"
	"math"
	"strings"
)

// Severity is a finding's numeric severity, 1.0 to 10.0, as in GuardDuty's
// severity field. The Band is what users and thresholds compare; the exact number
// only orders findings within a band.
type Severity float64

// Band is a severity level: Low, Medium, High or Critical. Bands are ordered, so
// "at least High" is b >= BandHigh.
type Band uint8

// The bands, in increasing order. BandNone is a severity outside 1.0–10.0 (or NaN).
const (
	BandNone Band = iota
	BandLow
	BandMedium
	BandHigh
	BandCritical
)

// The severity numbers vigil gives each band by default: the values GuardDuty's
// real findings carry (2, 5, 8) and the floor of Critical.
const (
	SeverityLow      Severity = 2
	SeverityMedium   Severity = 5
	SeverityHigh     Severity = 8
	SeverityCritical Severity = 9
)

// Band returns the band of s. Bands are half-open so that every number has one:
// Low [1, 4), Medium [4, 7), High [7, 9), Critical [9, 10]; GuardDuty writes these
// as 1.0–3.9, 4.0–6.9, 7.0–8.9 and 9.0–10.0. Numbers below 1, above 10 or NaN have
// BandNone.
func (s Severity) Band() Band {
	switch v := float64(s); {
	case math.IsNaN(v) || v < 1 || v > 10:
		return BandNone
	case v < 4:
		return BandLow
	case v < 7:
		return BandMedium
	case v < 9:
		return BandHigh
	default:
		return BandCritical
	}
}

// AtLeast reports whether s is in band b or a higher one: the test behind
// --fail-on and a notifier's minimum severity.
func (s Severity) AtLeast(b Band) bool { return s.Band() >= b && s.Band() != BandNone }

// String returns the band names as GuardDuty's API and vigil's flags write them:
// LOW, MEDIUM, HIGH, CRITICAL (and NONE).
func (b Band) String() string {
	switch b {
	case BandLow:
		return "LOW"
	case BandMedium:
		return "MEDIUM"
	case BandHigh:
		return "HIGH"
	case BandCritical:
		return "CRITICAL"
	}
	return "NONE"
}

// Title returns the band name as the GuardDuty console writes it: Low, Medium,
// High, Critical.
func (b Band) Title() string {
	s := b.String()
	return s[:1] + strings.ToLower(s[1:])
}

// Floor returns the lowest severity number in b (1, 4, 7 or 9; 0 for BandNone):
// the numeric threshold GuardDuty's filters use for "band b or higher".
func (b Band) Floor() Severity {
	switch b {
	case BandLow:
		return 1
	case BandMedium:
		return 4
	case BandHigh:
		return 7
	case BandCritical:
		return 9
	}
	return 0
}

// Default returns the severity number vigil gives a finding of band b.
func (b Band) Default() Severity {
	switch b {
	case BandLow:
		return SeverityLow
	case BandMedium:
		return SeverityMedium
	case BandHigh:
		return SeverityHigh
	case BandCritical:
		return SeverityCritical
	}
	return 0
}

// ParseBand parses a band name: LOW, MEDIUM, HIGH or CRITICAL, in any letter case
// (so the catalogue's "High" and a flag's "high" both parse). It is used by
// --fail-on and by notifier thresholds.
func ParseBand(s string) (Band, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "LOW":
		return BandLow, nil
	case "MEDIUM":
		return BandMedium, nil
	case "HIGH":
		return BandHigh, nil
	case "CRITICAL":
		return BandCritical, nil
	}
	return BandNone, fmt.Errorf("unknown severity %q (expected LOW, MEDIUM, HIGH or CRITICAL)", s)
}
