package waf

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestLiveAWS runs against a real WAFv2 IP set when one is named and AWS
// credentials are configured; it says so when it skips. It adds 192.0.2.44/32
// (a documentation address) to the set and takes it out again; other
// addresses in the set are kept.
func TestLiveAWS(t *testing.T) {
	ref := os.Getenv("VIGIL_LIVE_WAF_IPSET") // name/id
	creds := os.Getenv("AWS_ACCESS_KEY_ID") != "" || os.Getenv("AWS_PROFILE") != ""
	name, id, ok := strings.Cut(ref, "/")
	if !ok || !creds {
		t.Skip("live AWS test skipped: set VIGIL_LIVE_WAF_IPSET=<name>/<id> of a REGIONAL IPv4 IP set and AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID, and AWS_REGION) to run it against real WAF")
	}
	cfg := Config{Region: os.Getenv("AWS_REGION"), Scope: "REGIONAL", IPv4: &IPSetRef{Name: name, ID: id}}
	client, err := NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, client)
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix("192.0.2.44/32")
	t.Cleanup(func() { _ = s.Remove(ctx, decs(p.String())) })
	if err := s.Add(ctx, decs(p.String())); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Addresses(ctx); err != nil || !slices.Contains(got, p) {
		t.Fatalf("after add: %v %v", got, err)
	}
	if err := s.Remove(ctx, decs(p.String())); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Addresses(ctx); err != nil || slices.Contains(got, p) {
		t.Fatalf("after remove: %v %v", got, err)
	}
}
