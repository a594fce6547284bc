package nacl

import (
	"net/netip"
	"os"
	"testing"
)

// TestLiveAWS runs against a real network ACL when one is named and AWS
// credentials are configured; it says so when it skips. It uses rule numbers
// 32700–32701 (VIGIL_LIVE_NACL_ID's ACL must leave them free) and blocks
// 192.0.2.44/32 (a documentation address) for the duration of the test.
func TestLiveAWS(t *testing.T) {
	id := os.Getenv("VIGIL_LIVE_NACL_ID")
	creds := os.Getenv("AWS_ACCESS_KEY_ID") != "" || os.Getenv("AWS_PROFILE") != ""
	if id == "" || !creds {
		t.Skip("live AWS test skipped: set VIGIL_LIVE_NACL_ID=acl-… and AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID, and AWS_REGION) to run it against a real network ACL")
	}
	cfg := Config{NetworkACLIDs: []string{id}, RuleMin: 32700, RuleMax: 32701, Region: os.Getenv("AWS_REGION")}
	client, err := NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, client)
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix("192.0.2.44/32")
	t.Cleanup(func() { _ = a.Remove(ctx, decs(p.String())) })
	if err := a.Add(ctx, decs(p.String())); err != nil {
		t.Fatal(err)
	}
	got, err := a.Entries(ctx)
	if err != nil || got[id+" inbound"][p] != 32700 {
		t.Fatalf("entries after add: %v %v", got, err)
	}
	if err := a.Remove(ctx, decs(p.String())); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Entries(ctx); err != nil || len(got[id+" inbound"]) != 0 {
		t.Fatalf("entries after remove: %v %v", got, err)
	}
}
