package waf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/vigil-dev/vigil/internal/respond/awstest"
	"github.com/vigil-dev/vigil/internal/store"
)

const (
	id4 = "a1b2c3d4-0000-4000-8000-000000000004"
	id6 = "a1b2c3d4-0000-4000-8000-000000000006"
)

var ctx = context.Background()

func newSets(t *testing.T, limit int) (*Sets, *awstest.WAF) {
	t.Helper()
	srv := awstest.NewWAF(t,
		awstest.IPSet{Name: "vigil-v4", ID: id4, Version: "IPV4", Description: "managed by vigil", Addresses: []string{}},
		awstest.IPSet{Name: "vigil-v6", ID: id6, Version: "IPV6", Addresses: []string{}})
	client := wafv2.NewFromConfig(awstest.Config(), func(o *wafv2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	s, err := New(Config{IPv4: &IPSetRef{"vigil-v4", id4}, IPv6: &IPSetRef{"vigil-v6", id6}, Limit: limit}, client)
	if err != nil {
		t.Fatal(err)
	}
	s.pause = func(int) time.Duration { return time.Millisecond }
	return s, srv
}

func decs(ps ...string) []store.Decision {
	var out []store.Decision
	for _, p := range ps {
		out = append(out, store.Decision{Target: "waf", Prefix: netip.MustParsePrefix(p), ExpiresAt: time.Now().Add(time.Hour)})
	}
	return out
}

func ops(calls []awstest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Op+" "+c.Params["Name"])
	}
	return out
}

func TestAddRemoveRequests(t *testing.T) {
	s, srv := newSets(t, 0)
	if err := s.Add(ctx, decs("45.155.205.7/32", "185.220.101.0/24", "2a01:4f8::1/128")); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if got := ops(calls); !slices.Equal(got, []string{"GetIPSet vigil-v4", "UpdateIPSet vigil-v4", "GetIPSet vigil-v6", "UpdateIPSet vigil-v6"}) {
		t.Fatalf("calls %q", got)
	}
	up := calls[1]
	if up.Params["Id"] != id4 || up.Params["Scope"] != "REGIONAL" || up.Params["LockToken"] != "token-1" ||
		up.Params["Addresses"] != `["45.155.205.7/32","185.220.101.0/24"]` || up.Params["Description"] != "managed by vigil" {
		t.Errorf("update request %v", up.Params)
	}
	if _, ok := func() (map[string]any, bool) {
		var m map[string]any
		return m, json.Unmarshal(calls[3].Body, &m) == nil && m["Description"] == nil && m["Addresses"] != nil
	}(); !ok {
		t.Errorf("an empty description was sent (WAF refuses it): %s", calls[3].Body)
	}
	if got := srv.Set(id6).Addresses; !slices.Equal(got, []string{"2a01:4f8::1/128"}) {
		t.Errorf("v6 set %q", got)
	}

	// Nothing changes: reads only, no update spent.
	if err := s.Add(ctx, decs("45.155.205.7/32")); err != nil {
		t.Fatal(err)
	}
	if got := ops(srv.Calls()); !slices.Equal(got, []string{"GetIPSet vigil-v4", "GetIPSet vigil-v6"}) {
		t.Errorf("idempotent add made %q", got)
	}
	if err := s.Remove(ctx, decs("45.155.205.7/32", "2a01:4f8::1/128")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Set(id4).Addresses; !slices.Equal(got, []string{"185.220.101.0/24"}) {
		t.Errorf("v4 after remove %q", got)
	}
	if got := srv.Set(id6).Addresses; len(got) != 0 {
		t.Errorf("v6 after remove %q", got)
	}
	if got := srv.Set(id4).Description; got != "managed by vigil" {
		t.Errorf("description lost: %q", got)
	}
	if s.Updates != 4 {
		t.Errorf("%d updates, want 4", s.Updates)
	}
}

func TestLockConflictRetries(t *testing.T) {
	s, srv := newSets(t, 0)
	// Another writer adds an address between our read and our write, twice.
	n := 0
	srv.BeforeUpdate = func(set *awstest.IPSet) {
		if set.ID == id4 && n < 2 {
			n++
			set.Addresses = append(set.Addresses, fmt.Sprintf("81.2.69.%d/32", n))
			srv.BumpToken(set)
		}
	}
	if err := s.Add(ctx, decs("45.155.205.7/32")); err != nil {
		t.Fatal(err)
	}
	// Their addresses survive: each retry re-read the set.
	if got := srv.Set(id4).Addresses; !slices.Equal(got, []string{"45.155.205.7/32", "81.2.69.1/32", "81.2.69.2/32"}) {
		t.Errorf("addresses %q", got)
	}
	if s.Conflicts != 2 {
		t.Errorf("conflicts %d, want 2", s.Conflicts)
	}

	// A lock that never frees gives up after MaxAttempts, naming the cause.
	srv.BeforeUpdate = func(set *awstest.IPSet) { srv.BumpToken(set) }
	err := s.Add(ctx, decs("185.220.101.4/32"))
	if err == nil || !strings.Contains(err.Error(), "WAFOptimisticLockException") || !strings.Contains(err.Error(), fmt.Sprintf("stale %d times", MaxAttempts)) {
		t.Errorf("endless conflict: %v", err)
	}
}

func TestLimitAndErrors(t *testing.T) {
	s, srv := newSets(t, 2)
	if s.Capacity() != 2 {
		t.Fatalf("capacity %d", s.Capacity())
	}
	if err := s.Add(ctx, decs("45.155.205.7/32", "45.155.205.8/32")); err != nil {
		t.Fatal(err)
	}
	err := s.Add(ctx, decs("45.155.205.9/32"))
	if !errors.Is(err, ErrFull) {
		t.Errorf("beyond the limit: %v", err)
	}
	if got := srv.Set(id4).Addresses; len(got) != 2 {
		t.Errorf("set changed to %q", got)
	}
	// Reconcile replaces the whole list.
	if err := s.Reconcile(ctx, decs("185.220.101.4/32")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Set(id4).Addresses; !slices.Equal(got, []string{"185.220.101.4/32"}) {
		t.Errorf("after reconcile %q", got)
	}
	srv.Fail("GetIPSet", awstest.Fault{Status: 400, Code: "WAFNonexistentItemException", Message: "no such set"})
	if err := s.Add(ctx, decs("45.1.1.1/32")); err == nil || !strings.Contains(err.Error(), "WAFNonexistentItemException") || !strings.Contains(err.Error(), "vigil-v4") {
		t.Errorf("missing set: %v", err)
	}
	got, err := s.Addresses(ctx)
	if err != nil || len(got) != 1 || got[0].String() != "185.220.101.4/32" {
		t.Errorf("Addresses %v %v", got, err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "ipv4: an IP set (name and id) is needed"},
		{Config{IPv4: &IPSetRef{"x y", id4}}, `ipv4.name: "x y" is not an IP set name`},
		{Config{IPv4: &IPSetRef{"x", "123"}}, `ipv4.id: "123" is not an IP set ID`},
		{Config{IPv4: &IPSetRef{"x", id4}, Scope: "GLOBAL"}, `scope: "GLOBAL"`},
		{Config{IPv4: &IPSetRef{"x", id4}, Scope: "CLOUDFRONT", Region: "eu-west-1"}, "us-east-1"},
		{Config{IPv4: &IPSetRef{"x", id4}, Limit: 20000}, "limit: 20000 outside 1–10000"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
