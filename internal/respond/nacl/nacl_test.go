package nacl

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vigil-dev/vigil/internal/respond/awstest"
	"github.com/vigil-dev/vigil/internal/store"
)

const (
	acl1 = "acl-0a1b2c3d4e5f60718"
	acl2 = "acl-0f1e2d3c4b5a69788"
)

var ctx = context.Background()

func newACL(t *testing.T, cfg Config, ids ...string) (*ACL, *awstest.EC2) {
	t.Helper()
	srv := awstest.NewEC2(t, ids...)
	client := ec2.NewFromConfig(awstest.Config(), func(o *ec2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	a, err := New(cfg, client)
	if err != nil {
		t.Fatal(err)
	}
	return a, srv
}

func dec(p string) store.Decision {
	return store.Decision{Target: "nacl", Prefix: netip.MustParsePrefix(p), ExpiresAt: time.Now().Add(time.Hour)}
}

func decs(ps ...string) []store.Decision {
	var out []store.Decision
	for _, p := range ps {
		out = append(out, dec(p))
	}
	return out
}

func entries(srv *awstest.EC2, acl string) []string {
	var out []string
	for _, e := range srv.Entries(acl) {
		dir := "in"
		if e.Egress {
			dir = "out"
		}
		out = append(out, strings.Join([]string{strconv.Itoa(e.RuleNumber), dir, e.Action, e.Protocol, e.CIDR}, " "))
	}
	return out
}

func TestAddRemoveRequests(t *testing.T) {
	cfg := Config{NetworkACLIDs: []string{acl1}, RuleMin: 71, RuleMax: 80}
	a, srv := newACL(t, cfg, acl1)
	// Someone's ALLOW inside the range takes its number; an entry outside the
	// range is not ours.
	srv.Put(acl1, awstest.Entry{RuleNumber: 71, Protocol: "6", Action: "allow", CIDR: "0.0.0.0/0"})
	srv.Put(acl1, awstest.Entry{RuleNumber: 100, Protocol: "-1", Action: "deny", CIDR: "45.9.9.9/32"})

	if err := a.Add(ctx, decs("45.155.205.7/32", "2a01:4f8::1/128")); err != nil {
		t.Fatal(err)
	}
	want := []string{"71 in allow 6 0.0.0.0/0", "72 in deny -1 45.155.205.7/32", "73 in deny -1 2a01:4f8::1/128", "100 in deny -1 45.9.9.9/32"}
	if got := entries(srv, acl1); !slices.Equal(got, want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	calls := srv.Calls()
	var ops []string
	for _, c := range calls {
		ops = append(ops, c.Op)
	}
	if !slices.Equal(ops, []string{"DescribeNetworkAcls", "CreateNetworkAclEntry", "CreateNetworkAclEntry"}) {
		t.Fatalf("calls %q", ops)
	}
	if p := calls[0].Params; p["NetworkAclId.1"] != acl1 {
		t.Errorf("describe params %v", p)
	}
	p := calls[1].Params
	if p["NetworkAclId"] != acl1 || p["RuleNumber"] != "72" || p["RuleAction"] != "deny" || p["Protocol"] != "-1" ||
		p["Egress"] != "false" || p["CidrBlock"] != "45.155.205.7/32" || p["Ipv6CidrBlock"] != "" {
		t.Errorf("create params %v", p)
	}
	if p := calls[2].Params; p["Ipv6CidrBlock"] != "2a01:4f8::1/128" || p["CidrBlock"] != "" {
		t.Errorf("IPv6 create params %v", p)
	}

	// Adding again is idempotent: one describe, no create.
	if err := a.Add(ctx, decs("45.155.205.7/32")); err != nil {
		t.Fatal(err)
	}
	if c := srv.Calls(); len(c) != 1 || c[0].Op != "DescribeNetworkAcls" {
		t.Errorf("a repeated add made calls %v", c)
	}

	if err := a.Remove(ctx, decs("45.155.205.7/32", "45.1.1.1/32")); err != nil {
		t.Fatal(err)
	}
	calls = srv.Calls()
	if len(calls) != 2 || calls[1].Op != "DeleteNetworkAclEntry" || calls[1].Params["RuleNumber"] != "72" || calls[1].Params["Egress"] != "false" {
		t.Errorf("remove calls %+v", calls)
	}
	// The freed number is reused.
	if err := a.Add(ctx, decs("185.220.101.4/32")); err != nil {
		t.Fatal(err)
	}
	want = []string{"71 in allow 6 0.0.0.0/0", "72 in deny -1 185.220.101.4/32", "73 in deny -1 2a01:4f8::1/128", "100 in deny -1 45.9.9.9/32"}
	if got := entries(srv, acl1); !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
}

func TestBothDirectionsAndACLs(t *testing.T) {
	cfg := Config{NetworkACLIDs: []string{acl1, acl2}, RuleMin: 90, RuleMax: 91, Directions: []string{"inbound", "outbound"}}
	a, srv := newACL(t, cfg, acl1, acl2)
	if err := a.Add(ctx, decs("45.155.205.7/32")); err != nil {
		t.Fatal(err)
	}
	want := []string{"90 in deny -1 45.155.205.7/32", "90 out deny -1 45.155.205.7/32"}
	for _, id := range []string{acl1, acl2} {
		if got := entries(srv, id); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	got, err := a.Entries(ctx)
	if err != nil || len(got) != 4 || got[acl2+" outbound"][netip.MustParsePrefix("45.155.205.7/32")] != 90 {
		t.Errorf("Entries %v %v", got, err)
	}
}

func TestReconcileAndFull(t *testing.T) {
	cfg := Config{NetworkACLIDs: []string{acl1}, RuleMin: 71, RuleMax: 72}
	a, srv := newACL(t, cfg, acl1)
	if a.Capacity() != 2 {
		t.Fatalf("capacity %d", a.Capacity())
	}
	// A leftover of ours (deny all) and a port-specific deny someone wrote.
	srv.Put(acl1, awstest.Entry{RuleNumber: 71, Protocol: "-1", Action: "deny", CIDR: "45.1.1.1/32"})
	if err := a.Reconcile(ctx, decs("45.155.205.7/32", "185.220.101.4/32")); err != nil {
		t.Fatal(err)
	}
	want := []string{"71 in deny -1 45.155.205.7/32", "72 in deny -1 185.220.101.4/32"}
	if got := entries(srv, acl1); !slices.Equal(got, want) {
		t.Fatalf("after reconcile %q, want %q", got, want)
	}
	// Full: a third block fails with ErrFull and changes nothing.
	err := a.Add(ctx, decs("185.220.101.5/32"))
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "rules 71–72") {
		t.Errorf("add to a full range: %v", err)
	}
	if err := a.Reconcile(ctx, decs("45.1.1.1/32", "45.1.1.2/32", "45.1.1.3/32")); !errors.Is(err, ErrFull) {
		t.Errorf("reconcile beyond capacity: %v", err)
	}
	if got := entries(srv, acl1); !slices.Equal(got, want) {
		t.Errorf("entries changed: %q", got)
	}
}

func TestErrors(t *testing.T) {
	cfg := Config{NetworkACLIDs: []string{acl1}, RuleMin: 71, RuleMax: 80}
	a, srv := newACL(t, cfg, acl1)

	// Another writer took the number between our describe and create: we read
	// again and take the next one.
	srv.Fail("CreateNetworkAclEntry", awstest.Fault{Status: 400, Code: "NetworkAclEntryAlreadyExists", Message: "taken"})
	if err := a.Add(ctx, decs("45.155.205.7/32")); err != nil {
		t.Fatalf("add after a conflict: %v", err)
	}
	if got := entries(srv, acl1); !slices.Equal(got, []string{"71 in deny -1 45.155.205.7/32"}) {
		t.Errorf("entries %q", got)
	}

	// Deleting an entry that is already gone is success. (The fault answers
	// without deleting, so the fake still holds rule 71 below.)
	srv.Fail("DeleteNetworkAclEntry", awstest.Fault{Status: 400, Code: "InvalidNetworkAclEntry.NotFound", Message: "gone"})
	if err := a.Remove(ctx, decs("45.155.205.7/32")); err != nil {
		t.Errorf("remove of a vanished entry: %v", err)
	}

	// Permission denied is returned, with the operation and the API's code.
	srv.Fail("CreateNetworkAclEntry", awstest.Fault{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."})
	err := a.Add(ctx, decs("185.220.101.4/32"))
	if err == nil || !strings.Contains(err.Error(), "UnauthorizedOperation") || !strings.Contains(err.Error(), "block 185.220.101.4/32 in "+acl1+" inbound (rule 72)") {
		t.Errorf("unauthorized: %v", err)
	}

	// A missing ACL.
	b, _ := newACL(t, Config{NetworkACLIDs: []string{acl2}}, acl1)
	if err := b.Add(ctx, decs("185.220.101.4/32")); err == nil || !strings.Contains(err.Error(), "InvalidNetworkAclID.NotFound") {
		t.Errorf("missing ACL: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "network_acl_ids: at least one"},
		{Config{NetworkACLIDs: []string{"sg-123"}}, `network_acl_ids[0]: "sg-123" is not a network ACL ID`},
		{Config{NetworkACLIDs: []string{acl1}, RuleMin: 80, RuleMax: 71}, "rule_max: 71 must be from rule_min (80)"},
		{Config{NetworkACLIDs: []string{acl1}, RuleMin: 0, RuleMax: 40000}, "rule_min: 0 outside 1–32766"},
		{Config{NetworkACLIDs: []string{acl1}, Directions: []string{"in"}}, `directions[0]: "in": want inbound or outbound`},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	c := Config{NetworkACLIDs: []string{acl1}}
	if err := c.Validate(); err != nil || c.RuleMin != 71 || c.RuleMax != 80 || !slices.Equal(c.Directions, []string{"inbound"}) {
		t.Errorf("defaults: %+v %v", c, err)
	}
}
