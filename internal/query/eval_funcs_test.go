package query

import (
	"strings"
	"testing"
)

// TestEveryFunctionImplemented checks that the evaluator implements every
// scalar function of the table.
func TestEveryFunctionImplemented(t *testing.T) {
	for _, f := range Funcs() {
		if f.Aggregate {
			continue
		}
		if builders[strings.ToLower(f.Name)] == nil {
			t.Errorf("function %s has no implementation", f.Name)
		}
	}
}
