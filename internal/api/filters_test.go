package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func typeIs(t string) *store.Criteria {
	return &store.Criteria{Criterion: map[string]store.Condition{"type": {Eq: []string{t}}}}
}

// vigilFindings returns the stored findings of vigil's own audit types.
func vigilFindings(t *testing.T, e *env) []finding.Finding {
	t.Helper()
	var ids []string
	for _, typ := range []string{"Policy:Vigil/SuppressionRuleChanged", "Policy:Vigil/TrustedListChanged", "Policy:Vigil/ThreatListDisabled"} {
		p, err := e.st.List(ctx, *typeIs(typ), store.Sort{}, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.IDs...)
	}
	fs, err := e.st.Get(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestFilters(t *testing.T) {
	e := newEnv(t, nil)
	putCorpus(t, e, 200)
	p, err := e.st.List(ctx, *typeIs("Recon:EC2/Portscan"), store.Sort{}, "", 1000)
	if err != nil || len(p.IDs) == 0 {
		t.Fatal(err)
	}
	// A saved view: NOOP, previewed by the store.
	r, err := e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: "portscans", FindingCriteria: typeIs("Recon:EC2/Portscan"),
		Description: "all port scans", Tags: map[string]string{"team": "sec"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "portscans" || r.PreviewCount != int64(len(p.IDs)) || !r.PreviewComplete {
		t.Errorf("create: %+v, want a preview of %d", r, len(p.IDs))
	}
	if len(vigilFindings(t, e)) != 0 {
		t.Error("a NOOP filter raised a finding")
	}
	// A suppression rule by expression: previewed by scanning, and it raises a
	// finding about itself.
	r, err = e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: "office-scanner", Action: store.FilterArchive, Rank: 5,
		Expression: `type = "Recon:EC2/Portscan" and service.action.networkConnectionAction.remoteIpDetails.ipAddressV4 = "198.51.100.3"`})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	fs, _ := e.st.Get(ctx, p.IDs)
	for _, f := range fs {
		if f.Service.Action.NetworkConnectionAction.RemoteIPDetails.IPAddressV4 == "198.51.100.3" {
			want++
		}
	}
	if r.PreviewCount != int64(want) || want == 0 {
		t.Errorf("expression preview %d, want %d", r.PreviewCount, want)
	}
	vf := vigilFindings(t, e)
	if len(vf) != 1 || vf[0].Type != "Policy:Vigil/SuppressionRuleChanged" || vf[0].Resource.AccessKeyDetails.UserName != "ops" ||
		vf[0].Service.Action.AWSAPICallAction.API != "CreateFilter" || vf[0].Service.AdditionalInfo["vigilResource"] != "filter office-scanner" {
		t.Fatalf("blinding finding: %+v", vf)
	}
	if vf[0].Service.Archived {
		t.Error("the finding about a suppression rule was archived")
	}
	// The suppression engine applies the new rule at once.
	occ := storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-9", "198.51.100.3", storetest.Base)
	if got := e.engine.Apply(&occ); got != "office-scanner" {
		t.Errorf("engine after CreateFilter: %q", got)
	}

	// Get returns what was created.
	g, err := e.read.GetFilter(ctx, "portscans")
	if err != nil {
		t.Fatal(err)
	}
	if g.Action != store.FilterNoop || g.Rank != 1 || g.Description != "all port scans" || g.Tags["team"] != "sec" ||
		g.FindingCriteria == nil || g.FindingCriteria.Criterion["type"].Eq[0] != "Recon:EC2/Portscan" || g.Version != 1 {
		t.Errorf("get: %+v", g)
	}
	g, _ = e.read.GetFilter(ctx, "office-scanner")
	if g.Expression == "" || g.FindingCriteria != nil || g.Rank != 5 {
		t.Errorf("get expression filter: %+v", g)
	}

	// Update: NOOP → ARCHIVE is blinding; criteria replace the expression.
	u, err := e.admin.UpdateFilter(ctx, api.UpdateFilterRequest{FilterPath: api.FilterPath{FilterName: "portscans"}, Action: new(store.FilterArchive)})
	if err != nil || u.PreviewCount != int64(len(p.IDs)) {
		t.Fatalf("update: %+v %v", u, err)
	}
	if _, err := e.admin.UpdateFilter(ctx, api.UpdateFilterRequest{FilterPath: api.FilterPath{FilterName: "office-scanner"},
		FindingCriteria: typeIs("Trojan:EC2/DropPoint")}); err != nil {
		t.Fatal(err)
	}
	g, _ = e.read.GetFilter(ctx, "office-scanner")
	if g.Expression != "" || g.FindingCriteria == nil || g.Version != 2 {
		t.Errorf("after update: %+v", g)
	}
	vf = vigilFindings(t, e)
	total := int64(0)
	for _, f := range vf {
		total += f.Service.Count
	}
	if total != 3 {
		t.Errorf("%d blinding occurrences after create + 2 updates of ARCHIVE rules, want 3 (%d findings)", total, len(vf))
	}
	occ = storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-9", "198.51.100.99", storetest.Base)
	if got := e.engine.Apply(&occ); got != "portscans" {
		t.Errorf("engine after UpdateFilter: %q", got)
	}
	_, err = e.admin.UpdateFilter(ctx, api.UpdateFilterRequest{FilterPath: api.FilterPath{FilterName: "portscans"}, Rank: new(0)})
	wantCode(t, err, "InvalidParameter")
	_, err = e.admin.UpdateFilter(ctx, api.UpdateFilterRequest{FilterPath: api.FilterPath{FilterName: "portscans"}, Expression: new("type = ")})
	if got := wantCode(t, err, "InvalidExpression"); got.Line != 1 || got.Column == 0 {
		t.Errorf("expression error position %d:%d", got.Line, got.Column)
	}
	_, err = e.admin.UpdateFilter(ctx, api.UpdateFilterRequest{FilterPath: api.FilterPath{FilterName: "nobody"}, Rank: new(3)})
	wantCode(t, err, "NotFound")

	// Conflicts and limits.
	_, err = e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: "portscans", FindingCriteria: typeIs("x")})
	if got := wantCode(t, err, "AlreadyExists"); got.Type != "ConflictException" {
		t.Errorf("conflict type %s", got.Type)
	}

	// List pages, in rank order.
	for i := range 5 {
		if _, err := e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: fmt.Sprintf("view-%d", i), Rank: 3, FindingCriteria: typeIs("x")}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	next := ""
	for {
		l, err := e.read.ListFilters(ctx, 2, next)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, l.FilterNames...)
		if l.NextToken == "" {
			break
		}
		next = l.NextToken
	}
	if want := []string{"portscans", "view-0", "view-1", "view-2", "view-3", "view-4", "office-scanner"}; !slices.Equal(names, want) {
		t.Errorf("filters %v, want %v", names, want)
	}

	// Delete: not blinding, the engine forgets the rule.
	if err := e.admin.DeleteFilter(ctx, "portscans"); err != nil {
		t.Fatal(err)
	}
	occ = storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-9", "198.51.100.99", storetest.Base)
	if got := e.engine.Apply(&occ); got != "" {
		t.Errorf("engine after DeleteFilter: %q", got)
	}
	err = e.admin.DeleteFilter(ctx, "portscans")
	wantCode(t, err, "NotFound")

	// The audit log has it all, with the actor.
	a, err := e.read.ListAuditEvents(ctx, api.AuditRequest{ResourceType: "filter", ResourceID: "portscans"})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, ev := range a.Events {
		acts = append(acts, fmt.Sprintf("%s/%v/%s", ev.Action, ev.Blinding, ev.Actor.Name))
		if ev.Actor.Address != "127.0.0.1" || !strings.HasPrefix(ev.Actor.UserAgent, "vigil-client") {
			t.Errorf("actor %+v", ev.Actor)
		}
	}
	if want := []string{"DeleteFilter/false/ops", "UpdateFilter/true/ops", "CreateFilter/false/ops"}; !slices.Equal(acts, want) {
		t.Errorf("audit %v, want %v", acts, want)
	}
	b, err := e.read.ListAuditEvents(ctx, api.AuditRequest{BlindingOnly: true, MaxResults: 2})
	if err != nil || len(b.Events) != 2 || b.NextToken == "" {
		t.Fatalf("blinding page: %+v %v", b, err)
	}
	b2, err := e.read.ListAuditEvents(ctx, api.AuditRequest{BlindingOnly: true, MaxResults: 2, NextToken: b.NextToken})
	if err != nil || len(b2.Events) != 1 || b2.Events[0].ID >= b.Events[1].ID {
		t.Errorf("second blinding page: %+v %v", b2, err)
	}
}

func TestFilterLimit(t *testing.T) {
	e := newEnv(t, func(c *api.Config, _ *api.Deps) { c.Limits.MaxFilters = 2 })
	for i := range 2 {
		if _, err := e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: fmt.Sprintf("f-%d", i), FindingCriteria: typeIs("x")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: "f-3", FindingCriteria: typeIs("x")})
	if got := wantCode(t, err, "LimitExceeded"); got.Status != 400 || !strings.Contains(got.Message, "the limit is 2") {
		t.Errorf("%+v", got)
	}
}

// TestFilterPatterns: a filter takes Matches and NotMatches end to end — its
// preview counts what the patterns select, the suppression engine archives
// by them, Get returns them — while ListFindings and GetFindingsStatistics
// refuse them, as GuardDuty does.
func TestFilterPatterns(t *testing.T) {
	e := newEnv(t, nil)
	fs := putCorpus(t, e, 300)
	// The reference: types starting with "Recon:" or "Backdoor:", except those
	// ending "!DNS", counted over what the store holds.
	want := 0
	for i := range fs {
		typ := string(fs[i].Type)
		if (strings.HasPrefix(typ, "Recon:") || strings.HasPrefix(typ, "Backdoor:")) && !strings.HasSuffix(typ, "!DNS") {
			want++
		}
	}
	if want == 0 || want == len(fs) {
		t.Fatalf("the corpus has %d of %d such findings: the test tests little", want, len(fs))
	}
	crit := &store.Criteria{Criterion: map[string]store.Condition{"type": {Matches: []string{"Recon:*", "Backdoor:*"}, NotMatches: []string{"*!DNS"}}}}
	r, err := e.admin.CreateFilter(ctx, api.CreateFilterRequest{Name: "recon-and-backdoor", Action: store.FilterArchive, FindingCriteria: crit})
	if err != nil {
		t.Fatal(err)
	}
	if r.PreviewCount != int64(want) || !r.PreviewComplete {
		t.Errorf("preview %d (complete %v), want %d", r.PreviewCount, r.PreviewComplete, want)
	}
	g, err := e.read.GetFilter(ctx, "recon-and-backdoor")
	if err != nil {
		t.Fatal(err)
	}
	if c := g.FindingCriteria.Criterion["type"]; !slices.Equal(c.Matches, []string{"Recon:*", "Backdoor:*"}) || !slices.Equal(c.NotMatches, []string{"*!DNS"}) {
		t.Errorf("get: %+v", g.FindingCriteria)
	}
	for _, tc := range []struct {
		typ  finding.Type
		rule string
	}{
		{"Recon:EC2/Portscan", "recon-and-backdoor"},
		{"Backdoor:EC2/C&CActivity.B", "recon-and-backdoor"},
		{"Backdoor:EC2/C&CActivity.B!DNS", ""},
		{"UnauthorizedAccess:EC2/SSHBruteForce", ""},
	} {
		occ := storetest.NetFinding(t, tc.typ, "111122223333", "i-9", "198.51.100.3", storetest.Base)
		if got := e.engine.Apply(&occ); got != tc.rule || occ.Service.Archived != (tc.rule != "") {
			t.Errorf("%s: archived %v by %q, want %q", tc.typ, occ.Service.Archived, got, tc.rule)
		}
	}
	// UpdateFilter takes them too; the preview follows: every finding, the
	// corpus and vigil's own about the rule's changes.
	u, err := e.admin.UpdateFilter(ctx, api.UpdateFilterRequest{FilterPath: api.FilterPath{FilterName: "recon-and-backdoor"},
		FindingCriteria: &store.Criteria{Criterion: map[string]store.Condition{"type": {Matches: []string{"*"}}}}})
	if all := len(fs) + len(vigilFindings(t, e)); err != nil || u.PreviewCount != int64(all) {
		t.Errorf("update to matches *: %+v %v, want a preview of %d", u, err, all)
	}
	// Not in ListFindings nor GetFindingsStatistics.
	_, err = e.read.ListFindings(ctx, api.ListFindingsRequest{FindingCriteria: crit})
	if got := wantCode(t, err, "InvalidCriteria"); got.Status != 400 || !strings.Contains(got.Message, "accepted only by filters") {
		t.Errorf("ListFindings: %+v", got)
	}
	_, err = e.read.GetFindingsStatistics(ctx, api.StatisticsRequest{GroupBy: "SEVERITY", FindingCriteria: crit})
	if got := wantCode(t, err, "InvalidCriteria"); !strings.Contains(got.Message, "findingCriteria: type: matches/notMatches") {
		t.Errorf("GetFindingsStatistics: %+v", got)
	}
}
