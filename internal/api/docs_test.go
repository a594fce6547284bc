package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsCoverAPI: docs/api.md documents every error code and every
// operation the server routes.
func TestDocsCoverAPI(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for code, c := range errorCodes {
		if !strings.Contains(doc, "`"+code+"`") {
			t.Errorf("error code %s (%d) is not in docs/api.md", code, c.status)
		}
	}
	s := &Server{cfg: DefaultConfig()}
	for _, rt := range s.routeTable() {
		if !strings.Contains(doc, rt.op) || !strings.Contains(doc, rt.path) {
			t.Errorf("operation %s (%s %s) is not in docs/api.md", rt.op, rt.method, rt.path)
		}
	}
}
