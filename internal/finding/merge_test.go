package finding

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// occurrence is one detection of an SSH brute force from 198.51.100.7 on i-1,
// seen between first and last (event time, ms) with some traffic counters.
func occurrence(t *testing.T, first, last Time, inBytes, packets int64, remotePort int) *Finding {
	t.Helper()
	f := netFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "i-1", "198.51.100.7", remotePort, RoleTarget)
	f.Service.EventFirstSeen, f.Service.EventLastSeen = first, last
	f.CreatedAt, f.UpdatedAt = last, last
	f.Service.AdditionalInfo = AdditionalInfo{
		"inBytes": inBytes, "packetsIn": packets, "averagePacketSizeIn": inBytes / packets,
		KeyVigilEvents: int64(3), KeyVigilDistinct: int64(remotePort % 7), KeyVigilRule: fmt.Sprintf("ssh-%d", remotePort),
	}
	f.AddEvidence(NewEvidence(first, "flow", "f.log:1", []byte(fmt.Sprint("first ", first))),
		NewEvidence(last, "flow", "f.log:2", []byte(fmt.Sprint("last ", last))))
	return f
}

func TestMergeRules(t *testing.T) {
	dst := occurrence(t, 1000, 2000, 600, 10, 40000)
	src := occurrence(t, 500, 3000, 300, 2, 40006)
	src.Service.Count = 4
	src.Severity = SeverityHigh
	if err := Merge(dst, src, 3500); err != nil {
		t.Fatal(err)
	}
	s := dst.Service
	if s.Count != 5 || s.EventFirstSeen != 500 || s.EventLastSeen != 3000 || dst.CreatedAt != 2000 || dst.UpdatedAt != 3500 {
		t.Errorf("count %d first %d last %d created %d updated %d", s.Count, s.EventFirstSeen, s.EventLastSeen, dst.CreatedAt, dst.UpdatedAt)
	}
	if dst.Severity != SeverityHigh {
		t.Errorf("severity %v, want the maximum", dst.Severity)
	}
	want := AdditionalInfo{
		"inBytes": int64(900), "packetsIn": int64(12), "averagePacketSizeIn": int64(75), // 900/12
		KeyVigilEvents: int64(6), KeyVigilDistinct: int64(2) /* max(40000%7, 40006%7) */, KeyVigilRule: "ssh-40006",
	}
	if !reflect.DeepEqual(s.AdditionalInfo, want) {
		t.Errorf("additionalInfo %v\nwant %v", s.AdditionalInfo, want)
	}
	if got := s.Action.NetworkConnectionAction.RemotePortDetails.Port; got != 40006 {
		t.Errorf("remote port %d: the more recent occurrence's details must win", got)
	}
	if len(dst.Evidence) != 4 || dst.Evidence[0].Time != 500 || dst.Evidence[3].Time != 3000 {
		t.Errorf("evidence %+v", dst.Evidence)
	}

	// An older occurrence (late data) adds its count but does not overwrite details.
	old := occurrence(t, 100, 200, 10, 1, 40001)
	old.Severity = SeverityLow
	if err := Merge(dst, old, 3600); err != nil {
		t.Fatal(err)
	}
	if dst.Service.EventFirstSeen != 100 || dst.Service.EventLastSeen != 3000 || dst.UpdatedAt != 3600 {
		t.Errorf("late merge times: %d %d %d", dst.Service.EventFirstSeen, dst.Service.EventLastSeen, dst.UpdatedAt)
	}
	if got := dst.Service.Action.NetworkConnectionAction.RemotePortDetails.Port; got != 40006 {
		t.Errorf("late occurrence overwrote details: port %d", got)
	}
	if dst.Service.AdditionalInfo[KeyVigilRule] != "ssh-40006" || dst.Severity != SeverityHigh {
		t.Errorf("late occurrence overwrote latest values: %v %v", dst.Service.AdditionalInfo[KeyVigilRule], dst.Severity)
	}
	// updatedAt never goes back.
	if err := Merge(dst, occurrence(t, 100, 200, 1, 1, 1), 10); err != nil || dst.UpdatedAt != 3600 {
		t.Errorf("updatedAt went back to %d (%v)", dst.UpdatedAt, err)
	}
	// User state is dst's.
	dst.Service.Archived, dst.Service.UserFeedback = true, "NOT_USEFUL"
	_ = Merge(dst, occurrence(t, 4000, 5000, 1, 1, 2), 5000)
	if !dst.Service.Archived || dst.Service.UserFeedback != "NOT_USEFUL" {
		t.Error("merge changed the user's archive state or feedback")
	}
}

// TestMergeContinues: a continuation adds its counters, evidence and times but
// not an occurrence; its details are the latest.
func TestMergeContinues(t *testing.T) {
	dst := occurrence(t, 1000, 1000, 600, 10, 40000)
	rest := occurrence(t, 1000, 5000, 300, 2, 40006)
	rest.Continues = true
	if rest.Occurrences() != 0 || dst.Occurrences() != 1 {
		t.Errorf("Occurrences: continuation %d, occurrence %d; want 0 and 1", rest.Occurrences(), dst.Occurrences())
	}
	if err := Merge(dst, rest, 5000); err != nil {
		t.Fatal(err)
	}
	s := dst.Service
	if s.Count != 1 || s.EventLastSeen != 5000 || s.AdditionalInfo["inBytes"] != int64(900) || s.AdditionalInfo[KeyVigilEvents] != int64(6) ||
		s.Action.NetworkConnectionAction.RemotePortDetails.Port != 40006 {
		t.Errorf("count %d last %d inBytes %v vigilEvents %v port %d; want 1 5000 900 6 40006", s.Count, s.EventLastSeen,
			s.AdditionalInfo["inBytes"], s.AdditionalInfo[KeyVigilEvents], s.Action.NetworkConnectionAction.RemotePortDetails.Port)
	}
	if b, _ := json.Marshal(rest); bytes.Contains(b, []byte("ontinues")) {
		t.Error("Continues is in the finding's JSON")
	}
}

// TestEvidenceSplitMerges: a sample split in two in the engine's order (time,
// then text) merges back into the one sample, whatever the order of arrival
// of records of equal time.
func TestEvidenceSplitMerges(t *testing.T) {
	var all []EvidenceRecord
	for i := range 12 {
		all = append(all, NewEvidence(Time(i/4), "flow", "", []byte(fmt.Sprintf("rec-%02d", 11-i))))
	}
	whole := &Finding{}
	whole.AddEvidence(all...)
	split := &Finding{}
	split.AddEvidence(all[6:]...)
	split.AddEvidence(all[:6]...)
	if !reflect.DeepEqual(whole.Evidence, split.Evidence) {
		t.Errorf("split sample %v\nwant %v", split.Evidence, whole.Evidence)
	}
}

func TestMergeRejectsOtherFinding(t *testing.T) {
	a := netFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "i-1", "198.51.100.7", 1, RoleTarget)
	b := netFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "i-1", "198.51.100.8", 1, RoleTarget)
	if err := Merge(a, b, 1); err == nil {
		t.Error("merged findings with different IDs")
	}
	if err := Merge(&Finding{}, &Finding{}, 1); err == nil {
		t.Error("merged findings without IDs")
	}
}

func TestMergeInfoFallbacks(t *testing.T) {
	got := mergeInfo(AdditionalInfo{"inBytes": "n/a", "x": 1.0, "packetsOut": 2.0},
		AdditionalInfo{"inBytes": 5.0, "x": 2.0, "averagePacketSizeOut": 99.0}, true)
	// inBytes: not both numbers → latest; x: unknown → latest; average without
	// the outBytes counters → latest.
	want := AdditionalInfo{"inBytes": 5.0, "x": 2.0, "packetsOut": 2.0, "averagePacketSizeOut": 99.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
	// dst alone has the average; both have the counters: re-derived.
	got = mergeInfo(AdditionalInfo{"averagePacketSizeIn": 7, "totalBytesIn": 100, "packetsIn": 1},
		AdditionalInfo{"totalBytesIn": 200, "packetsIn": 2}, true)
	if got["averagePacketSizeIn"] != int64(100) {
		t.Errorf("average %v, want 300/3", got["averagePacketSizeIn"])
	}
	if mergeInfo(nil, nil, true) != nil {
		t.Error("two empty maps gave a map")
	}
	var dec AdditionalInfo
	_ = json.Unmarshal([]byte(`{"outBytes": 1e3}`), &dec)
	if got := mergeInfo(dec, AdditionalInfo{"outBytes": int64(24)}, false); got["outBytes"] != int64(1024) {
		t.Errorf("float+int sum %v (%T)", got["outBytes"], got["outBytes"])
	}
}

func TestMergePortProbeUnion(t *testing.T) {
	ti, _ := Lookup("Recon:EC2/PortProbeUnprotectedPort")
	probe := func(at Time, ips ...string) *Finding {
		f := ti.New("111122223333", "eu-west-1", at)
		f.Resource.InstanceDetails = &InstanceDetails{InstanceID: "i-1"}
		pp := &PortProbeAction{}
		for _, ip := range ips {
			pp.PortProbeDetails = append(pp.PortProbeDetails, PortProbeDetail{
				LocalPortDetails: &PortDetails{Port: 9200}, RemoteIPDetails: &RemoteIPDetails{IPAddressV4: ip}})
		}
		f.Service.Action.PortProbeAction = pp
		if err := f.Complete(""); err != nil {
			t.Fatal(err)
		}
		return f
	}
	dst := probe(1000, "192.0.2.1", "192.0.2.2")
	src := probe(2000, "192.0.2.3", "192.0.2.1")
	if dst.ID != src.ID {
		t.Fatal("probes of one port on one instance must be one finding")
	}
	if dst.Severity != SeverityHigh {
		t.Errorf("port 9200 severity %v", dst.Severity)
	}
	if err := Merge(dst, src, 2000); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dst.Service.Action.PortProbeAction.PortProbeDetails {
		got = append(got, d.RemoteIPDetails.IPAddressV4)
	}
	if want := []string{"192.0.2.3", "192.0.2.1", "192.0.2.2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("probe details %v, want %v", got, want)
	}
	if len(src.Service.Action.PortProbeAction.PortProbeDetails) != 2 {
		t.Error("merge changed src")
	}
	for i := range 20 {
		if err := Merge(dst, probe(Time(3000+i), fmt.Sprintf("198.51.100.%d", i)), Time(3000+i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(dst.Service.Action.PortProbeAction.PortProbeDetails); n != MaxPortProbeDetails {
		t.Errorf("%d probe details, want at most %d", n, MaxPortProbeDetails)
	}
}

func TestEvidenceBound(t *testing.T) {
	f := &Finding{}
	// 30 records arriving out of order: times 29, 28, …, 0.
	for i := 29; i >= 0; i-- {
		f.AddEvidence(NewEvidence(Time(i), "flow", "", []byte(fmt.Sprint(i))))
	}
	if len(f.Evidence) != MaxEvidence {
		t.Fatalf("%d records, want %d", len(f.Evidence), MaxEvidence)
	}
	var times []Time
	for _, e := range f.Evidence {
		times = append(times, e.Time)
	}
	// The result is independent of the order of adding here because each add
	// re-sorts; the bound keeps the earliest EvidenceHead and the latest rest of
	// what it has seen so far, so records cut earlier stay cut.
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			t.Fatalf("not in time order: %v", times)
		}
	}
	if times[0] != 0 || times[len(times)-1] != 29 {
		t.Errorf("sample %v lacks the first or the latest record", times)
	}

	// In time order: exactly the first 5 and the last 15.
	g := &Finding{}
	for i := range 100 {
		g.AddEvidence(NewEvidence(Time(i), "flow", "", nil))
	}
	want := []Time{0, 1, 2, 3, 4}
	for i := 85; i < 100; i++ {
		want = append(want, Time(i))
	}
	times = times[:0]
	for _, e := range g.Evidence {
		times = append(times, e.Time)
	}
	if !reflect.DeepEqual(times, want) {
		t.Errorf("sample %v, want %v", times, want)
	}
}

// TestMergeDeterministic merges the same occurrences in the same order twice and
// wants byte-identical JSON.
func TestMergeDeterministic(t *testing.T) {
	run := func() []byte {
		dst := occurrence(t, 1000, 2000, 600, 10, 40000)
		for i := range 50 {
			src := occurrence(t, Time(2000+i*100), Time(2050+i*100), int64(100+i), int64(1+i%3), 40000+i)
			src.Service.AdditionalInfo[fmt.Sprintf("k%d", i%5)] = i
			if err := Merge(dst, src, Time(2100+i*100)); err != nil {
				t.Fatal(err)
			}
		}
		b, err := json.Marshal(dst)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) {
		t.Errorf("two runs differ:\n%s\n%s", a, b)
	}
	var f Finding
	if err := json.Unmarshal(a, &f); err != nil {
		t.Fatal(err)
	}
	if f.Service.Count != 51 || len(f.Evidence) != MaxEvidence { // 1 + 50
		t.Errorf("count %d evidence %d", f.Service.Count, len(f.Evidence))
	}
}
