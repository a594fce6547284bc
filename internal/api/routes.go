package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// route is one operation: its GuardDuty name, method and path, who may call
// it, and its handler with the request and response types (which the OpenAPI
// document is generated from).
type route struct {
	op       string
	method   string
	path     string
	scope    store.Scope // "" for public routes
	summary  string
	bodyMax  int64 // 0: Config.MaxBodyBytes
	reqType  reflect.Type
	respType reflect.Type
	tag      string // the OpenAPI tag
	serve    func(c *call) (any, error)
	// raw routes write their own response (the OpenAPI document).
	raw func(w http.ResponseWriter, r *http.Request)
}

// call is one request being served.
type call struct {
	s     *Server
	r     *http.Request
	w     http.ResponseWriter
	rt    *route
	token store.Token
	actor store.Actor
}

// op builds a route whose handler takes a decoded *Req and returns a *Resp.
func op[Req, Resp any](tag, name, method, path string, scope store.Scope, summary string, fn func(*call, *Req) (*Resp, error)) *route {
	return &route{
		op: name, method: method, path: path, scope: scope, summary: summary, tag: tag,
		reqType: reflect.TypeFor[Req](), respType: reflect.TypeFor[Resp](),
		serve: func(c *call) (any, error) {
			var req Req
			if err := c.decode(&req); err != nil {
				return nil, err
			}
			return fn(c, &req)
		},
	}
}

// detectorID is GuardDuty's rule for detector IDs, loosened to names.
var detectorID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,300}$`)

// routeTable lists every operation. The OpenAPI document is generated from it.
func (s *Server) routeTable() []*route {
	const d = "/detector/{detectorId}"
	read, admin := store.ScopeRead, store.ScopeAdmin
	rs := []*route{
		op("Findings", "ListDetectors", "GET", "/detector", read, "Lists the detector vigil serves", s.listDetectors),
		op("Findings", "ListFindings", "POST", d+"/findings", read, "Lists finding IDs matching criteria, sorted, a page at a time", s.listFindings),
		op("Findings", "GetFindings", "POST", d+"/findings/get", read, "Returns findings in GuardDuty's JSON", s.getFindings),
		op("Findings", "ArchiveFindings", "POST", d+"/findings/archive", admin, "Archives findings", s.archiveFindings),
		op("Findings", "UnarchiveFindings", "POST", d+"/findings/unarchive", admin, "Unarchives findings", s.unarchiveFindings),
		op("Findings", "UpdateFindingsFeedback", "POST", d+"/findings/feedback", admin, "Marks findings USEFUL or NOT_USEFUL", s.updateFeedback),
		op("Findings", "GetFindingsStatistics", "POST", d+"/findings/statistics", read, "Counts findings by severity, type, account, day or resource", s.statistics),
		op("Findings", "CreateSampleFindings", "POST", d+"/findings/create", admin, "Stores one sample finding per type, marked sample", s.createSamples),

		op("Filters", "CreateFilter", "POST", d+"/filter", admin, "Creates a saved filter or suppression rule; answers how many stored findings it matches", s.createFilter),
		op("Filters", "ListFilters", "GET", d+"/filter", read, "Lists filter names in rank order", s.listFilters),
		op("Filters", "GetFilter", "GET", d+"/filter/{filterName}", read, "Returns a filter", s.getFilter),
		op("Filters", "UpdateFilter", "POST", d+"/filter/{filterName}", admin, "Changes a filter; answers how many stored findings it matches", s.updateFilter),
		op("Filters", "DeleteFilter", "DELETE", d+"/filter/{filterName}", admin, "Deletes a filter", s.deleteFilter),

		op("Lists", "CreateIPSet", "POST", d+"/ipset", admin, "Creates a trusted list from a URL or uploaded content", s.createIPSet),
		op("Lists", "ListIPSets", "GET", d+"/ipset", read, "Lists trusted list IDs", s.listIPSets),
		op("Lists", "GetIPSet", "GET", d+"/ipset/{ipSetId}", read, "Returns a trusted list", s.getIPSet),
		op("Lists", "UpdateIPSet", "POST", d+"/ipset/{ipSetId}", admin, "Renames, refreshes, replaces, activates or deactivates a trusted list", s.updateIPSet),
		op("Lists", "DeleteIPSet", "DELETE", d+"/ipset/{ipSetId}", admin, "Deletes a trusted list", s.deleteIPSet),
		op("Lists", "CreateThreatIntelSet", "POST", d+"/threatintelset", admin, "Creates a threat list from a URL or uploaded content", s.createThreatIntelSet),
		op("Lists", "ListThreatIntelSets", "GET", d+"/threatintelset", read, "Lists threat list IDs", s.listThreatIntelSets),
		op("Lists", "GetThreatIntelSet", "GET", d+"/threatintelset/{threatIntelSetId}", read, "Returns a threat list", s.getThreatIntelSet),
		op("Lists", "UpdateThreatIntelSet", "POST", d+"/threatintelset/{threatIntelSetId}", admin, "Renames, refreshes, replaces, activates or deactivates a threat list", s.updateThreatIntelSet),
		op("Lists", "DeleteThreatIntelSet", "DELETE", d+"/threatintelset/{threatIntelSetId}", admin, "Deletes a threat list", s.deleteThreatIntelSet),

		op("vigil", "ListAuditEvents", "GET", "/vigil/audit", read, "Lists changes to filters, lists and tokens, newest first", s.listAudit),
		op("vigil", "Query", "POST", "/vigil/query", read, "Runs a Logs Insights query over the configured log sources", s.runQuery),
		op("vigil", "Health", "GET", "/healthz", "", "Answers when the server is up", s.health),
		{op: "GetOpenAPI", method: "GET", path: "/openapi.json", tag: "vigil", summary: "This document, as JSON", raw: s.serveOpenAPIJSON},
		{op: "GetOpenAPIYAML", method: "GET", path: "/openapi.yaml", tag: "vigil", summary: "This document, as YAML", raw: s.serveOpenAPIYAML},
	}
	for _, r := range rs {
		switch r.op {
		case "CreateIPSet", "UpdateIPSet", "CreateThreatIntelSet", "UpdateThreatIntelSet":
			r.bodyMax = s.cfg.MaxListBodyBytes
		}
	}
	return rs
}

// buildHandler registers the routes on a ServeMux and wraps it: unknown paths
// and methods answer the JSON envelope too.
func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		var allow []string
		for _, m := range []string{"GET", "POST", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "" {
				allow = append(allow, m)
			}
		}
		var e *Error
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			e = apiErr("MethodNotAllowed", "%s %s: this path takes %s", r.Method, r.URL.Path, strings.Join(allow, ", "))
		} else {
			e = apiErr("NotFound", "no operation at %s %s (the operations are listed at /openapi.json)", r.Method, r.URL.Path)
		}
		s.Counters.Requests.Add(1)
		s.Counters.ClientErrors.Add(1)
		writeJSON(w, e.Status, e)
		s.logRequest(r, "", e.Status, start, "", nil)
	})
}

// wrap serves one route: authentication, scope, the detector check, the
// handler, the response, the request log, and a recover that turns a panic
// into a 500 (a bug, logged).
func (s *Server) wrap(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.Counters.Requests.Add(1)
		c := &call{s: s, r: r, w: w, rt: rt}
		status := http.StatusOK
		var cause error
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("api handler panic", "op", rt.op, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				e := apiErr("Internal", "internal error; the server log has the details")
				writeJSON(w, e.Status, e)
				status = e.Status
				s.Counters.ServerErrors.Add(1)
			}
			s.logRequest(r, rt.op, status, start, c.token.Name, cause)
		}()
		if rt.scope != "" {
			if e := s.authenticate(c); e != nil {
				s.Counters.AuthFailures.Add(1)
				s.Counters.ClientErrors.Add(1)
				if e.Status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
				}
				writeJSON(w, e.Status, e)
				status = e.Status
				return
			}
		}
		if id := r.PathValue("detectorId"); strings.Contains(rt.path, "{detectorId}") && id != s.cfg.DetectorID {
			e := apiErr("NotFound", "detector %q not found: this vigil serves detector %q (GET /detector lists it)", clip(id), s.cfg.DetectorID)
			s.Counters.ClientErrors.Add(1)
			writeJSON(w, e.Status, e)
			status = e.Status
			return
		}
		if rt.raw != nil {
			rt.raw(w, r)
			return
		}
		resp, err := rt.serve(c)
		if err != nil {
			e := toError(err)
			if e.Status >= 500 {
				s.Counters.ServerErrors.Add(1)
				cause = err
			} else {
				s.Counters.ClientErrors.Add(1)
			}
			writeJSON(w, e.Status, e)
			status = e.Status
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// logRequest writes the request log line. It names the token, never its
// secret, and never logs headers or bodies.
func (s *Server) logRequest(r *http.Request, op string, status int, start time.Time, token string, cause error) {
	attrs := []any{"op", op, "method", r.Method, "path", r.URL.Path, "status", status,
		"ms", time.Since(start).Milliseconds(), "remote", remoteHost(r)}
	if token != "" {
		attrs = append(attrs, "token", token)
	}
	if cause != nil {
		attrs = append(attrs, "err", cause.Error())
		s.log.Error("api request failed", attrs...)
		return
	}
	s.log.Info("api request", attrs...)
}

// remoteHost is the client's address without the port.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clip bounds a value echoed in a message.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(apiErr("Internal", "encode response: %v", err))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ---- authentication ----

// TokenPrefix starts every token secret, so that a leaked secret is
// recognisable (secret scanners match it).
const TokenPrefix = "vgl_"

// NewSecret returns a fresh token secret: TokenPrefix and 32 random bytes,
// base64url-encoded. Show it once; keep HashSecret of it.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // rand.Read does not fail on supported platforms
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the SHA-256 of a token secret, which the store keeps.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func (s *Server) authenticate(c *call) *Error {
	h := c.r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if h == "" {
		return apiErr("Unauthenticated", "no bearer token: send Authorization: Bearer <token> (vigil token create makes one)")
	}
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return apiErr("Unauthenticated", "the Authorization header must be Bearer <token>")
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return apiErr("Unauthenticated", "not a vigil token (they start with %s)", TokenPrefix)
	}
	t, err := s.deps.Store.TokenByHash(c.r.Context(), HashSecret(secret))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apiErr("Unauthenticated", "unknown token")
	case err != nil:
		s.log.Error("api token lookup", "err", err)
		return apiErr("ServiceUnavailable", "cannot check the token now")
	}
	now := finding.TimeOf(s.now())
	if !t.Usable(now) {
		if t.RevokedAt != 0 {
			return apiErr("Unauthenticated", "token %s was revoked", t.Name)
		}
		return apiErr("Unauthenticated", "token %s expired", t.Name)
	}
	c.token = t
	c.actor = store.Actor{Name: t.Name, TokenID: t.ID, Address: remoteHost(c.r), UserAgent: c.r.UserAgent()}
	if c.rt.scope == store.ScopeAdmin && t.Scope != store.ScopeAdmin {
		return apiErr("Forbidden", "%s needs an admin token; token %s is %s", c.rt.op, t.Name, t.Scope)
	}
	s.touch(c)
	return nil
}

// touch records the token's use, at most once per TokenTouchEvery.
func (s *Server) touch(c *call) {
	now := s.now()
	s.touchMu.Lock()
	last, ok := s.touched[c.token.ID]
	due := !ok || now.Sub(last) >= s.cfg.TokenTouchEvery
	if due {
		s.touched[c.token.ID] = now
	}
	s.touchMu.Unlock()
	if !due {
		return
	}
	if err := s.deps.Store.TouchToken(c.r.Context(), c.token.ID, finding.TimeOf(now)); err != nil {
		s.log.Warn("api token last use not recorded", "token", c.token.Name, "err", err)
	}
}

// ---- decoding ----

// decode fills req from the body (JSON, strictly: unknown fields are errors),
// the path ({name} values, path tags) and the query (query tags).
func (c *call) decode(req any) error {
	if hasJSONFields(reflect.TypeOf(req).Elem()) {
		if err := c.decodeBody(req); err != nil {
			return err
		}
	}
	return fillParams(c.r, reflect.ValueOf(req).Elem())
}

func (c *call) decodeBody(req any) error {
	max := c.rt.bodyMax
	if max <= 0 {
		max = c.s.cfg.MaxBodyBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apiErr("BodyTooLarge", "request body larger than %d bytes (the limit of %s)", mbe.Limit, c.rt.op)
		}
		return apiErr("InvalidRequest", "read the request body: %v", err)
	}
	return DecodeJSON(body, req)
}

// DecodeJSON decodes a request body strictly: one JSON object, no unknown
// fields, nothing after it. An empty body is {}. Errors are InvalidRequest
// and name the field and what was expected.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apiErr("InvalidRequest", "body: one JSON object expected, found more after it")
	}
	return nil
}

// jsonError turns a decoding error into a message naming the place.
func jsonError(err error) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return apiErr("InvalidRequest", "body: invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return apiErr("InvalidRequest", "%s: want %s, found a JSON %s", field, jsonKind(te.Type), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return apiErr("InvalidRequest", "body: JSON ends early")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return apiErr("InvalidRequest", "body: unknown field %s", f)
	}
	// Errors from a field's own decoder (a timestamp, …) say what they want.
	return apiErr("InvalidRequest", "body: %s", strings.TrimPrefix(msg, "json: "))
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// hasJSONFields reports whether t (a struct) has a field the body fills.
func hasJSONFields(t reflect.Type) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if hasJSONFields(f.Type) {
				return true
			}
			continue
		}
		if f.IsExported() && f.Tag.Get("json") != "-" {
			return true
		}
	}
	return false
}

// fillParams sets the fields tagged path and query from the request.
func fillParams(r *http.Request, v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := fillParams(r, fv); err != nil {
				return err
			}
			continue
		}
		if name := f.Tag.Get("path"); name != "" {
			fv.SetString(r.PathValue(name))
			continue
		}
		name := f.Tag.Get("query")
		if name == "" {
			continue
		}
		vals, ok := r.URL.Query()[name]
		if !ok {
			continue
		}
		if len(vals) > 1 {
			return apiErr("InvalidParameter", "query parameter %s given %d times", name, len(vals))
		}
		s := vals[0]
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(s)
		case reflect.Int:
			n, err := strconv.Atoi(s)
			if err != nil {
				return apiErr("InvalidParameter", "query parameter %s: want an integer, found %q", name, clip(s))
			}
			fv.SetInt(int64(n))
		case reflect.Bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return apiErr("InvalidParameter", "query parameter %s: want true or false, found %q", name, clip(s))
			}
			fv.SetBool(b)
		default:
			panic("BUG: query parameter of kind " + fv.Kind().String())
		}
	}
	return nil
}

// Operation describes one route, for documentation and tests.
type Operation struct {
	Name, Method, Path string
	// Scope is the token scope the operation needs; "" for none.
	Scope   store.Scope
	Summary string
}

// Operations lists the API's operations in route-table order.
func (s *Server) Operations() []Operation {
	out := make([]Operation, len(s.routes))
	for i, rt := range s.routes {
		out[i] = Operation{Name: rt.op, Method: rt.method, Path: rt.path, Scope: rt.scope, Summary: rt.summary}
	}
	return out
}
