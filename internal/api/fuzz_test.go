package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/api"
)

// FuzzDecodeJSON: the request decoder never panics, and rejects what it
// rejects with a 400 envelope naming the problem.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, ``, `{"findingCriteria":{"criterion":{"severity":{"gte":7}}},"maxResults":10}`,
		`{"name":"scanner","action":"ARCHIVE","findingCriteria":{"Criterion":{"type":{"Eq":["Recon:EC2/Portscan"]}}}}`,
		`{"name":"l","format":"TXT","content":"192.0.2.1\n","activate":true}`, `{"findingIds":["a","b"],"feedback":"USEFUL"}`,
		`{"queryString":"fields @timestamp","startTime":1,"endTime":2}`, `[`, `{"a":1}`, `{"maxResults":"x"}`, `{} {}`, `null`,
		`{"findingCriteria":{"criterion":{"type":{"matches":["*"]}}}}`, `{"findingCriteria":{"criterion":{"createdAt":{"gt":1e99}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []any{&api.ListFindingsRequest{}, &api.GetFindingsRequest{}, &api.FeedbackRequest{}, &api.StatisticsRequest{},
			&api.CreateFilterRequest{}, &api.UpdateFilterRequest{}, &api.CreateListRequest{}, &api.UpdateIPSetRequest{}, &api.QueryRequest{}} {
			err := api.DecodeJSON(data, v)
			if err == nil {
				continue
			}
			var e *api.Error
			if !errors.As(err, &e) || e.Status != 400 || e.Code != "InvalidRequest" || e.Message == "" {
				t.Fatalf("%T: error %#v", v, err)
			}
		}
	})
}

// FuzzHandler sends arbitrary bodies to every operation that takes one, with
// an admin token: the answer is never a 5xx, and every error is an envelope.
func FuzzHandler(f *testing.F) {
	for i, s := range []string{
		`{}`, `{"findingCriteria":{"criterion":{"severity":{"gte":7}}}}`, `{"findingIds":["x"]}`,
		`{"name":"abc","findingCriteria":{"criterion":{"type":{"eq":["x"]}}}}`, `{"name":"abc","expression":"type like /x/"}`,
		`{"name":"abc","findingCriteria":{"criterion":{"type":{"matches":["Recon:*"],"notMatches":["*%_[\\*"]}}}}`,
		`{"findingCriteria":{"criterion":{"type":{"notMatches":["*"]}}}}`,
		`{"groupBy":"SEVERITY"}`, `{"name":"l","format":"TXT","content":"192.0.2.1\n","activate":true}`,
		`{"findingTypes":["Recon:EC2/Portscan"]}`, `{"nextToken":"x"}`, `{"rank":0}`, `{"queryString":"stats count(*)"}`,
	} {
		f.Add(uint8(i), []byte(s))
	}
	e := newEnv(f, nil)
	type target struct{ method, path string }
	var targets []target
	for _, op := range e.srv.Operations() {
		if op.Method == "GET" {
			continue
		}
		p := strings.NewReplacer("{detectorId}", "default", "{filterName}", "abc", "{ipSetId}", strings.Repeat("a", 32),
			"{threatIntelSetId}", strings.Repeat("b", 32)).Replace(op.Path)
		targets = append(targets, target{op.Method, p})
	}
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tg := targets[int(which)%len(targets)]
		req := httptest.NewRequest(tg.method, tg.path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+e.adminSecret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", tg.method, tg.path, body, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			var env api.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code == "" || env.Type == "" {
				t.Fatalf("%s %s %q: %d, not an envelope: %s", tg.method, tg.path, body, rec.Code, rec.Body)
			}
		}
	})
}
