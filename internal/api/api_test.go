package api_test

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func TestAuth(t *testing.T) {
	e := newEnv(t, nil)
	path := "/detector/default/findings"
	for _, tc := range []struct {
		name, auth string
		status     int
		code, msg  string
	}{
		{"no token", "none", 401, "Unauthenticated", "no bearer token"},
		{"basic auth", "Basic dXNlcjpwYXNz", 401, "Unauthenticated", "must be Bearer"},
		{"empty bearer", "Bearer ", 401, "Unauthenticated", "must be Bearer"},
		{"not a vigil token", "Bearer abc", 401, "Unauthenticated", "not a vigil token"},
		{"unknown token", "Bearer " + api.NewSecret(), 401, "Unauthenticated", "unknown token"},
		{"read token", "Bearer " + e.readSecret, 200, "", ""},
		{"lower-case scheme", "bearer " + e.readSecret, 200, "", ""},
	} {
		status, body, h := e.raw("POST", path, `{}`, tc.auth)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.status, body)
			continue
		}
		if tc.status == 401 {
			got := apiError(t, body)
			if got.Code != tc.code || got.Type != "UnauthorizedException" || !strings.Contains(got.Message, tc.msg) {
				t.Errorf("%s: %+v", tc.name, got)
			}
			if h.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no WWW-Authenticate header", tc.name)
			}
		}
	}
	// A read token cannot change anything.
	for _, op := range e.srv.Operations() {
		if op.Scope != store.ScopeAdmin {
			continue
		}
		p := strings.NewReplacer("{detectorId}", "default", "{filterName}", "some-filter", "{ipSetId}", strings.Repeat("a", 32),
			"{threatIntelSetId}", strings.Repeat("b", 32)).Replace(op.Path)
		status, body, _ := e.raw(op.Method, p, `{}`, "Bearer "+e.readSecret)
		if got := apiError(t, body); status != 403 || got.Code != "Forbidden" || got.Type != "AccessDeniedException" {
			t.Errorf("%s with a read token: %d %+v", op.Name, status, got)
		}
	}
	_, err := e.read.ArchiveFindings(ctx, []string{"x"})
	wantCode(t, err, "Forbidden")

	// Revoked and expired tokens stop working.
	if _, err := e.st.RevokeToken(ctx, "viewer", finding.TimeOf(time.Now()), store.Actor{Name: "local:test"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.read.ListFindings(ctx, api.ListFindingsRequest{})
	if got := wantCode(t, err, "Unauthenticated"); !strings.Contains(got.Message, "revoked") {
		t.Errorf("revoked: %s", got.Message)
	}
	secret := api.NewSecret()
	if _, err := e.st.CreateToken(ctx, store.Token{Name: "old", Scope: store.ScopeAdmin, Hash: api.HashSecret(secret),
		ExpiresAt: finding.TimeOf(time.Now().Add(-time.Minute))}, store.Actor{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client(secret).ListFindings(ctx, api.ListFindingsRequest{})
	if got := wantCode(t, err, "Unauthenticated"); !strings.Contains(got.Message, "expired") {
		t.Errorf("expired: %s", got.Message)
	}
	// Public routes.
	for _, p := range []string{"/healthz", "/openapi.json", "/openapi.yaml"} {
		if status, body, _ := e.raw("GET", p, "", "none"); status != 200 {
			t.Errorf("GET %s without a token: %d %s", p, status, body)
		}
	}
	// The token's last use is recorded.
	ts, err := e.st.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range ts {
		if tok.Name == "viewer" && tok.LastUsedAt == 0 {
			t.Error("the read token's last use is not recorded")
		}
	}
}

// TestTokensNeverLogged: the server's log names tokens but never holds a
// secret, a hash or an Authorization header, whatever the request.
func TestTokensNeverLogged(t *testing.T) {
	e := newEnv(t, nil)
	wrong := api.NewSecret()
	_, _ = e.admin.ListFindings(ctx, api.ListFindingsRequest{})
	_, _ = e.read.ArchiveFindings(ctx, []string{"x"})                                   // 403
	_, _ = e.client(wrong).ListFindings(ctx, api.ListFindingsRequest{})                 // 401
	_, _ = e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: "bad name"})         // 400
	_, _, _ = e.raw("POST", "/detector/default/findings?token="+e.adminSecret, "{", "") // 400, secret in the URL query
	_, _ = e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: "archive-all", Action: store.FilterArchive,
		FindingCriteria: &store.Criteria{Criterion: map[string]store.Condition{"severity": {Gte: new(int64(1))}}}}) // blinding: a warning
	logs := e.logs.String()
	if !strings.Contains(logs, `"token":"ops"`) || !strings.Contains(logs, `"token":"viewer"`) {
		t.Errorf("the log does not name the tokens:\n%s", logs)
	}
	for _, secret := range []string{e.adminSecret, e.readSecret, wrong} {
		for _, leak := range []string{secret, secret[len(api.TokenPrefix):], hex.EncodeToString(api.HashSecret(secret))} {
			if strings.Contains(logs, leak) {
				t.Fatalf("the log holds a secret or its hash:\n%s", logs)
			}
		}
	}
	if strings.Contains(strings.ToLower(logs), "bearer") || strings.Contains(logs, "Authorization") {
		t.Errorf("the log holds an Authorization header:\n%s", logs)
	}
}

func putCorpus(t *testing.T, e *env, n int) []finding.Finding {
	t.Helper()
	fs := storetest.Corpus(t, n, 11)
	if _, err := e.st.Upsert(ctx, fs, storetest.Base); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestFindings(t *testing.T) {
	e := newEnv(t, nil)
	putCorpus(t, e, 300)
	crit := &store.Criteria{Criterion: map[string]store.Condition{"severity": {Gte: new(int64(5))}, "service.archived": {Eq: []string{"false"}}}}
	srt := &store.Sort{Attribute: "severity", Order: store.Desc}

	// Pages through the API are the store's pages.
	var got []string
	var tok string
	for {
		p, err := e.read.ListFindings(ctx, api.ListFindingsRequest{FindingCriteria: crit, SortCriteria: srt, MaxResults: 7, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.FindingIDs) > 7 {
			t.Fatalf("page of %d", len(p.FindingIDs))
		}
		got = append(got, p.FindingIDs...)
		if p.NextToken == "" {
			break
		}
		tok = p.NextToken
	}
	want, err := e.st.List(ctx, *crit, *srt, "", store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || !slices.Equal(got, want.IDs) {
		t.Fatalf("API listed %d IDs, store %d", len(got), len(want.IDs))
	}

	// GetFindings returns GuardDuty JSON, sorted on request.
	fs, err := e.read.GetFindings(ctx, got[:10], &store.Sort{Attribute: "updatedAt", Order: store.Asc})
	if err != nil || len(fs) != 10 {
		t.Fatalf("get: %d %v", len(fs), err)
	}
	for i := 1; i < len(fs); i++ {
		if fs[i].UpdatedAt < fs[i-1].UpdatedAt {
			t.Errorf("GetFindings not sorted by updatedAt ASC")
		}
	}
	if fs[0].SchemaVersion != "2.0" || fs[0].Service.ServiceName != "guardduty" {
		t.Errorf("finding JSON: %+v", fs[0])
	}

	// Archive, unarchive, feedback.
	ids := got[:3]
	if n, err := e.admin.ArchiveFindings(ctx, append(ids, "no-such-id")); err != nil || n != 3 {
		t.Fatalf("archive: %d %v", n, err)
	}
	p, err := e.read.ListFindings(ctx, api.ListFindingsRequest{FindingCriteria: crit, SortCriteria: srt, MaxResults: 1000})
	if err != nil || len(p.FindingIDs) != len(got)-3 {
		t.Errorf("after archiving 3, %d listed of %d: %v", len(p.FindingIDs), len(got), err)
	}
	if n, err := e.admin.UnarchiveFindings(ctx, ids[:1]); err != nil || n != 1 {
		t.Errorf("unarchive: %d %v", n, err)
	}
	if n, err := e.admin.UpdateFindingsFeedback(ctx, ids, "not_useful", "scanner we run"); err != nil || n != 3 {
		t.Errorf("feedback: %d %v", n, err)
	}
	fs, _ = e.read.GetFindings(ctx, ids, nil)
	if fs[0].Service.Archived || !fs[1].Service.Archived || fs[2].Service.UserFeedback != "NOT_USEFUL" {
		t.Errorf("after the updates: %v %v %q", fs[0].Service.Archived, fs[1].Service.Archived, fs[2].Service.UserFeedback)
	}

	// Statistics, both forms, against the store's.
	st, err := e.read.GetFindingsStatistics(ctx, api.StatisticsRequest{FindingStatisticTypes: []string{"COUNT_BY_SEVERITY"}})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, n := range st.FindingStatistics.CountBySeverity {
		total += n
	}
	if total != 300 || st.FindingStatistics.CountBySeverity["5.5"] == 0 {
		t.Errorf("COUNT_BY_SEVERITY %v", st.FindingStatistics.CountBySeverity)
	}
	st, err = e.read.GetFindingsStatistics(ctx, api.StatisticsRequest{GroupBy: "FINDING_TYPE", OrderBy: "DESC", MaxResults: 3})
	if err != nil {
		t.Fatal(err)
	}
	gs, _ := e.st.Statistics(ctx, store.StatisticsQuery{GroupBy: store.GroupByType, Limit: 3})
	if len(st.FindingStatistics.GroupedByFindingType) != 3 || st.FindingStatistics.GroupedByFindingType[0].FindingType != gs[0].Key ||
		st.FindingStatistics.GroupedByFindingType[0].TotalFindings != gs[0].Total {
		t.Errorf("by type %+v, store %+v", st.FindingStatistics.GroupedByFindingType, gs)
	}
	for _, g := range []string{"ACCOUNT", "DATE", "RESOURCE", "SEVERITY"} {
		st, err := e.read.GetFindingsStatistics(ctx, api.StatisticsRequest{GroupBy: g})
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		b, _ := json.Marshal(st)
		if len(b) < 60 {
			t.Errorf("%s: %s", g, b)
		}
	}
}

func TestSampleFindings(t *testing.T) {
	e := newEnv(t, nil)
	ids, err := e.admin.CreateSampleFindings(ctx, []string{"Recon:EC2/Portscan", "Policy:S3/BucketAnonymousAccessGranted", "Trojan:EC2/DNSDataExfiltration", "Recon:EC2/PortProbeUnprotectedPort"})
	if err != nil || len(ids) != 4 {
		t.Fatalf("%v %v", ids, err)
	}
	fs, err := e.read.GetFindings(ctx, ids, nil)
	if err != nil || len(fs) != 4 {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Service.AdditionalInfo["sample"] != true || !strings.HasPrefix(f.Title, "[SAMPLE] ") || f.AccountID != "000000000000" {
			t.Errorf("%s: not marked sample: %q %v", f.Type, f.Title, f.Service.AdditionalInfo)
		}
		if f.ID == "" || f.ARN == "" || f.Severity.Band() == finding.BandNone {
			t.Errorf("%s: incomplete %+v", f.Type, f)
		}
	}
	// Every type in the catalogue makes a well-formed sample.
	all, err := e.admin.CreateSampleFindings(ctx, nil)
	if err != nil || len(all) != len(finding.Types()) {
		t.Errorf("all samples: %d of %d types: %v", len(all), len(finding.Types()), err)
	}
	_, err = e.admin.CreateSampleFindings(ctx, []string{"recon:ec2/portscan"})
	if got := wantCode(t, err, "InvalidParameter"); !strings.Contains(got.Message, `did you mean "Recon:EC2/Portscan"`) {
		t.Errorf("bad type: %s", got.Message)
	}
	if len(e.found) != 2 {
		t.Errorf("OnFindings called %d times, want 2", len(e.found))
	}
}

// TestBadInput: every kind of bad input is a 4xx with a message naming what
// was wrong; none is a 500.
func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *api.Config, _ *api.Deps) { c.MaxBodyBytes = 4096 })
	d := "/detector/default"
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, msg          string
	}{
		{"POST", d + "/findings", `{"findingCriteria":{"criterion":{"title":{"eq":["x"]}}}}`, 400, "InvalidCriteria", `attribute "title" is not supported`},
		{"POST", d + "/findings", `{"findingCriteria":{"criterion":{"type":{"gt":3}}}}`, 400, "InvalidCriteria", "type: Gt needs a number or time attribute"},
		{"POST", d + "/findings", `{"findingCriteria":{"criterion":{"severity":{"eq":["high"]}}}}`, 400, "InvalidCriteria", `Eq value "high": want a number`},
		{"POST", d + "/findings", `{"findingCriteria":{"criterion":{"severity":{"gte":"7"}}}}`, 400, "InvalidRequest", "findingCriteria.criterion.gte: want an integer"},
		{"POST", d + "/findings", `{"findingCriteria":{"criterion":{"type":{"matches":["Recon*"]}}}}`, 400, "InvalidCriteria",
			"findingCriteria: type: matches/notMatches (wildcards) are accepted only by filters (CreateFilter, UpdateFilter)"},
		{"POST", d + "/findings", `{"findingCriteria":{"Criterion":{"region":{"Equals":["x"]},"type":{"NotMatches":["*"]}}}}`, 400, "InvalidCriteria", "findingCriteria: type: matches/notMatches"},
		{"POST", d + "/findings/statistics", `{"groupBy":"SEVERITY","findingCriteria":{"criterion":{"id":{"notMatches":["a*"]}}}}`, 400, "InvalidCriteria", "findingCriteria: id: matches/notMatches (wildcards) are accepted only by filters"},
		{"POST", d + "/filter", `{"name":"bad-pats","findingCriteria":{"criterion":{"type":{"matches":["a","b","c","d","e","f"]}}}}`, 400, "InvalidCriteria", "type: Matches has 6 patterns: at most 5"},
		{"POST", d + "/filter", `{"name":"bad-pats","findingCriteria":{"criterion":{"type":{"matches":[""]}}}}`, 400, "InvalidCriteria", "type: Matches pattern 1 is empty: want 1 to 512 characters"},
		{"POST", d + "/filter", `{"name":"bad-pats","findingCriteria":{"criterion":{"severity":{"notMatches":["8*"]}}}}`, 400, "InvalidCriteria", "severity: NotMatches needs a string attribute"},
		{"POST", d + "/filter", `{"name":"bad-pats","findingCriteria":{"criterion":{"type":{"matches":["` + strings.Repeat("x", 513) + `"]}}}}`, 400, "InvalidCriteria", "type: Matches pattern 1 has 513 characters: at most 512"},
		{"POST", d + "/findings", `{"sortCriteria":{"attributeName":"title"}}`, 400, "InvalidCriteria", `sort attribute "title"`},
		{"POST", d + "/findings", `{"sortCriteria":{"attributeName":"severity","orderBy":"UP"}}`, 400, "InvalidCriteria", "want ASC or DESC"},
		{"POST", d + "/findings", `{"nextToken":"garbage"}`, 400, "InvalidPageToken", "nextToken is malformed: a token continues only"},
		{"POST", d + "/findings", `{"nextToken":"' OR 1=1 --"}`, 400, "InvalidPageToken", "nextToken is"},
		{"POST", d + "/findings", `{"maxResults":0.5}`, 400, "InvalidRequest", "maxResults: want an integer"},
		{"POST", d + "/findings", `{"maxResults":5000}`, 400, "InvalidParameter", "maxResults 5000: want 1 to 1000"},
		{"POST", d + "/findings", `{"unknownField":1}`, 400, "InvalidRequest", `unknown field "unknownField"`},
		{"POST", d + "/findings", `{"maxResults":1`, 400, "InvalidRequest", "JSON ends early"},
		{"POST", d + "/findings", `{} {}`, 400, "InvalidRequest", "found more after it"},
		{"POST", d + "/findings", `[1,2]`, 400, "InvalidRequest", "want an object"},
		{"POST", d + "/findings", `{"findingCriteria":` + strings.Repeat(" ", 5000) + `{}}`, 413, "BodyTooLarge", "larger than 4096 bytes"},
		{"POST", d + "/findings/get", `{"findingIds":[]}`, 400, "InvalidParameter", "give 1 to 1000"},
		{"POST", d + "/findings/get", `{"findingIds":["a"],"sortCriteria":{"attributeName":"nope"}}`, 400, "InvalidCriteria", "sort attribute"},
		{"POST", d + "/findings/feedback", `{"findingIds":["a"],"feedback":"MEH"}`, 400, "InvalidParameter", "want USEFUL or NOT_USEFUL"},
		{"POST", d + "/findings/statistics", `{}`, 400, "InvalidParameter", "groupBy"},
		{"POST", d + "/findings/statistics", `{"groupBy":"COLOUR"}`, 400, "InvalidParameter", `groupBy "COLOUR"`},
		{"POST", d + "/findings/statistics", `{"findingStatisticTypes":["COUNT_BY_TYPE"]}`, 400, "InvalidParameter", "COUNT_BY_SEVERITY"},
		{"POST", d + "/findings/statistics", `{"groupBy":"SEVERITY","maxResults":101}`, 400, "InvalidParameter", "want 1 to 100"},
		{"POST", d + "/filter", `{"name":"x"}`, 400, "InvalidParameter", "filter name"},
		{"POST", d + "/filter", `{"name":"no-selection"}`, 400, "InvalidParameter", "a filter must select something"},
		{"POST", d + "/filter", `{"name":"bad-rank","rank":500,"findingCriteria":{"criterion":{"type":{"eq":["x"]}}}}`, 400, "InvalidParameter", "rank 500"},
		{"POST", d + "/filter", `{"name":"bad-expr","expression":"severity >= "}`, 400, "InvalidExpression", "expression: 1:13"},
		{"POST", d + "/filter", `{"name":"bad-crit","findingCriteria":{"criterion":{"service.count":{"eq":["many"]}}}}`, 400, "InvalidCriteria", "want an integer"},
		{"GET", d + "/filter/a", "", 400, "InvalidParameter", "filter name"},
		{"GET", d + "/filter/missing", "", 404, "NotFound", "missing"},
		{"GET", d + "/filter?maxResults=x", "", 400, "InvalidParameter", "maxResults: want an integer"},
		{"GET", d + "/filter?nextToken=bad", "", 400, "InvalidPageToken", "not issued"},
		{"GET", d + "/ipset/123", "", 404, "NotFound", "32 hex digits"},
		{"POST", d + "/ipset", `{"name":"office","format":"TXT","content":"192.0.2.1"}`, 400, "InvalidParameter", "activate: required"},
		{"POST", d + "/ipset", `{"name":"office","format":"CSV","content":"192.0.2.1","activate":true}`, 400, "InvalidParameter", `format "CSV"`},
		{"POST", d + "/ipset", `{"name":"office","format":"TXT","activate":true}`, 400, "InvalidParameter", "location"},
		{"POST", d + "/ipset", `{"name":"office","format":"TXT","activate":true,"location":"s3://bucket/key"}`, 400, "InvalidParameter", "configure api.s3"},
		{"POST", d + "/ipset", `{"name":"office","format":"TXT","activate":true,"location":"ftp://x/y"}`, 400, "InvalidParameter", "http:// or https://"},
		{"POST", d + "/ipset", `{"name":"office","format":"TXT","activate":true,"content":"192.0.2.1\nnot-an-ip!\n"}`, 400, "InvalidList", "office:2:"},
		{"GET", "/vigil/audit?resourceType=USER", "", 400, "InvalidParameter", "FILTER, LIST or TOKEN"},
		{"GET", "/vigil/audit?nextToken=xyz", "", 400, "InvalidPageToken", "not issued"},
		{"POST", "/detector/other/findings", `{}`, 404, "NotFound", `detector "other" not found`},
		{"POST", "/nowhere", `{}`, 404, "NotFound", "no operation at POST /nowhere"},
		{"PUT", d + "/findings", `{}`, 405, "MethodNotAllowed", "takes POST"},
		{"POST", "/vigil/query", `{"queryString":"fields @timestamp"}`, 400, "InvalidParameter", "no query sources"},
	} {
		status, body, _ := e.raw(tc.method, tc.path, tc.body, "")
		if status != tc.status {
			t.Errorf("%s %s %s: status %d, want %d: %s", tc.method, tc.path, clip(tc.body), status, tc.status, body)
			continue
		}
		got := apiError(t, body)
		if got.Code != tc.code || !strings.Contains(got.Message, tc.msg) {
			t.Errorf("%s %s %s:\n got %s: %s\nwant %s: …%s…", tc.method, tc.path, clip(tc.body), got.Code, got.Message, tc.code, tc.msg)
		}
	}
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// nasty are SQL metacharacters and other hostile strings.
var nasty = []string{
	`'; DROP TABLE findings; --`, `" OR "1"="1`, `%_\`, "a\x00b", "bad\xffutf8", `$1`, `) UNION SELECT body FROM findings --`,
	strings.Repeat("x", 400), "../../etc/passwd", "<script>alert(1)</script>",
}

// fill sets every string (and string slice, and string map) field of v to s,
// recursively, so that a request carries s everywhere a string goes.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s)
			}
		}
	case reflect.String:
		v.SetString(s)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			v.Set(reflect.ValueOf([]string{s}).Convert(v.Type()))
		}
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String {
			v.Set(reflect.ValueOf(map[string]string{s: s}).Convert(v.Type()))
		}
		if v.Type() == reflect.TypeFor[map[string]store.Condition]() {
			v.Set(reflect.ValueOf(map[string]store.Condition{s: {Eq: []string{s}}, "type": {Eq: []string{s}}}))
		}
	}
}

// TestSQLMetacharacters sends hostile strings in every string field of every
// operation, in the path too: the answers are 2xx or 4xx, never 5xx, and the
// store is intact afterwards.
func TestSQLMetacharacters(t *testing.T) {
	e := newEnv(t, nil)
	fs := putCorpus(t, e, 50)
	reqTypes := map[string]reflect.Type{
		"ListFindings": reflect.TypeFor[api.ListFindingsRequest](), "GetFindings": reflect.TypeFor[api.GetFindingsRequest](),
		"ArchiveFindings": reflect.TypeFor[api.FindingIDsRequest](), "UnarchiveFindings": reflect.TypeFor[api.FindingIDsRequest](),
		"UpdateFindingsFeedback": reflect.TypeFor[api.FeedbackRequest](), "GetFindingsStatistics": reflect.TypeFor[api.StatisticsRequest](),
		"CreateSampleFindings": reflect.TypeFor[api.CreateSampleFindingsRequest](), "CreateFilter": reflect.TypeFor[api.CreateFilterRequest](),
		"UpdateFilter": reflect.TypeFor[api.UpdateFilterRequest](), "CreateIPSet": reflect.TypeFor[api.CreateListRequest](),
		"CreateThreatIntelSet": reflect.TypeFor[api.CreateListRequest](), "UpdateIPSet": reflect.TypeFor[api.UpdateListFields](),
		"UpdateThreatIntelSet": reflect.TypeFor[api.UpdateListFields](), "Query": reflect.TypeFor[api.QueryRequest](),
	}
	n := 0
	for _, op := range e.srv.Operations() {
		for _, s := range nasty {
			body := "{}"
			if rt, ok := reqTypes[op.Name]; ok {
				v := reflect.New(rt)
				fill(v, s)
				b, err := json.Marshal(v.Interface())
				if err != nil {
					t.Fatal(err)
				}
				body = string(b)
			}
			esc := url.PathEscape(s)
			p := strings.NewReplacer("{detectorId}", "default", "{filterName}", esc, "{ipSetId}", esc, "{threatIntelSetId}", esc).Replace(op.Path)
			q := "?maxResults=1&nextToken=" + url.QueryEscape(s) + "&resourceId=" + url.QueryEscape(s)
			status, resp, _ := e.raw(op.Method, p+q, body, "")
			n++
			if status >= 500 {
				t.Errorf("%s %s with %q: %d %s", op.Method, op.Path, s, status, resp)
			}
		}
	}
	if n < 200 {
		t.Errorf("only %d requests", n)
	}
	got, err := e.st.Get(ctx, []string{fs[0].ID})
	if err != nil || len(got) != 1 {
		t.Fatalf("store damaged: %v %v", got, err)
	}
	if _, err := e.admin.ListFindings(ctx, api.ListFindingsRequest{}); err != nil {
		t.Fatal(err)
	}
	// A hostile value is matched literally.
	p, err := e.admin.ListFindings(ctx, api.ListFindingsRequest{FindingCriteria: &store.Criteria{Criterion: map[string]store.Condition{
		"type": {Eq: []string{"x' OR '1'='1"}}}}})
	if err != nil || len(p.FindingIDs) != 0 {
		t.Errorf("injection through criteria: %v %v", p.FindingIDs, err)
	}
}

func TestTLSAndShutdown(t *testing.T) {
	testTLS(t)
}

func TestOperationsAreRouted(t *testing.T) {
	e := newEnv(t, nil)
	for _, op := range e.srv.Operations() {
		p := strings.NewReplacer("{detectorId}", "default", "{filterName}", "abc", "{ipSetId}", "x", "{threatIntelSetId}", "x").Replace(op.Path)
		status, body, _ := e.raw(op.Method, p, "{}", "")
		if status == http.StatusNotFound && strings.Contains(string(body), "no operation at") || status == http.StatusMethodNotAllowed {
			t.Errorf("%s %s %s is not routed: %d %s", op.Name, op.Method, op.Path, status, body)
		}
	}
}
