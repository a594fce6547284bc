package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/api"
)

func TestNew(t *testing.T) {
	for _, s := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := New(Config{Server: s}); err == nil {
			t.Errorf("New(%q) accepted", s)
		}
	}
}

// TestErrors: an error envelope becomes an *api.Error with the status; any
// other error answer (a proxy's HTML page) an error quoting its start.
func TestErrors(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer vgl_x" {
			t.Errorf("Authorization %q", got)
		}
		switch r.URL.Path {
		case "/detector":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"gone","code":"NotFound"}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
		}
	}))
	defer hs.Close()
	c, err := New(Config{Server: hs.URL + "/", Token: "vgl_x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListDetectors(context.Background())
	var e *api.Error
	if !errors.As(err, &e) || e.Status != 404 || e.Code != "NotFound" || e.Message != "gone" {
		t.Errorf("envelope: %#v", err)
	}
	_, err = c.Query(context.Background(), api.QueryRequest{QueryString: "x"})
	if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "bad gateway") {
		t.Errorf("non-envelope: %v", err)
	}
	// The detector is asked once, then cached; a failure is returned.
	if _, err := c.ListFindings(context.Background(), api.ListFindingsRequest{}); !errors.As(err, &e) || e.Code != "NotFound" {
		t.Errorf("detector lookup failure: %v", err)
	}
}
