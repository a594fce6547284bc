package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/suppress"
)

var ctx = context.Background()

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a running API over a real SQLite store in a temporary directory, with
// an admin and a read token, and its log captured.
type env struct {
	t           testing.TB
	st          *sqlite.Store
	srv         *api.Server
	hs          *httptest.Server
	engine      *suppress.Engine
	admin, read *client.Client
	adminSecret string
	readSecret  string
	logs        *syncBuffer
	mu          sync.Mutex
	found       []store.UpsertResult // what OnFindings received
	listChanges int
}

func newEnv(t testing.TB, mutate func(*api.Config, *api.Deps)) *env {
	t.Helper()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "vigil.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{t: t, st: st, logs: &syncBuffer{}}
	e.engine, err = suppress.New(suppress.Config{}, suppress.Deps{Filters: st})
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.DefaultConfig()
	deps := api.Deps{
		Store:    st,
		Suppress: e.engine,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnFindings: func(r store.UpsertResult) {
			e.mu.Lock()
			e.found = append(e.found, r)
			e.mu.Unlock()
		},
		OnListsChanged: func() {
			e.mu.Lock()
			e.listChanges++
			e.mu.Unlock()
		},
	}
	if mutate != nil {
		mutate(&cfg, &deps)
	}
	e.srv, err = api.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.hs = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.hs.Close)
	e.adminSecret = e.token("ops", store.ScopeAdmin)
	e.readSecret = e.token("viewer", store.ScopeRead)
	e.admin = e.client(e.adminSecret)
	e.read = e.client(e.readSecret)
	return e
}

// token creates a token in the store, as vigil token create does, and
// returns its secret.
func (e *env) token(name string, scope store.Scope) string {
	e.t.Helper()
	secret := api.NewSecret()
	if _, err := e.st.CreateToken(ctx, store.Token{Name: name, Scope: scope, Hash: api.HashSecret(secret)}, store.Actor{Name: "local:test"}); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

func (e *env) client(secret string) *client.Client {
	e.t.Helper()
	c, err := client.New(client.Config{Server: e.hs.URL, Token: secret})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// raw sends a request with the admin token (or the given Authorization
// header when auth is not "") and returns the status and body.
func (e *env) raw(method, path, body, auth string) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.hs.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	switch auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+e.adminSecret)
	case "none":
	default:
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// apiError decodes an error envelope, failing the test when the body is not
// one.
func apiError(t *testing.T, body []byte) api.Error {
	t.Helper()
	var e api.Error
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Type == "" || e.Message == "" {
		t.Fatalf("not an error envelope: %s", body)
	}
	return e
}

// wantCode checks that err is an *api.Error with the code.
func wantCode(t *testing.T, err error, code string) *api.Error {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *api.Error (want code %s)", err, code)
	}
	if e.Code != code {
		t.Fatalf("code %s (%s), want %s", e.Code, e.Message, code)
	}
	return e
}
