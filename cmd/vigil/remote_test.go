package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/suppress"
)

// apiServer is an API running in-process on 127.0.0.1 over a real SQLite
// store in a temporary directory, as vigil serve runs it.
type apiServer struct {
	url     string
	storeAt string // the --store value of the same database
	st      *sqlite.Store
	engine  *suppress.Engine
}

func startAPI(t *testing.T) *apiServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigil.db")
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	eng, err := suppress.New(suppress.Config{}, suppress.Deps{Filters: st})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.DefaultConfig(), api.Deps{Store: st, Suppress: eng})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Setenv("VIGIL_SERVER", hs.URL)
	t.Setenv("VIGIL_TOKEN", "")
	t.Setenv("VIGIL_STORE", "")
	t.Setenv("VIGIL_DETECTOR", "")
	return &apiServer{url: hs.URL, storeAt: "sqlite:" + path, st: st, engine: eng}
}

// token creates a token with vigil token create and returns its secret.
func (a *apiServer) token(t *testing.T, name, scope string) string {
	t.Helper()
	code, out, stderr := runVigil(t, "token", "create", name, "--scope", scope, "--store", a.storeAt)
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, api.TokenPrefix) || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create printed %q", out)
	}
	if !strings.Contains(stderr, "created "+scope+" token "+name) || strings.Contains(stderr, secret) {
		t.Errorf("token create stderr %q", stderr)
	}
	return secret
}

func TestTokenCommands(t *testing.T) {
	a := startAPI(t)
	secret := a.token(t, "ci", "read")
	code, out, stderr := runVigil(t, "token", "create", "ops", "--scope", "admin", "--expires", "90d", "--store", a.storeAt)
	if code != 0 || !strings.HasPrefix(out, api.TokenPrefix) {
		t.Fatal(stderr)
	}
	if !strings.Contains(stderr, "expires 20") {
		t.Errorf("expiry not shown: %s", stderr)
	}
	code, out, _ = runVigil(t, "token", "list", "--store", a.storeAt)
	if code != 0 || !strings.Contains(out, "ci") || !strings.Contains(out, "ops") || strings.Contains(out, api.TokenPrefix) {
		t.Errorf("token list: %d\n%s", code, out)
	}
	// The token works against the server, until revoked.
	t.Setenv("VIGIL_TOKEN", secret)
	if code, _, stderr := runVigil(t, "findings", "list"); code != 0 {
		t.Fatalf("findings list with the new token: %s", stderr)
	}
	if code, out, _ := runVigil(t, "token", "revoke", "ci", "--store", a.storeAt); code != 0 || !strings.Contains(out, "revoked token ci") {
		t.Errorf("revoke: %s", out)
	}
	code, _, stderr = runVigil(t, "findings", "list")
	if code != 1 || !strings.Contains(stderr, "Unauthenticated: token ci was revoked") {
		t.Errorf("after revoke: %d %s", code, stderr)
	}
	_, out, _ = runVigil(t, "token", "list", "--store", a.storeAt, "-o", "json")
	var ts []store.Token
	if err := json.Unmarshal([]byte(out), &ts); err != nil || len(ts) != 2 || ts[0].RevokedAt == 0 {
		t.Errorf("token list json: %v %s", err, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token", "create", "x", "--store", a.storeAt}, 2, `--scope "": want read or admin`},
		{[]string{"token", "create", "x", "--scope", "read", "--expires", "soon", "--store", a.storeAt}, 2, "--expires"},
		{[]string{"token", "create", "ops", "--scope", "read", "--store", a.storeAt}, 1, "already exists"},
		{[]string{"token", "create", "x", "--scope", "read", "--store", "mysql://x"}, 2, "want sqlite:PATH or postgres://"},
		{[]string{"token", "list", "--store", "sqlite:" + filepath.Join(t.TempDir(), "none.db")}, 1, "no such file"},
		{[]string{"token", "revoke", "nobody", "--store", a.storeAt}, 1, "not found"},
	} {
		code, _, stderr := runVigil(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("vigil %v: exit %d %q, want %d …%s…", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if got := redactDSN("postgres://vigil:s3cret@db/vigil"); strings.Contains(got, "s3cret") {
		t.Errorf("redactDSN: %s", got)
	}
}

func TestFindingsCommands(t *testing.T) {
	a := startAPI(t)
	fs := storetest.Corpus(t, 120, 5)
	if _, err := a.st.Upsert(context.Background(), fs, storetest.Base); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_TOKEN", a.token(t, "ops", "admin"))
	ctx := context.Background()
	high := store.Criteria{Criterion: map[string]store.Condition{"severity": {Gte: new(int64(7))}}}
	want, _ := a.st.List(ctx, high, store.Sort{}, "", store.MaxLimit)

	// list: JSON is GuardDuty's finding JSON, in the store's order.
	code, out, stderr := runVigil(t, "findings", "list", "--where", "severity>=high", "--limit", "0", "-o", "json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var got []finding.Finding
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	var ids []string
	for _, f := range got {
		ids = append(ids, f.ID)
	}
	if len(ids) == 0 || !slices.Equal(ids, want.IDs) {
		t.Errorf("findings list: %d IDs, store %d", len(ids), len(want.IDs))
	}
	code, out, _ = runVigil(t, "findings", "list", "--where", "severity>=high", "--limit", "5")
	if code != 0 || strings.Count(out, "\n") != 7 || !strings.Contains(out, "severity") || !strings.Contains(out, want.IDs[0]) {
		t.Errorf("table:\n%s", out)
	}
	code, out, _ = runVigil(t, "findings", "list", "--criteria", `{"Criterion":{"severity":{"Gte":7}}}`, "--limit", "0", "-o", "jsonl")
	if code != 0 || strings.Count(out, "\n") != len(want.IDs) {
		t.Errorf("--criteria as the AWS CLI writes it: %d lines, want %d", strings.Count(out, "\n"), len(want.IDs))
	}
	crit := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(crit, []byte(`{"severity":{"gte":7}}`), 0o600)
	code, out, _ = runVigil(t, "findings", "list", "--criteria", "file://"+crit, "--limit", "0", "-o", "csv")
	if code != 0 || strings.Count(out, "\n") != len(want.IDs)+1 {
		t.Errorf("--criteria file:// (bare criterion), csv: %d lines", strings.Count(out, "\n"))
	}

	// get
	code, out, _ = runVigil(t, "findings", "get", want.IDs[0])
	if code != 0 || !strings.Contains(out, `"schemaVersion": "2.0"`) || !strings.Contains(out, want.IDs[0]) {
		t.Errorf("get: %s", out)
	}
	if code, _, stderr := runVigil(t, "findings", "get", "0000"); code != 1 || !strings.Contains(stderr, "no finding has the ID 0000") {
		t.Errorf("get missing: %d %s", code, stderr)
	}

	// archive by criteria, unarchive by ID, feedback.
	portscans, _ := a.st.List(ctx, store.Criteria{Criterion: map[string]store.Condition{"type": {Eq: []string{"Recon:EC2/Portscan"}}}}, store.Sort{}, "", store.MaxLimit)
	code, out, stderr = runVigil(t, "findings", "archive", "--where", "type=Recon:EC2/Portscan")
	if code != 0 || out != fmt.Sprintf("archived %s\n", plural(len(portscans.IDs), "finding")) {
		t.Errorf("archive: %d %q %s", code, out, stderr)
	}
	stored, _ := a.st.Get(ctx, portscans.IDs)
	for _, f := range stored {
		if !f.Service.Archived {
			t.Errorf("%s not archived", f.ID)
		}
	}
	if code, out, _ := runVigil(t, "findings", "unarchive", portscans.IDs[0]); code != 0 || out != "unarchived 1 finding\n" {
		t.Errorf("unarchive: %q", out)
	}
	if code, out, _ := runVigil(t, "findings", "feedback", "--not-useful", "--comments", "our scanner", portscans.IDs[0], portscans.IDs[1]); code != 0 || out != "marked 2 findings NOT_USEFUL\n" {
		t.Errorf("feedback: %q", out)
	}
	stored, _ = a.st.Get(ctx, portscans.IDs[:2])
	if stored[0].Service.Archived || stored[1].Service.UserFeedback != "NOT_USEFUL" {
		t.Errorf("after unarchive and feedback: %+v", stored[0].Service)
	}

	// stats
	code, out, _ = runVigil(t, "findings", "stats", "--by", "type", "--limit", "3")
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(out, "findings") {
		t.Errorf("stats:\n%s", out)
	}
	code, out, _ = runVigil(t, "findings", "stats", "-o", "json")
	if code != 0 || !strings.Contains(out, "groupedBySeverity") {
		t.Errorf("stats json: %s", out)
	}

	// export: JSONL to a file (whole or nothing), JSON to stdout.
	dst := filepath.Join(t.TempDir(), "out.jsonl")
	code, _, stderr = runVigil(t, "findings", "export", "--format", "jsonl", "--out", dst)
	if code != 0 || !strings.Contains(stderr, "wrote 120 findings to "+dst) {
		t.Fatalf("export: %d %s", code, stderr)
	}
	fh, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	n := 0
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f finding.Finding
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil || f.ID == "" {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
	}
	if n != 120 {
		t.Errorf("exported %d lines", n)
	}
	code, out, _ = runVigil(t, "findings", "export", "--where", "severity>=high")
	got = nil
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != len(want.IDs) {
		t.Errorf("export json: %d findings, want %d", len(got), len(want.IDs))
	}
	if code, out, _ := runVigil(t, "findings", "export", "--where", "type=none"); code != 0 || out != "[]\n" {
		t.Errorf("empty export %q", out)
	}
	// internal/export's formats: an ASFF BatchImportFindings body, OCSF lines.
	code, out, _ = runVigil(t, "findings", "export", "--format", "asff", "--where", "severity>=high")
	var asff struct {
		Findings []struct {
			SchemaVersion, ProductArn, GeneratorId string
		}
	}
	if err := json.Unmarshal([]byte(out), &asff); code != 0 || err != nil || len(asff.Findings) != len(want.IDs) || asff.Findings[0].SchemaVersion != "2018-10-08" {
		t.Errorf("asff export: code %d, %v, %d findings, want %d: %.300s", code, err, len(asff.Findings), len(want.IDs), out)
	}
	code, out, _ = runVigil(t, "findings", "export", "--format", "ocsf-lines")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var ocsf struct {
		ClassUID int `json:"class_uid"`
	}
	if code != 0 || len(lines) != 120 || json.Unmarshal([]byte(lines[0]), &ocsf) != nil || ocsf.ClassUID != 2004 {
		t.Errorf("ocsf-lines export: code %d, %d lines, class %d", code, len(lines), ocsf.ClassUID)
	}

	// Errors: usage (2) before any request, the server's (1) in one line.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"findings", "list", "--where", "colour=red"}, 2, `attribute "colour" is not supported`},
		{[]string{"findings", "list", "--where", "severity>=7.5"}, 2, "range values are integers"},
		{[]string{"findings", "list", "--criteria", `{"criterion":{"type":{"matches":["x*"]}}}`}, 1, "accepted only by filters"},
		{[]string{"findings", "list", "--sort", "colour"}, 2, "--sort"},
		{[]string{"findings", "archive"}, 2, "give finding IDs"},
		{[]string{"findings", "archive", "x", "--where", "type=x"}, 2, "not both"},
		{[]string{"findings", "feedback", "x"}, 2, "--useful and --not-useful"},
		{[]string{"findings", "stats", "--by", "colour"}, 2, "--by"},
		{[]string{"findings", "export", "--format", "xml"}, 2, "want asff, asff-lines, eventbridge, eventbridge-lines, json, jsonl, ocsf"},
		{[]string{"findings", "list", "--server", "ftp://x"}, 2, "--server"},
		{[]string{"findings", "list", "--server", "http://127.0.0.1:1"}, 1, "refused"},
		{[]string{"findings", "list", "--detector", "other"}, 1, `NotFound: detector "other" not found`},
	} {
		code, _, stderr := runVigil(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("vigil %v: exit %d %q, want %d …%s…", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	t.Setenv("VIGIL_TOKEN", "")
	if code, _, stderr := runVigil(t, "findings", "list"); code != 2 || !strings.Contains(stderr, "no API token") {
		t.Errorf("no token: %d %s", code, stderr)
	}
	t.Setenv("VIGIL_TOKEN", a.token(t, "viewer", "read"))
	if code, _, stderr := runVigil(t, "findings", "archive", want.IDs[0]); code != 1 || !strings.Contains(stderr, "Forbidden: ArchiveFindings needs an admin token") {
		t.Errorf("read token archives: %d %s", code, stderr)
	}
}

func TestFiltersCommands(t *testing.T) {
	a := startAPI(t)
	fs := storetest.Corpus(t, 80, 9)
	if _, err := a.st.Upsert(context.Background(), fs, storetest.Base); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_TOKEN", a.token(t, "ops", "admin"))
	ctx := context.Background()
	p, _ := a.st.List(ctx, store.Criteria{Criterion: map[string]store.Condition{"type": {Eq: []string{"Recon:EC2/Portscan"}}, "resource.instanceDetails.instanceId": {Eq: []string{"i-3"}}}}, store.Sort{}, "", 1000)

	code, out, stderr := runVigil(t, "filters", "create", "scanner", "--action", "archive", "--where", "type=Recon:EC2/Portscan", "--where", "instance=i-3",
		"--description", "weekly scan", "--tag", "team=sec")
	if code != 0 || out != fmt.Sprintf("created filter scanner (ARCHIVE): matches %s\n", plural(len(p.IDs), "stored finding")) {
		t.Fatalf("create: %d %q %s", code, out, stderr)
	}
	code, out, _ = runVigil(t, "filters", "create", "tor", "--expression", `type like /Tor/`)
	if code != 0 || !strings.HasPrefix(out, "created filter tor (NOOP): matches ") {
		t.Errorf("create expression: %q", out)
	}
	// The engine of the server applies the rule to the next occurrence.
	occ := storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-3", "198.51.100.1", storetest.Base)
	if got := a.engine.Apply(&occ); got != "scanner" {
		t.Errorf("engine: %q", got)
	}
	code, out, _ = runVigil(t, "filters", "list")
	if code != 0 || !strings.Contains(out, "resource.instanceDetails.instanceId=i-3 and type=Recon:EC2/Portscan") || !strings.Contains(out, "type like /Tor/") {
		t.Errorf("list:\n%s", out)
	}
	code, out, _ = runVigil(t, "filters", "get", "scanner")
	var f api.GetFilterResponse
	if code != 0 || json.Unmarshal([]byte(out), &f) != nil || f.Action != store.FilterArchive || f.Tags["team"] != "sec" || f.Description != "weekly scan" {
		t.Errorf("get: %s", out)
	}
	if code, out, _ := runVigil(t, "filters", "update", "scanner", "--rank", "1", "--action", "noop"); code != 0 || !strings.HasPrefix(out, "updated filter scanner") {
		t.Errorf("update: %q", out)
	}
	_, out, _ = runVigil(t, "filters", "get", "scanner")
	if json.Unmarshal([]byte(out), &f) != nil || f.Rank != 1 || f.Action != store.FilterNoop || f.Description != "weekly scan" || f.Version != 2 {
		t.Errorf("after update: %s", out)
	}
	// The audit log shows the blinding create.
	code, out, _ = runVigil(t, "audit", "--blinding")
	if code != 0 || !strings.Contains(out, "CreateFilter") || !strings.Contains(out, "BLINDING") || !strings.Contains(out, "ops") {
		t.Errorf("audit:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"filters", "create", "x1"}, 2, "select findings with"},
		{[]string{"filters", "create", "x2", "--where", "type=a", "--expression", "severity > 1"}, 2, "one of them"},
		{[]string{"filters", "create", "x3", "--where", "type=a", "--action", "delete"}, 2, "--action"},
		{[]string{"filters", "create", "x", "--where", "type=a"}, 1, "filter name"},
		{[]string{"filters", "create", "scanner", "--where", "type=a"}, 1, "AlreadyExists"},
		{[]string{"filters", "create", "bad-expr", "--expression", "type = "}, 1, "InvalidExpression: expression: 1:8"},
		{[]string{"filters", "update", "scanner"}, 2, "nothing to change"},
		{[]string{"filters", "get", "missing"}, 1, "NotFound"},
	} {
		code, _, stderr := runVigil(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("vigil %v: exit %d %q, want %d …%s…", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if code, out, _ := runVigil(t, "filters", "delete", "scanner", "tor"); code != 0 || strings.Count(out, "deleted filter") != 2 {
		t.Errorf("delete: %q", out)
	}
	if code, out, _ := runVigil(t, "filters", "list"); code != 0 || out != "no filters\n" {
		t.Errorf("list after delete: %q", out)
	}
}

func TestListsCommands(t *testing.T) {
	a := startAPI(t)
	t.Setenv("VIGIL_TOKEN", a.token(t, "ops", "admin"))
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Indicator type,Indicator,Description\nIPv4,203.0.113.77,C2\nDomain name,c2.example.org,C2\n")
	}))
	defer feed.Close()
	dir := t.TempDir()
	office := filepath.Join(dir, "office.txt")
	os.WriteFile(office, []byte("# office egress\n192.0.2.0/24\n"), 0o600)
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("192.0.2.1\n192.0.2.999\n"), 0o600)

	code, out, stderr := runVigil(t, "lists", "create", "office", "--type", "trusted", "--file", office, "--activate")
	if code != 0 || len(strings.TrimSpace(out)) != 32 || !strings.Contains(stderr, "created trusted list office with 1 entry (active)") {
		t.Fatalf("create from file: %d %q %q", code, out, stderr)
	}
	trustedID := strings.TrimSpace(out)
	code, out, stderr = runVigil(t, "lists", "create", "otx", "--type", "threat", "--format", "otx_csv", "--url", feed.URL+"/otx.csv")
	if code != 0 || !strings.Contains(stderr, "with 2 entries (inactive;") {
		t.Fatalf("create from URL: %d %q", code, stderr)
	}
	threatID := strings.TrimSpace(out)
	code, _, stderr = runVigil(t, "lists", "create", "bad", "--type", "threat", "--file", bad)
	if code != 1 || !strings.Contains(stderr, "bad:2:") || !strings.Contains(stderr, "192.0.2.999") {
		t.Errorf("bad list: %d %s", code, stderr)
	}
	code, _, stderr = runVigil(t, "lists", "create", "bad", "--type", "threat", "--file", bad, "--ignore-invalid-lines")
	if code != 0 || !strings.Contains(stderr, "warning: bad:2:") {
		t.Errorf("lenient: %d %s", code, stderr)
	}
	code, out, _ = runVigil(t, "lists", "list")
	if code != 0 || !strings.Contains(out, "office") || !strings.Contains(out, "(uploaded)") || !strings.Contains(out, feed.URL) || strings.Count(out, "\n") != 5 {
		t.Errorf("list:\n%s", out)
	}
	code, out, _ = runVigil(t, "lists", "get", threatID)
	if code != 0 || !strings.Contains(out, `"type": "threat"`) || !strings.Contains(out, `"format": "OTX_CSV"`) {
		t.Errorf("get: %s", out)
	}
	if code, out, _ := runVigil(t, "lists", "update", threatID, "--activate"); code != 0 || !strings.Contains(out, "updated threat list") {
		t.Errorf("activate: %q", out)
	}
	if code, out, _ := runVigil(t, "lists", "update", trustedID, "--file", office, "--name", "office-v2"); code != 0 || !strings.Contains(out, "1 entry") {
		t.Errorf("update: %q", out)
	}
	lists, problems, err := api.LoadLists(context.Background(), a.st, api.DefaultConfig().Limits)
	if err != nil || len(problems) != 0 || len(lists) != 2 {
		t.Errorf("active lists: %d %v %v", len(lists), problems, err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lists", "create", "x", "--file", office}, 2, `--type ""`},
		{[]string{"lists", "create", "x", "--type", "threat"}, 2, "--file PATH"},
		{[]string{"lists", "create", "x", "--type", "threat", "--file", office, "--url", "http://x"}, 2, "not both"},
		{[]string{"lists", "create", "x", "--type", "trusted", "--file", office}, 1, "LimitExceeded"},
		{[]string{"lists", "update", trustedID}, 2, "nothing to change"},
		{[]string{"lists", "get", "0123456789abcdef0123456789abcdef"}, 1, "no trusted or threat list has the ID"},
		{[]string{"lists", "create", "y", "--type", "threat", "--file", filepath.Join(dir, "none.txt")}, 2, "no such file"},
	} {
		code, _, stderr := runVigil(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("vigil %v: exit %d %q, want %d …%s…", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	code, out, _ = runVigil(t, "audit", "--resource-type", "list", "-o", "json")
	var evs []store.AuditEvent
	if code != 0 || json.Unmarshal([]byte(out), &evs) != nil || len(evs) != 5 {
		t.Errorf("audit of lists: %d events: %s", len(evs), out)
	}
	if code, out, _ := runVigil(t, "lists", "delete", threatID, trustedID); code != 0 || strings.Count(out, "deleted") != 2 {
		t.Errorf("delete: %q", out)
	}
}
