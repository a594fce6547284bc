// Package nacl is the responder target that blocks in AWS network ACLs, as
// AWS's GuardDuty-to-NACL sample does: each blocked network is a DENY entry
// (all protocols, all ports) with a rule number in a range the user reserves
// for vigil (the sample uses 71–80), in every configured network ACL and
// direction. A new block takes the lowest free number of the range; an expired
// one is deleted. When the range is full the responder evicts the oldest
// decision first (Capacity), so the range works as a sliding window.
//
// The range belongs to vigil: every DENY entry in it with protocol "all" is
// taken as vigil's (and deleted by Reconcile if no decision holds it); an entry
// of another kind in the range (an ALLOW, a port-specific DENY) is left alone
// and its number counts as taken. Network ACLs do not expire entries, so a
// block ends when the responder removes it: the responder's expiry loop, or
// its reconcile after a restart.
//
// Every Add, Remove and Reconcile first reads the ACLs (DescribeNetworkAcls),
// so it works from what AWS holds. An entry another writer created meanwhile
// (NetworkAclEntryAlreadyExists) makes it read again and pick another number,
// once; a delete of an entry already gone is success. Other errors are
// returned (the SDK has already retried throttling and 5xx); the responder
// reconciles later. An ACL is used by one goroutine at a time.
package nacl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/vigil-dev/vigil/internal/respond/cidr"
	"github.com/vigil-dev/vigil/internal/store"
)

// Config configures the network ACL target.
type Config struct {
	// Region of the ACLs; empty means the AWS configuration's.
	Region string `yaml:"region"`
	// Profile is the shared-config profile; empty means AWS_PROFILE or default.
	Profile string `yaml:"profile"`
	// Endpoint overrides the EC2 endpoint (tests, VPC endpoints).
	Endpoint string `yaml:"endpoint"`
	// NetworkACLIDs are the ACLs to block in (acl-…).
	NetworkACLIDs []string `yaml:"network_acl_ids"`
	// RuleMin and RuleMax bound the rule numbers vigil uses (inclusive).
	RuleMin int `yaml:"rule_min"`
	RuleMax int `yaml:"rule_max"`
	// Directions are inbound and/or outbound.
	Directions []string `yaml:"directions"`
}

// DefaultConfig returns the sample's rule numbers 71–80, inbound only.
func DefaultConfig() Config {
	return Config{RuleMin: 71, RuleMax: 80, Directions: []string{"inbound"}}
}

var aclID = regexp.MustCompile(`^acl-[0-9a-f]{8,17}$`)

// Validate checks the configuration, filling empty fields with the defaults.
func (c *Config) Validate() error {
	d := DefaultConfig()
	if c.RuleMin == 0 && c.RuleMax == 0 {
		c.RuleMin, c.RuleMax = d.RuleMin, d.RuleMax
	}
	if c.Directions == nil {
		c.Directions = d.Directions
	}
	var errs []error
	if len(c.NetworkACLIDs) == 0 {
		errs = append(errs, errors.New("network_acl_ids: at least one network ACL ID is needed"))
	}
	for i, id := range c.NetworkACLIDs {
		if !aclID.MatchString(id) {
			errs = append(errs, fmt.Errorf("network_acl_ids[%d]: %q is not a network ACL ID (acl-…)", i, id))
		}
	}
	// AWS rule numbers are 1–32766.
	if c.RuleMin < 1 || c.RuleMin > 32766 {
		errs = append(errs, fmt.Errorf("rule_min: %d outside 1–32766", c.RuleMin))
	}
	if c.RuleMax < c.RuleMin || c.RuleMax > 32766 {
		errs = append(errs, fmt.Errorf("rule_max: %d must be from rule_min (%d) to 32766", c.RuleMax, c.RuleMin))
	}
	if len(c.Directions) == 0 {
		errs = append(errs, errors.New("directions: want inbound, outbound or both"))
	}
	for i, d := range c.Directions {
		if d != "inbound" && d != "outbound" {
			errs = append(errs, fmt.Errorf("directions[%d]: %q: want inbound or outbound", i, d))
		}
	}
	return errors.Join(errs...)
}

// EC2 is the part of the EC2 API the target calls; *ec2.Client implements it.
type EC2 interface {
	DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	CreateNetworkAclEntry(ctx context.Context, in *ec2.CreateNetworkAclEntryInput, opts ...func(*ec2.Options)) (*ec2.CreateNetworkAclEntryOutput, error)
	DeleteNetworkAclEntry(ctx context.Context, in *ec2.DeleteNetworkAclEntryInput, opts ...func(*ec2.Options)) (*ec2.DeleteNetworkAclEntryOutput, error)
}

// NewClient returns an EC2 client from the standard AWS configuration and
// credential chain, with cfg's region, profile and endpoint. Credentials are
// looked up at the first call.
func NewClient(ctx context.Context, cfg Config) (*ec2.Client, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return ec2.NewFromConfig(awsCfg, func(o *ec2.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	}), nil
}

// ACL is the network ACL target.
type ACL struct {
	cfg    Config
	client EC2
}

// New returns the target. It calls nothing.
func New(cfg Config, client EC2) (*ACL, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &ACL{cfg: cfg, client: client}, nil
}

// Capacity is the size of the rule-number range: the most blocks an ACL holds.
func (a *ACL) Capacity() int { return a.cfg.RuleMax - a.cfg.RuleMin + 1 }

// ErrFull is returned when a block finds no free rule number.
var ErrFull = errors.New("no free rule number in the range")

// slot is one ACL and direction.
type slot struct {
	acl    string
	egress bool
}

func (s slot) String() string {
	if s.egress {
		return s.acl + " outbound"
	}
	return s.acl + " inbound"
}

// state is what a slot holds in the range.
type state struct {
	ours  map[netip.Prefix]int32 // vigil's deny entries: prefix → rule number
	taken map[int32]bool         // every number used in the range
}

// read describes the ACLs and returns the state of every slot.
func (a *ACL) read(ctx context.Context) (map[slot]*state, error) {
	out, err := a.client.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: a.cfg.NetworkACLIDs})
	if err != nil {
		return nil, fmt.Errorf("nacl: describe network ACLs %s: %w", strings.Join(a.cfg.NetworkACLIDs, ", "), err)
	}
	states := map[slot]*state{}
	for _, id := range a.cfg.NetworkACLIDs {
		for _, egress := range a.egresses() {
			states[slot{id, egress}] = &state{ours: map[netip.Prefix]int32{}, taken: map[int32]bool{}}
		}
	}
	found := map[string]bool{}
	for _, acl := range out.NetworkAcls {
		id := aws.ToString(acl.NetworkAclId)
		found[id] = true
		for _, e := range acl.Entries {
			st := states[slot{id, aws.ToBool(e.Egress)}]
			n := aws.ToInt32(e.RuleNumber)
			if st == nil || n < int32(a.cfg.RuleMin) || n > int32(a.cfg.RuleMax) {
				continue
			}
			st.taken[n] = true
			if e.RuleAction != types.RuleActionDeny || aws.ToString(e.Protocol) != "-1" {
				continue
			}
			block := aws.ToString(e.CidrBlock)
			if block == "" {
				block = aws.ToString(e.Ipv6CidrBlock)
			}
			if p, err := netip.ParsePrefix(block); err == nil {
				st.ours[cidr.Normal(p)] = n
			}
		}
	}
	for _, id := range a.cfg.NetworkACLIDs {
		if !found[id] {
			return nil, fmt.Errorf("nacl: network ACL %s not found", id)
		}
	}
	return states, nil
}

func (a *ACL) egresses() []bool {
	var out []bool
	for _, d := range a.cfg.Directions {
		out = append(out, d == "outbound")
	}
	return out
}

// Add creates a deny entry for every decision's prefix that a slot lacks.
func (a *ACL) Add(ctx context.Context, ds []store.Decision) error {
	return a.apply(ctx, func(held map[netip.Prefix]int32) (add, del []netip.Prefix) {
		for _, d := range ds {
			if p := cidr.Normal(d.Prefix); held[p] == 0 && !slices.Contains(add, p) {
				add = append(add, p)
			}
		}
		return add, nil
	})
}

// Remove deletes the deny entries of the decisions' prefixes.
func (a *ACL) Remove(ctx context.Context, ds []store.Decision) error {
	return a.apply(ctx, func(held map[netip.Prefix]int32) (add, del []netip.Prefix) {
		for _, d := range ds {
			if p := cidr.Normal(d.Prefix); held[p] != 0 {
				del = append(del, p)
			}
		}
		return nil, del
	})
}

// Reconcile makes every slot hold exactly the decisions' prefixes.
func (a *ACL) Reconcile(ctx context.Context, ds []store.Decision) error {
	want := map[netip.Prefix]bool{}
	for _, d := range ds {
		want[cidr.Normal(d.Prefix)] = true
	}
	if len(want) > a.Capacity() {
		return fmt.Errorf("nacl: %d decisions for %d rule numbers: %w", len(want), a.Capacity(), ErrFull)
	}
	return a.apply(ctx, func(held map[netip.Prefix]int32) (add, del []netip.Prefix) {
		for p := range held {
			if !want[p] {
				del = append(del, p)
			}
		}
		for p := range want {
			if held[p] == 0 {
				add = append(add, p)
			}
		}
		slices.SortFunc(add, cidr.Compare)
		slices.SortFunc(del, cidr.Compare)
		return add, del
	})
}

// apply reads the ACLs, asks change what to add and delete in each slot, and
// makes the calls: deletes first, so their numbers are free for the adds.
func (a *ACL) apply(ctx context.Context, change func(held map[netip.Prefix]int32) (add, del []netip.Prefix)) error {
	var errs []error
	for attempt := 0; attempt < 2; attempt++ {
		states, err := a.read(ctx)
		if err != nil {
			return err
		}
		errs = errs[:0]
		conflict := false
		for _, id := range a.cfg.NetworkACLIDs {
			for _, egress := range a.egresses() {
				s := slot{id, egress}
				st := states[s]
				add, del := change(st.ours)
				for _, p := range del {
					if err := a.delete(ctx, s, st.ours[p]); err != nil {
						errs = append(errs, fmt.Errorf("nacl: remove %s from %s (rule %d): %w", p, s, st.ours[p], err))
						continue
					}
					delete(st.taken, st.ours[p])
					delete(st.ours, p)
				}
				for _, p := range add {
					n, ok := a.free(st)
					if !ok {
						errs = append(errs, fmt.Errorf("nacl: block %s in %s: rules %d–%d: %w", p, s, a.cfg.RuleMin, a.cfg.RuleMax, ErrFull))
						continue
					}
					err := a.create(ctx, s, n, p)
					if apiCode(err) == "NetworkAclEntryAlreadyExists" {
						conflict = true
						continue
					}
					if err != nil {
						errs = append(errs, fmt.Errorf("nacl: block %s in %s (rule %d): %w", p, s, n, err))
						continue
					}
					st.taken[n] = true
					st.ours[p] = n
				}
			}
		}
		if !conflict {
			return errors.Join(errs...)
		}
	}
	return errors.Join(append(errs, errors.New("nacl: rule numbers kept being taken by another writer"))...)
}

func (a *ACL) free(st *state) (int32, bool) {
	for n := int32(a.cfg.RuleMin); n <= int32(a.cfg.RuleMax); n++ {
		if !st.taken[n] {
			return n, true
		}
	}
	return 0, false
}

func (a *ACL) create(ctx context.Context, s slot, n int32, p netip.Prefix) error {
	in := &ec2.CreateNetworkAclEntryInput{
		NetworkAclId: aws.String(s.acl),
		RuleNumber:   aws.Int32(n),
		Protocol:     aws.String("-1"),
		RuleAction:   types.RuleActionDeny,
		Egress:       aws.Bool(s.egress),
	}
	if p.Addr().Is4() {
		in.CidrBlock = aws.String(p.String())
	} else {
		in.Ipv6CidrBlock = aws.String(p.String())
	}
	_, err := a.client.CreateNetworkAclEntry(ctx, in)
	return err
}

func (a *ACL) delete(ctx context.Context, s slot, n int32) error {
	_, err := a.client.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{
		NetworkAclId: aws.String(s.acl), RuleNumber: aws.Int32(n), Egress: aws.Bool(s.egress)})
	if apiCode(err) == "InvalidNetworkAclEntry.NotFound" {
		return nil // already gone: what we wanted
	}
	return err
}

// Entries returns vigil's entries per ACL and direction ("acl-… inbound" →
// prefix → rule number), for tests and the CLI.
func (a *ACL) Entries(ctx context.Context) (map[string]map[netip.Prefix]int32, error) {
	states, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]map[netip.Prefix]int32{}
	for s, st := range states {
		out[s.String()] = st.ours
	}
	return out, nil
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
