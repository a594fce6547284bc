package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// The OpenAPI 3 document is generated from the route table and the request
// and response types, so it cannot drift from the code; docs/openapi.yaml is
// a checked-in copy that a test keeps identical (go test ./internal/api -run
// OpenAPI -update rewrites it).

// OpenAPIVersion is the API's version in the document.
const OpenAPIVersion = "1.0.0"

// enums are the string types with a closed set of values.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[store.FilterAction]():  {"NOOP", "ARCHIVE"},
	reflect.TypeFor[store.ListStatus]():    {"ACTIVE", "INACTIVE"},
	reflect.TypeFor[store.ListKind]():      {"TRUSTED", "THREAT"},
	reflect.TypeFor[store.Feedback]():      {"USEFUL", "NOT_USEFUL"},
	reflect.TypeFor[store.Order]():         {"ASC", "DESC"},
	reflect.TypeFor[store.Scope]():         {"read", "admin"},
	reflect.TypeFor[store.AuditResource](): {"FILTER", "LIST", "TOKEN"},
}

type schemaGen struct {
	schemas map[string]any
	names   map[reflect.Type]string
	used    map[string]reflect.Type
}

// ref returns the schema of t, registering named structs as components.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	switch t {
	case reflect.TypeFor[finding.Time]():
		return map[string]any{"type": "string", "format": "date-time", "description": "ISO-8601 UTC with milliseconds"}
	case reflect.TypeFor[json.RawMessage]():
		return map[string]any{"description": "any JSON value"}
	case reflect.TypeFor[finding.AdditionalInfo]():
		return map[string]any{"type": "object", "additionalProperties": true}
	}
	if vals, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": vals}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.ref(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return map[string]any{"type": "integer"}
	case reflect.Int64, reflect.Uint, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.ref(t.Elem())}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return map[string]any{"type": "object", "additionalProperties": true}
		}
		return map[string]any{"type": "object", "additionalProperties": g.ref(t.Elem())}
	case reflect.Interface:
		return map[string]any{"description": "any JSON value"}
	case reflect.Struct:
		return map[string]any{"$ref": "#/components/schemas/" + g.component(t)}
	}
	panic("BUG: no OpenAPI schema for " + t.String())
}

// component registers struct t and returns its name.
func (g *schemaGen) component(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	name := t.Name()
	switch t {
	case reflect.TypeFor[store.Criteria]():
		name = "FindingCriteria"
	case reflect.TypeFor[store.Sort]():
		name = "SortCriteria"
	}
	if other, ok := g.used[name]; ok && other != t {
		pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
		name = strings.ToUpper(pkg[:1]) + pkg[1:] + name
	}
	g.names[t], g.used[name] = name, t
	g.schemas[name] = nil // placeholder against recursion
	props, required := map[string]any{}, []string{}
	g.fields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	g.schemas[name] = s
	return name
}

// fields adds t's JSON fields (embedded structs flattened, as encoding/json
// does) to props.
func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && f.Type.Kind() == reflect.Struct && tag == "" {
			g.fields(f.Type, props, required)
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		s := g.ref(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			if _, isRef := s["$ref"]; isRef {
				s = map[string]any{"allOf": []any{s}, "description": doc}
			} else {
				c := make(map[string]any, len(s)+1)
				for k, v := range s {
					c[k] = v
				}
				c["description"] = doc
				s = c
			}
		}
		props[name] = s
		if f.Tag.Get("required") == "true" {
			*required = append(*required, name)
		}
	}
}

// params returns the path and query parameters of a request type.
func (g *schemaGen) params(t reflect.Type) []any {
	var out []any
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, g.params(f.Type)...)
			continue
		}
		p := map[string]any{}
		switch {
		case f.Tag.Get("path") != "":
			p["name"], p["in"], p["required"] = f.Tag.Get("path"), "path", true
		case f.Tag.Get("query") != "":
			p["name"], p["in"] = f.Tag.Get("query"), "query"
		default:
			continue
		}
		p["schema"] = g.ref(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			p["description"] = doc
		}
		out = append(out, p)
	}
	return out
}

// openAPIDocument builds the document.
func (s *Server) openAPIDocument() map[string]any {
	g := &schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}, used: map[string]reflect.Type{}}
	errRef := map[string]any{"description": "an error: GuardDuty's exception name, a message, vigil's code",
		"content": map[string]any{"application/json": map[string]any{"schema": g.ref(reflect.TypeFor[Error]())}}}
	paths := map[string]any{}
	for _, rt := range s.routes {
		o := map[string]any{"operationId": rt.op, "summary": rt.summary, "tags": []string{rt.tag}}
		switch rt.scope {
		case "":
			o["security"] = []any{}
			o["description"] = "No token needed."
		default:
			o["description"] = "Token scope: " + string(rt.scope) + "."
		}
		resp := map[string]any{"default": errRef}
		if rt.raw != nil {
			ct := "application/json"
			if strings.HasSuffix(rt.path, ".yaml") {
				ct = "application/yaml"
			}
			resp["200"] = map[string]any{"description": "the OpenAPI document", "content": map[string]any{ct: map[string]any{"schema": map[string]any{"type": "object"}}}}
		} else {
			if ps := g.params(rt.reqType); len(ps) > 0 {
				o["parameters"] = ps
			}
			if hasJSONFields(rt.reqType) {
				o["requestBody"] = map[string]any{"required": hasRequired(rt.reqType), "content": map[string]any{"application/json": map[string]any{"schema": g.ref(rt.reqType)}}}
			}
			resp["200"] = map[string]any{"description": "success", "content": map[string]any{"application/json": map[string]any{"schema": g.ref(rt.respType)}}}
		}
		o["responses"] = resp
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = o
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "vigil API",
			"version": OpenAPIVersion,
			"description": "GuardDuty's findings, filters and lists operations, on vigil's paths; vigil's additions are marked \"vigil:\". " +
				"Authenticate with a bearer token from `vigil token create`. See docs/api.md.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "a vigil token, vgl_…"}},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}

// openAPI holds the document, rendered once.
type openAPI struct {
	once       sync.Once
	json, yaml []byte
}

func (s *Server) openAPIBytes() (js, ym []byte) {
	d := &s.doc
	d.once.Do(func() {
		doc := s.openAPIDocument()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			panic("BUG: OpenAPI document: " + err.Error())
		}
		d.json = buf.Bytes()
		var yb bytes.Buffer
		ye := yaml.NewEncoder(&yb)
		ye.SetIndent(2)
		if err := ye.Encode(doc); err != nil {
			panic("BUG: OpenAPI document: " + err.Error())
		}
		d.yaml = append([]byte("# vigil API — generated from internal/api (routes.go, types.go); do not edit.\n# Regenerate: go test ./internal/api -run TestOpenAPI -update\n"), yb.Bytes()...)
	})
	return d.json, d.yaml
}

// OpenAPIYAML returns the OpenAPI document as YAML, as GET /openapi.yaml
// serves it.
func (s *Server) OpenAPIYAML() []byte { _, y := s.openAPIBytes(); return y }

func (s *Server) serveOpenAPIJSON(w http.ResponseWriter, _ *http.Request) {
	js, _ := s.openAPIBytes()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(js)
}

func (s *Server) serveOpenAPIYAML(w http.ResponseWriter, _ *http.Request) {
	_, y := s.openAPIBytes()
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(y)
}

// hasRequired reports whether t has a field tagged required (then the body is
// required; otherwise an empty body is {}).
func hasRequired(t reflect.Type) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("required") == "true" || f.Anonymous && f.Type.Kind() == reflect.Struct && hasRequired(f.Type) {
			return true
		}
	}
	return false
}
