package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/store"
)

// feed is a real HTTP server publishing lists, that records what it was asked.
type feed struct {
	*httptest.Server
	hits   atomic.Int64
	agents []string
}

func newFeed(t *testing.T) *feed {
	f := &feed{}
	mux := http.NewServeMux()
	mux.HandleFunc("/threat.txt", func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.agents = append(f.agents, r.UserAgent())
		fmt.Fprint(w, "# bad hosts\n203.0.113.66\n198.51.100.0/28\nevil.example.net\n")
	})
	mux.HandleFunc("/otx.csv", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Indicator type,Indicator,Description\nIPv4,203.0.113.77,C2\nDomain name,c2.example.org,C2\n")
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		for range 2000 {
			fmt.Fprintln(w, "192.0.2.1")
		}
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func TestLists(t *testing.T) {
	fd := newFeed(t)
	e := newEnv(t, func(c *api.Config, _ *api.Deps) {
		c.ListFetchTimeout = 300 * time.Millisecond
		c.Limits.MaxListBytes = 16 << 10
		c.Limits.MaxTrustedEntries = 5
	})
	// A threat list from a URL, active.
	id, n, warns, err := e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "bad-hosts", Format: "TXT",
		Location: fd.URL + "/threat.txt", Activate: new(true), Tags: map[string]string{"source": "feed"}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(warns) != 0 || fd.hits.Load() != 1 || fd.agents[0] != "vigil-api/1" {
		t.Errorf("create from URL: %d entries, warnings %v, %d fetches", n, warns, fd.hits.Load())
	}
	l, err := e.read.GetList(ctx, store.ListThreat, id)
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "bad-hosts" || l.Format != "TXT" || l.Status != store.ListActive || l.Location != fd.URL+"/threat.txt" || l.Entries != 3 || len(l.SHA256) != 64 {
		t.Errorf("get: %+v", l)
	}
	// The same ID is not a trusted list.
	_, err = e.read.GetList(ctx, store.ListTrusted, id)
	wantCode(t, err, "NotFound")

	// A trusted list uploaded, with a bad line: rejected with its line number,
	// then accepted with ignoreInvalidLines.
	content := "# office\n192.0.2.0/24\n192.0.2.300\n203.0.113.5\n"
	_, _, _, err = e.admin.CreateList(ctx, store.ListTrusted, api.CreateListRequest{Name: "office", Format: "TXT", Content: content, Activate: new(true)})
	if got := wantCode(t, err, "InvalidList"); !strings.Contains(got.Message, "office:3:") || !strings.Contains(got.Message, "192.0.2.300") {
		t.Errorf("bad line: %s", got.Message)
	}
	tid, n, warns, err := e.admin.CreateList(ctx, store.ListTrusted, api.CreateListRequest{Name: "office", Format: "TXT", Content: content,
		Activate: new(true), IgnoreInvalidLines: true})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || len(warns) != 1 || !strings.HasPrefix(warns[0], "office:3:") {
		t.Errorf("lenient: %d entries, warnings %v", n, warns)
	}
	// An activated trusted list is a blinding change.
	vf := vigilFindings(t, e)
	if len(vf) != 1 || vf[0].Type != "Policy:Vigil/TrustedListChanged" || vf[0].Service.Action.AWSAPICallAction.API != "CreateIPSet" {
		t.Fatalf("blinding findings %+v", vf)
	}

	// GuardDuty's limit: one trusted list.
	_, _, _, err = e.admin.CreateList(ctx, store.ListTrusted, api.CreateListRequest{Name: "second", Format: "TXT", Content: "192.0.2.9\n", Activate: new(false)})
	if got := wantCode(t, err, "LimitExceeded"); !strings.Contains(got.Message, "limit is 1") {
		t.Errorf("%s", got.Message)
	}
	// Entry and size limits, and fetch failures.
	for _, tc := range []struct {
		req  api.CreateListRequest
		code string
		msg  string
	}{
		{api.CreateListRequest{Name: "many", Format: "TXT", Content: strings.Repeat("192.0.2.1\n", 1) + "192.0.2.2\n192.0.2.3\n192.0.2.4\n192.0.2.5\n192.0.2.6\n"}, "InvalidList", "the limit of a trusted list is 5"},
		{api.CreateListRequest{Name: "big", Format: "TXT", Content: strings.Repeat("#", 17<<10)}, "InvalidList", "the limit is 16384"},
		{api.CreateListRequest{Name: "gone", Format: "TXT", Location: fd.URL + "/missing"}, "ListFetchFailed", "404"},
		{api.CreateListRequest{Name: "slow", Format: "TXT", Location: fd.URL + "/slow"}, "ListFetchFailed", "no answer within 300ms"},
		{api.CreateListRequest{Name: "huge", Format: "TXT", Location: fd.URL + "/huge"}, "InvalidList", "more than 16384 bytes"},
		{api.CreateListRequest{Name: "refused", Format: "TXT", Location: "http://127.0.0.1:1/list.txt"}, "ListFetchFailed", "refused"},
		{api.CreateListRequest{Name: "creds", Format: "TXT", Location: "https://user:pw@example.org/x"}, "InvalidParameter", "credentials"},
		{api.CreateListRequest{Name: "both", Format: "TXT", Location: fd.URL + "/threat.txt", Content: "192.0.2.1"}, "InvalidParameter", "not both"},
		{api.CreateListRequest{Name: "html", Format: "STIX", Content: "<html><body>Not Found</body></html>"}, "InvalidList", "html"},
	} {
		tc.req.Activate = new(false)
		kind := store.ListThreat
		if tc.req.Name == "many" {
			kind = store.ListTrusted
		}
		_, _, _, err := e.admin.CreateList(ctx, kind, tc.req)
		if got := wantCode(t, err, tc.code); !strings.Contains(got.Message, tc.msg) {
			t.Errorf("%s: %s, want …%s…", tc.req.Name, got.Message, tc.msg)
		}
	}

	// Formats: OTX CSV from a URL; AUTO detects.
	oid, n, _, err := e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "otx", Format: "AUTO", Location: fd.URL + "/otx.csv", Activate: new(true)})
	if err != nil || n != 2 {
		t.Fatalf("otx: %d %v", n, err)
	}
	if l, _ := e.read.GetList(ctx, store.ListThreat, oid); l.Format != "OTX_CSV" {
		t.Errorf("detected format %s", l.Format)
	}

	// LoadLists gives serve the active lists, parsed.
	lists, problems, err := api.LoadLists(ctx, e.st, e.srv.Config().Limits)
	if err != nil || len(problems) != 0 || len(lists) != 3 {
		t.Fatalf("LoadLists: %d lists, %v, %v", len(lists), problems, err)
	}
	set := intel.NewSet(lists...)
	if v := set.Check(netip.MustParseAddr("203.0.113.66")); !v.Finding() {
		t.Errorf("threat entry not in effect: %+v", v)
	}
	if _, ok := set.Trusted(netip.MustParseAddr("203.0.113.5")); !ok {
		t.Error("trusted entry not in effect")
	}

	// Update: deactivating an active threat list is blinding; refreshing from
	// the same location fetches again.
	before := fd.hits.Load()
	if _, err := e.admin.UpdateList(ctx, store.ListThreat, id, api.UpdateListFields{Location: new(fd.URL + "/threat.txt")}); err != nil {
		t.Fatal(err)
	}
	if fd.hits.Load() != before+1 {
		t.Error("update with the same location did not fetch again")
	}
	if _, err := e.admin.UpdateList(ctx, store.ListThreat, id, api.UpdateListFields{Activate: new(false), Name: new("bad-hosts-old")}); err != nil {
		t.Fatal(err)
	}
	l, _ = e.read.GetList(ctx, store.ListThreat, id)
	if l.Status != store.ListInactive || l.Name != "bad-hosts-old" || l.Version != 3 {
		t.Errorf("after updates: %+v", l)
	}
	up, err := e.admin.UpdateList(ctx, store.ListTrusted, tid, api.UpdateListFields{Content: new("198.51.100.200\n")})
	if err != nil || up.Entries != 1 {
		t.Fatalf("replace content: %+v %v", up, err)
	}
	_, err = e.admin.UpdateList(ctx, store.ListTrusted, tid, api.UpdateListFields{Content: new("nonsense line\n")})
	wantCode(t, err, "InvalidList")
	_, err = e.admin.UpdateList(ctx, store.ListTrusted, tid, api.UpdateListFields{Name: new("otx")})
	wantCode(t, err, "AlreadyExists")

	types := map[string]int64{}
	for _, f := range vigilFindings(t, e) {
		types[string(f.Type)+"/"+f.Service.Action.AWSAPICallAction.API] += f.Service.Count
	}
	want := map[string]int64{"Policy:Vigil/TrustedListChanged/CreateIPSet": 1, "Policy:Vigil/TrustedListChanged/UpdateIPSet": 1, "Policy:Vigil/ThreatListDisabled/UpdateThreatIntelSet": 1}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("blinding findings %v, want %v", types, want)
	}

	// List and delete.
	ids, next, err := e.read.ListLists(ctx, store.ListThreat, 1, "")
	if err != nil || len(ids) != 1 || next == "" {
		t.Fatalf("page 1: %v %q %v", ids, next, err)
	}
	ids2, next, err := e.read.ListLists(ctx, store.ListThreat, 1, next)
	if err != nil || len(ids2) != 1 || next != "" {
		t.Fatalf("page 2: %v %q %v", ids2, next, err)
	}
	if all := append(ids, ids2...); !slices.Contains(all, id) || !slices.Contains(all, oid) {
		t.Errorf("threat lists %v", all)
	}
	if err := e.admin.DeleteList(ctx, store.ListTrusted, id); err == nil {
		t.Error("deleted a threat list as an IP set")
	}
	if err := e.admin.DeleteList(ctx, store.ListThreat, oid); err != nil {
		t.Fatal(err)
	}
	if _, err := e.read.GetList(ctx, store.ListThreat, oid); err == nil {
		t.Error("deleted list still there")
	}
	if e.listChanges < 5 {
		t.Errorf("OnListsChanged called %d times", e.listChanges)
	}
	// The blinding delete: an active threat list.
	a, _ := e.read.ListAuditEvents(ctx, api.AuditRequest{ResourceID: oid})
	if len(a.Events) != 2 || a.Events[0].Action != "DeleteThreatIntelSet" || !a.Events[0].Blinding {
		t.Errorf("audit of the deleted list: %+v", a.Events)
	}
}

// TestListsSTIX uploads a STIX 1.x package, as GuardDuty users have them.
func TestListsSTIX(t *testing.T) {
	e := newEnv(t, nil)
	stix := `<?xml version="1.0" encoding="UTF-8"?>
<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1" xmlns:cybox="http://cybox.mitre.org/cybox-2"
  xmlns:AddressObj="http://cybox.mitre.org/objects#AddressObject-2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <stix:Observables cybox_major_version="2" cybox_minor_version="1">
  <cybox:Observable><cybox:Object>
   <cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr">
    <AddressObj:Address_Value condition="InclusiveBetween">192.0.2.0##comma##192.0.2.255</AddressObj:Address_Value>
   </cybox:Properties>
  </cybox:Object></cybox:Observable>
  <cybox:Observable><cybox:Object>
   <cybox:Properties xsi:type="AddressObj:AddressObjectType" category="ipv4-addr">
    <AddressObj:Address_Value>198.51.100.1</AddressObj:Address_Value>
   </cybox:Properties>
  </cybox:Object></cybox:Observable>
 </stix:Observables>
</stix:STIX_Package>`
	id, n, _, err := e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "stix", Format: "STIX", Content: stix, Activate: new(true)})
	if err != nil || n < 2 {
		t.Fatalf("%d %v", n, err)
	}
	l, err := e.read.GetList(ctx, store.ListThreat, id)
	if err != nil || l.Size != int64(len(stix)) {
		t.Errorf("size %d of %d: %v", l.Size, len(stix), err)
	}
}
