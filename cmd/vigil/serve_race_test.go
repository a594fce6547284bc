//go:build race

package main

// serveSlowdown scales the waits of the vigil serve tests: under the race
// detector everything runs several times slower.
const serveSlowdown = 4
