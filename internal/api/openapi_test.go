package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.yaml from the code")

// checkedIn is the repository's copy of the document.
var checkedIn = filepath.Join("..", "..", "docs", "openapi.yaml")

// TestOpenAPI: the document the server serves is the checked-in one, byte for
// byte; it lists every operation the server routes, and nothing else; and the
// JSON and YAML forms say the same.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, nil)
	status, served, h := e.raw("GET", "/openapi.yaml", "", "none")
	if status != 200 || h.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /openapi.yaml: %d %s", status, h.Get("Content-Type"))
	}
	if *update {
		if err := os.WriteFile(checkedIn, served, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file, err := os.ReadFile(checkedIn)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/api -run TestOpenAPI -update)", err)
	}
	if !bytes.Equal(file, served) {
		t.Fatalf("docs/openapi.yaml differs from the served document; run go test ./internal/api -run TestOpenAPI -update and check the diff in")
	}

	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(served, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	routed := map[string]bool{}
	for _, op := range e.srv.Operations() {
		key := strings.ToLower(op.Method) + " " + op.Path
		routed[key] = true
		o, ok := doc.Paths[op.Path][strings.ToLower(op.Method)]
		if !ok {
			t.Errorf("%s (%s) is not in the document", key, op.Name)
			continue
		}
		if o["operationId"] != op.Name {
			t.Errorf("%s: operationId %v, want %s", key, o["operationId"], op.Name)
		}
		if _, ok := o["responses"].(map[string]any)["200"]; !ok {
			t.Errorf("%s: no 200 response", key)
		}
	}
	for p, item := range doc.Paths {
		for m := range item {
			if !routed[m+" "+p] {
				t.Errorf("%s %s is in the document but not routed", m, p)
			}
		}
	}

	// The JSON form is the same document.
	_, js, _ := e.raw("GET", "/openapi.json", "", "none")
	var fromJSON, fromYAML any
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(served, &fromYAML); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(fromYAML)
	if !bytes.Equal(a, b) {
		t.Error("the JSON and YAML documents differ")
	}
	// Every $ref resolves.
	for _, ref := range refs(fromJSON) {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if _, ok := fromJSON.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)[name]; !ok {
			t.Errorf("dangling $ref %s", ref)
		}
	}
	for _, want := range []string{"FindingCriteria", "Finding", "Error", "CreateFilterRequest", "AuditEvent"} {
		if !slices.Contains(refs(fromJSON), "#/components/schemas/"+want) {
			t.Errorf("schema %s not referenced", want)
		}
	}
}

func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if s, ok := y.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(y)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, refs(y)...)
		}
	}
	return out
}
