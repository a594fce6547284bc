//go:build !race

package window

// raceEnabled scales the long tests down under the race detector.
const raceEnabled = false
