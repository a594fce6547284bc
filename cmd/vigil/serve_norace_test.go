//go:build !race

package main

// serveSlowdown scales the waits of the vigil serve tests (serve_race_test.go).
const serveSlowdown = 1
