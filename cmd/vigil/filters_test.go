package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestFiltersPatterns: `vigil filters create` takes GuardDuty's wildcards as
// --where ~ and !~ and in --criteria JSON; the preview counts them, the
// server's engine archives by them, `filters list` shows them, and `findings
// list` is refused them (filters only).
func TestFiltersPatterns(t *testing.T) {
	a := startAPI(t)
	fs := storetest.Corpus(t, 80, 9)
	if _, err := a.st.Upsert(context.Background(), fs, storetest.Base); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_TOKEN", a.token(t, "ops", "admin"))
	count := func(keep func(typ, instance string) bool) int {
		n := 0
		for i := range fs {
			inst := ""
			if d := fs[i].Resource.InstanceDetails; d != nil {
				inst = d.InstanceID
			}
			if keep(string(fs[i].Type), inst) {
				n++
			}
		}
		return n
	}
	want := count(func(typ, inst string) bool { return strings.HasPrefix(typ, "Recon:") && !strings.HasSuffix(inst, "3") })
	if want == 0 {
		t.Fatal("the corpus has no Recon finding: the test tests little")
	}
	code, out, stderr := runVigil(t, "filters", "create", "recon", "--action", "archive", "--where", "type~Recon:*", "--where", "instance!~*3")
	if code != 0 || out != fmt.Sprintf("created filter recon (ARCHIVE): matches %s\n", plural(want, "stored finding")) {
		t.Fatalf("create --where ~: %d %q %s", code, out, stderr)
	}
	occ := storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-7", "198.51.100.1", storetest.Base)
	if got := a.engine.Apply(&occ); got != "recon" {
		t.Errorf("engine on i-7: %q", got)
	}
	occ = storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-3", "198.51.100.1", storetest.Base)
	if got := a.engine.Apply(&occ); got != "" {
		t.Errorf("engine on i-3: %q", got)
	}
	code, out, _ = runVigil(t, "filters", "list")
	if code != 0 || !strings.Contains(out, "resource.instanceDetails.instanceId!~*3 and type~Recon:*") {
		t.Errorf("list:\n%s", out)
	}

	// GuardDuty's JSON, from a file, in the AWS CLI's letter case.
	path := filepath.Join(t.TempDir(), "criteria.json")
	if err := os.WriteFile(path, []byte(`{"Criterion":{"type":{"Matches":["*BruteForce","Backdoor:*"]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	want = count(func(typ, _ string) bool {
		return strings.HasSuffix(typ, "BruteForce") || strings.HasPrefix(typ, "Backdoor:")
	})
	code, out, stderr = runVigil(t, "filters", "create", "noisy", "--criteria", "file://"+path)
	if code != 0 || out != fmt.Sprintf("created filter noisy (NOOP): matches %s\n", plural(want, "stored finding")) {
		t.Fatalf("create --criteria: %d %q %s", code, out, stderr)
	}
	_, out, _ = runVigil(t, "filters", "get", "noisy")
	var f api.GetFilterResponse
	if json.Unmarshal([]byte(out), &f) != nil || !slices.Equal(f.FindingCriteria.Criterion["type"].Matches, []string{"*BruteForce", "Backdoor:*"}) {
		t.Errorf("get: %s", out)
	}
	// update takes them too.
	if code, out, _ := runVigil(t, "filters", "update", "noisy", "--where", "type~*"); code != 0 ||
		out != fmt.Sprintf("updated filter noisy: matches %s\n", plural(len(fs)+vigilOwn(t, a), "stored finding")) {
		t.Errorf("update: %d %q", code, out)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"findings", "list", "--where", "type~Recon:*"}, 1, "accepted only by filters"},
		{[]string{"filters", "create", "bad-kind", "--where", "severity~8*"}, 2, "severity is a number; ~ takes wildcard patterns for string attributes"},
		{[]string{"filters", "create", "too-many", "--where", "type~a,b,c,d,e,f"}, 2, "Matches has 6 patterns: at most 5"},
		{[]string{"filters", "create", "empty", "--criteria", `{"type":{"matches":[""]}}`}, 2, "Matches pattern 1 is empty"},
	} {
		code, _, stderr := runVigil(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("vigil %v: exit %d %q, want %d …%s…", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// vigilOwn counts the findings vigil raised about its own changes (an ARCHIVE
// rule created).
func vigilOwn(t *testing.T, a *apiServer) int {
	t.Helper()
	p, err := a.st.List(context.Background(), store.Criteria{Criterion: map[string]store.Condition{"type": {Eq: []string{"Policy:Vigil/SuppressionRuleChanged"}}}}, store.Sort{}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(p.IDs)
}
