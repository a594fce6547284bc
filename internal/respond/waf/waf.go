// Package waf is the responder target that blocks in AWS WAF: it keeps the
// blocked networks in WAFv2 IP sets (one for IPv4, optionally one for IPv6)
// that a web ACL rule of the user's blocks.
//
// WAF replaces an IP set's whole address list on every update, under an
// optimistic lock: each change reads the set (GetIPSet, which returns the list
// and a lock token), computes the new list and writes it (UpdateIPSet with the
// token). If someone changed the set in between, WAF answers
// WAFOptimisticLockException and the change is read and written again, up to
// MaxAttempts times with a growing pause. WAF allows about one update per
// second per account, so the responder batches changes (its batch window) and
// a change that alters nothing makes no update. An IP set holds at most 10,000
// addresses (Limit); the responder evicts the oldest decisions before that,
// and a change that would still exceed it fails with ErrFull.
//
// The IP sets belong to vigil: Reconcile makes them hold exactly the
// decisions. Add and Remove keep addresses they do not know. A Sets is used by
// one goroutine at a time; errors other than the lock conflict are returned
// (the SDK has retried throttling and 5xx), and the responder reconciles.
package waf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/vigil-dev/vigil/internal/respond/cidr"
	"github.com/vigil-dev/vigil/internal/store"
)

// Config configures the WAF target.
type Config struct {
	// Region of the IP sets; CLOUDFRONT sets live in us-east-1.
	Region string `yaml:"region"`
	// Profile is the shared-config profile; empty means AWS_PROFILE or default.
	Profile string `yaml:"profile"`
	// Endpoint overrides the WAFv2 endpoint (tests).
	Endpoint string `yaml:"endpoint"`
	// Scope is REGIONAL (ALB, API Gateway, AppSync, Cognito) or CLOUDFRONT.
	Scope string `yaml:"scope"`
	// IPv4 and IPv6 name the IP sets; IPv6 may be left out (IPv6 decisions are
	// then not blocked here).
	IPv4 *IPSetRef `yaml:"ipv4"`
	IPv6 *IPSetRef `yaml:"ipv6"`
	// Limit is the most addresses an IP set may hold (WAF's quota: 10,000).
	Limit int `yaml:"limit"`
}

// IPSetRef names an IP set.
type IPSetRef struct {
	Name string `yaml:"name"`
	ID   string `yaml:"id"`
}

// DefaultLimit is WAF's quota of addresses per IP set.
const DefaultLimit = 10000

// MaxAttempts bounds the read-and-write rounds of one change when the lock
// token keeps going stale.
const MaxAttempts = 5

var (
	setName = regexp.MustCompile(`^[\w\-]{1,128}$`)
	setID   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// Validate checks the configuration, filling empty fields with the defaults.
func (c *Config) Validate() error {
	if c.Scope == "" {
		c.Scope = "REGIONAL"
	}
	if c.Limit == 0 {
		c.Limit = DefaultLimit
	}
	var errs []error
	if c.Scope != "REGIONAL" && c.Scope != "CLOUDFRONT" {
		errs = append(errs, fmt.Errorf("scope: %q: want REGIONAL or CLOUDFRONT", c.Scope))
	}
	if c.Scope == "CLOUDFRONT" && c.Region != "" && c.Region != "us-east-1" {
		errs = append(errs, fmt.Errorf("region: CLOUDFRONT IP sets live in us-east-1, not %s", c.Region))
	}
	if c.IPv4 == nil && c.IPv6 == nil {
		errs = append(errs, errors.New("ipv4: an IP set (name and id) is needed"))
	}
	for _, r := range []struct {
		key string
		ref *IPSetRef
	}{{"ipv4", c.IPv4}, {"ipv6", c.IPv6}} {
		if r.ref == nil {
			continue
		}
		if !setName.MatchString(r.ref.Name) {
			errs = append(errs, fmt.Errorf("%s.name: %q is not an IP set name", r.key, r.ref.Name))
		}
		if !setID.MatchString(r.ref.ID) {
			errs = append(errs, fmt.Errorf("%s.id: %q is not an IP set ID (a UUID)", r.key, r.ref.ID))
		}
	}
	if c.Limit < 1 || c.Limit > DefaultLimit {
		errs = append(errs, fmt.Errorf("limit: %d outside 1–%d", c.Limit, DefaultLimit))
	}
	return errors.Join(errs...)
}

// API is the part of the WAFv2 API the target calls; *wafv2.Client implements
// it.
type API interface {
	GetIPSet(ctx context.Context, in *wafv2.GetIPSetInput, opts ...func(*wafv2.Options)) (*wafv2.GetIPSetOutput, error)
	UpdateIPSet(ctx context.Context, in *wafv2.UpdateIPSetInput, opts ...func(*wafv2.Options)) (*wafv2.UpdateIPSetOutput, error)
}

// NewClient returns a WAFv2 client from the standard AWS configuration and
// credential chain, with cfg's region, profile and endpoint.
func NewClient(ctx context.Context, cfg Config) (*wafv2.Client, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	} else if cfg.Scope == "CLOUDFRONT" {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return wafv2.NewFromConfig(awsCfg, func(o *wafv2.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	}), nil
}

// Sets is the WAF target.
type Sets struct {
	cfg    Config
	client API
	// pause is the wait before the n-th retry after a lock conflict.
	pause func(n int) time.Duration

	// Updates counts UpdateIPSet calls that succeeded, Conflicts the lock
	// conflicts met.
	Updates, Conflicts int
}

// New returns the target. It calls nothing.
func New(cfg Config, client API) (*Sets, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sets{cfg: cfg, client: client, pause: func(n int) time.Duration { return time.Duration(n) * 200 * time.Millisecond }}, nil
}

// ErrFull is returned when an IP set would exceed its limit.
var ErrFull = errors.New("IP set limit reached")

// Capacity is the limit of one IP set.
func (s *Sets) Capacity() int { return s.cfg.Limit }

// Add puts the decisions' prefixes into the IP sets.
func (s *Sets) Add(ctx context.Context, ds []store.Decision) error {
	return s.change(ctx, func(held []netip.Prefix, v4 bool) []netip.Prefix {
		for _, d := range ds {
			if p := cidr.Normal(d.Prefix); p.Addr().Is4() == v4 {
				held = append(held, p)
			}
		}
		return held
	})
}

// Remove takes the decisions' prefixes out of the IP sets.
func (s *Sets) Remove(ctx context.Context, ds []store.Decision) error {
	drop := map[netip.Prefix]bool{}
	for _, d := range ds {
		drop[cidr.Normal(d.Prefix)] = true
	}
	return s.change(ctx, func(held []netip.Prefix, _ bool) []netip.Prefix {
		return slices.DeleteFunc(held, func(p netip.Prefix) bool { return drop[p] })
	})
}

// Reconcile makes the IP sets hold exactly the decisions' prefixes.
func (s *Sets) Reconcile(ctx context.Context, ds []store.Decision) error {
	return s.change(ctx, func(_ []netip.Prefix, v4 bool) []netip.Prefix {
		var out []netip.Prefix
		for _, d := range ds {
			if p := cidr.Normal(d.Prefix); p.Addr().Is4() == v4 {
				out = append(out, p)
			}
		}
		return out
	})
}

// change applies edit to each IP set: read, edit, write under the lock token,
// again on a lock conflict.
func (s *Sets) change(ctx context.Context, edit func(held []netip.Prefix, v4 bool) []netip.Prefix) error {
	var errs []error
	for _, set := range []struct {
		ref *IPSetRef
		v4  bool
	}{{s.cfg.IPv4, true}, {s.cfg.IPv6, false}} {
		if set.ref == nil {
			continue
		}
		if err := s.changeSet(ctx, set.ref, set.v4, edit); err != nil {
			errs = append(errs, fmt.Errorf("waf: IP set %s (%s): %w", set.ref.Name, set.ref.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Sets) changeSet(ctx context.Context, ref *IPSetRef, v4 bool, edit func([]netip.Prefix, bool) []netip.Prefix) error {
	for attempt := 1; ; attempt++ {
		got, err := s.client.GetIPSet(ctx, &wafv2.GetIPSetInput{Name: aws.String(ref.Name), Id: aws.String(ref.ID), Scope: types.Scope(s.cfg.Scope)})
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		if got.IPSet == nil || got.LockToken == nil {
			return errors.New("get: the answer has no IP set or lock token")
		}
		held, unknown := parseAddresses(got.IPSet.Addresses)
		next := normalise(edit(slices.Clone(held), v4))
		if slices.Equal(next, normalise(held)) && len(unknown) == 0 {
			return nil // nothing changes: spare the update quota
		}
		if len(next) > s.cfg.Limit {
			return fmt.Errorf("%d addresses, limit %d: %w", len(next), s.cfg.Limit, ErrFull)
		}
		addrs := make([]string, 0, len(next))
		for _, p := range next {
			addrs = append(addrs, p.String())
		}
		_, err = s.client.UpdateIPSet(ctx, &wafv2.UpdateIPSetInput{
			Name: aws.String(ref.Name), Id: aws.String(ref.ID), Scope: types.Scope(s.cfg.Scope),
			Addresses: addrs, LockToken: got.LockToken,
			// UpdateIPSet replaces every mutable field: keep the description
			// (WAF refuses an empty one, so none is sent when there is none).
			Description: emptyNil(got.IPSet.Description),
		})
		var stale *types.WAFOptimisticLockException
		if errors.As(err, &stale) {
			s.Conflicts++
			if attempt >= MaxAttempts {
				return fmt.Errorf("update: the lock token went stale %d times: %w", attempt, err)
			}
			select {
			case <-time.After(s.pause(attempt)):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		s.Updates++
		return nil
	}
}

func emptyNil(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

// parseAddresses reads an IP set's addresses; ones that are not CIDRs are
// returned apart (and dropped by the next update: WAF would not have stored
// them).
func parseAddresses(addrs []string) (ps []netip.Prefix, unknown []string) {
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			unknown = append(unknown, a)
			continue
		}
		ps = append(ps, cidr.Normal(p))
	}
	return ps, unknown
}

// normalise sorts and deduplicates.
func normalise(ps []netip.Prefix) []netip.Prefix {
	slices.SortFunc(ps, cidr.Compare)
	return slices.Compact(ps)
}

// Addresses returns what the IP sets hold, for tests and the CLI.
func (s *Sets) Addresses(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, ref := range []*IPSetRef{s.cfg.IPv4, s.cfg.IPv6} {
		if ref == nil {
			continue
		}
		got, err := s.client.GetIPSet(ctx, &wafv2.GetIPSetInput{Name: aws.String(ref.Name), Id: aws.String(ref.ID), Scope: types.Scope(s.cfg.Scope)})
		if err != nil {
			return nil, fmt.Errorf("waf: get IP set %s: %w", ref.Name, err)
		}
		if got.IPSet != nil {
			ps, _ := parseAddresses(got.IPSet.Addresses)
			out = append(out, ps...)
		}
	}
	return normalise(out), nil
}
