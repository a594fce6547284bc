package detect_test

import (
	"path/filepath"
	"testing"

	"github.com/vigil-dev/vigil/internal/detect/detecttest"
)

// TestScripts runs every detector script in testdata (see package detecttest),
// each in event-time order and shuffled within its lateness.
func TestScripts(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.dtest")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no scripts in testdata")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) { detecttest.Run(t, p) })
	}
}
