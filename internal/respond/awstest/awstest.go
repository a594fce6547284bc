// Package awstest runs small, real HTTP servers on 127.0.0.1 that speak
// enough of two AWS APIs for the responder's tests: the EC2 Query API's
// network ACL operations (DescribeNetworkAcls, CreateNetworkAclEntry,
// DeleteNetworkAclEntry) and the WAFv2 JSON API's IP set operations (GetIPSet,
// UpdateIPSet). They keep state like AWS does, check what arrives (a SigV4
// Authorization header for the expected key, region and service; the protocol
// version; required parameters; the lock token), answer AWS's error shapes,
// and record every request, so a test asserts on the calls the SDK really
// made. Failures can be injected per operation.
//
// Only tests import this package. A server is safe for concurrent use and
// stops when the test ends.
package awstest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The credentials and region the servers expect.
const (
	AccessKeyID = "AKIAVIGILTEST0000001"
	SecretKey   = "vigil-test-secret"
	Region      = "eu-west-1"
)

// Config returns an AWS configuration with the test's static credentials and
// region; point a client at a server with its BaseEndpoint.
func Config() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretKey, ""),
		// No retries: a test sees each call the responder makes.
		RetryMaxAttempts: 1,
	}
}

// Call is one request a server received.
type Call struct {
	Op     string
	Params map[string]string // EC2: the form; WAF: top-level JSON fields as text
	Body   []byte
}

// checkAuth verifies the SigV4 Authorization header's scope.
func checkAuth(r *http.Request, service string) error {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return fmt.Errorf("authorization %q is not SigV4", auth)
	}
	cred := ""
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		if v, ok := strings.CutPrefix(part, "Credential="); ok {
			cred = v
		}
	}
	f := strings.Split(cred, "/")
	if len(f) != 5 || f[0] != AccessKeyID || f[2] != Region || f[3] != service || f[4] != "aws4_request" {
		return fmt.Errorf("credential scope %q, want %s/<date>/%s/%s/aws4_request", cred, AccessKeyID, Region, service)
	}
	if !strings.Contains(auth, "Signature=") || r.Header.Get("X-Amz-Date") == "" {
		return fmt.Errorf("request is not signed")
	}
	return nil
}

// Fault is an error to answer instead of doing an operation.
type Fault struct {
	Status  int
	Code    string
	Message string
}

// faults holds injected failures: op → queue of faults, consumed one per call.
type faults struct {
	mu sync.Mutex
	q  map[string][]Fault
}

func (f *faults) next(op string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.q[op]) == 0 {
		return Fault{}, false
	}
	x := f.q[op][0]
	f.q[op] = f.q[op][1:]
	return x, true
}

func (f *faults) add(op string, x ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.q == nil {
		f.q = map[string][]Fault{}
	}
	f.q[op] = append(f.q[op], x...)
}

// ---- EC2 ----

// Entry is a network ACL entry.
type Entry struct {
	RuleNumber int
	Egress     bool
	Protocol   string
	Action     string // allow, deny
	CIDR       string // IPv4 or IPv6
}

// EC2 is a fake EC2 endpoint holding network ACLs.
type EC2 struct {
	URL string

	t      testing.TB
	mu     sync.Mutex
	acls   map[string][]Entry
	calls  []Call
	faults faults
}

// NewEC2 starts an EC2 endpoint holding empty ACLs with the given IDs.
func NewEC2(t testing.TB, aclIDs ...string) *EC2 {
	e := &EC2{t: t, acls: map[string][]Entry{}}
	for _, id := range aclIDs {
		e.acls[id] = nil
	}
	srv := httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// Fail makes the next calls of op answer these faults, in order.
func (e *EC2) Fail(op string, f ...Fault) { e.faults.add(op, f...) }

// Put adds an entry directly (someone else's, or a leftover).
func (e *EC2) Put(acl string, en Entry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.acls[acl] = append(e.acls[acl], en)
}

// Entries returns an ACL's entries, by rule number then direction.
func (e *EC2) Entries(acl string) []Entry {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.acls[acl])
	slices.SortFunc(out, func(a, b Entry) int {
		if a.RuleNumber != b.RuleNumber {
			return a.RuleNumber - b.RuleNumber
		}
		if a.Egress == b.Egress {
			return 0
		}
		if a.Egress {
			return 1
		}
		return -1
	})
	return out
}

// Calls returns the requests received so far and forgets them.
func (e *EC2) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.calls
	e.calls = nil
	return c
}

type ec2Error struct {
	XMLName xml.Name `xml:"Response"`
	Errors  struct {
		Error struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
	} `xml:"Errors"`
	RequestID string `xml:"RequestID"`
}

func ec2Fail(w http.ResponseWriter, status int, code, msg string) {
	var x ec2Error
	x.Errors.Error.Code, x.Errors.Error.Message, x.RequestID = code, msg, "req-fail"
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(x)
}

func (e *EC2) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Method != http.MethodPost {
		ec2Fail(w, 400, "InvalidParameterValue", "want a POST with a form body")
		return
	}
	params := map[string]string{}
	for k, v := range form {
		params[k] = v[0]
	}
	op := params["Action"]
	e.mu.Lock()
	e.calls = append(e.calls, Call{Op: op, Params: params, Body: body})
	e.mu.Unlock()
	if err := checkAuth(r, "ec2"); err != nil {
		ec2Fail(w, 401, "AuthFailure", err.Error())
		return
	}
	if params["Version"] != "2016-11-15" {
		ec2Fail(w, 400, "InvalidParameterValue", "Version "+params["Version"])
		return
	}
	if f, ok := e.faults.next(op); ok {
		ec2Fail(w, f.Status, f.Code, f.Message)
		return
	}
	switch op {
	case "DescribeNetworkAcls":
		e.describe(w, params)
	case "CreateNetworkAclEntry":
		e.create(w, params)
	case "DeleteNetworkAclEntry":
		e.delete(w, params)
	default:
		ec2Fail(w, 400, "InvalidAction", "the fake does not do "+op)
	}
}

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

func (e *EC2) describe(w http.ResponseWriter, p map[string]string) {
	var ids []string
	for i := 1; ; i++ {
		id, ok := p["NetworkAclId."+strconv.Itoa(i)]
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, `<DescribeNetworkAclsResponse xmlns="%s"><requestId>req-1</requestId><networkAclSet>`, ec2NS)
	for _, id := range ids {
		entries, ok := e.acls[id]
		if !ok {
			b.Reset()
			ec2Fail(w, 400, "InvalidNetworkAclID.NotFound", "The network ACL '"+id+"' does not exist")
			return
		}
		fmt.Fprintf(&b, "<item><networkAclId>%s</networkAclId><vpcId>vpc-0a1b2c3d</vpcId><default>false</default><entrySet>", id)
		for _, en := range entries {
			fmt.Fprintf(&b, "<item><ruleNumber>%d</ruleNumber><protocol>%s</protocol><ruleAction>%s</ruleAction><egress>%t</egress>",
				en.RuleNumber, en.Protocol, en.Action, en.Egress)
			if strings.Contains(en.CIDR, ":") {
				fmt.Fprintf(&b, "<ipv6CidrBlock>%s</ipv6CidrBlock>", en.CIDR)
			} else {
				fmt.Fprintf(&b, "<cidrBlock>%s</cidrBlock>", en.CIDR)
			}
			b.WriteString("</item>")
		}
		b.WriteString("</entrySet><associationSet/><tagSet/></item>")
	}
	b.WriteString("</networkAclSet></DescribeNetworkAclsResponse>")
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, b.String())
}

func (e *EC2) create(w http.ResponseWriter, p map[string]string) {
	id := p["NetworkAclId"]
	n, err := strconv.Atoi(p["RuleNumber"])
	if err != nil || n < 1 || n > 32766 {
		ec2Fail(w, 400, "InvalidParameterValue", "RuleNumber "+p["RuleNumber"])
		return
	}
	action := p["RuleAction"]
	if action != "deny" && action != "allow" {
		ec2Fail(w, 400, "InvalidParameterValue", "RuleAction "+action)
		return
	}
	cidr := p["CidrBlock"]
	if v6 := p["Ipv6CidrBlock"]; v6 != "" {
		if cidr != "" {
			ec2Fail(w, 400, "InvalidParameterCombination", "CidrBlock and Ipv6CidrBlock")
			return
		}
		cidr = v6
	}
	if cidr == "" || p["Protocol"] == "" || p["Egress"] == "" {
		ec2Fail(w, 400, "MissingParameter", "CidrBlock, Protocol and Egress are required")
		return
	}
	egress := p["Egress"] == "true"
	e.mu.Lock()
	defer e.mu.Unlock()
	entries, ok := e.acls[id]
	if !ok {
		ec2Fail(w, 400, "InvalidNetworkAclID.NotFound", "The network ACL '"+id+"' does not exist")
		return
	}
	for _, en := range entries {
		if en.RuleNumber == n && en.Egress == egress {
			ec2Fail(w, 400, "NetworkAclEntryAlreadyExists", fmt.Sprintf("The network acl entry identified by %d already exists.", n))
			return
		}
	}
	// AWS's quota: 20 entries per direction by default.
	count := 0
	for _, en := range entries {
		if en.Egress == egress {
			count++
		}
	}
	if count >= 20 {
		ec2Fail(w, 400, "NetworkAclEntryLimitExceeded", "too many entries")
		return
	}
	e.acls[id] = append(entries, Entry{RuleNumber: n, Egress: egress, Protocol: p["Protocol"], Action: action, CIDR: cidr})
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<CreateNetworkAclEntryResponse xmlns="%s"><requestId>req-2</requestId><return>true</return></CreateNetworkAclEntryResponse>`, ec2NS)
}

func (e *EC2) delete(w http.ResponseWriter, p map[string]string) {
	id := p["NetworkAclId"]
	n, _ := strconv.Atoi(p["RuleNumber"])
	if p["Egress"] == "" {
		ec2Fail(w, 400, "MissingParameter", "Egress is required")
		return
	}
	egress := p["Egress"] == "true"
	e.mu.Lock()
	defer e.mu.Unlock()
	entries, ok := e.acls[id]
	if !ok {
		ec2Fail(w, 400, "InvalidNetworkAclID.NotFound", "The network ACL '"+id+"' does not exist")
		return
	}
	i := slices.IndexFunc(entries, func(en Entry) bool { return en.RuleNumber == n && en.Egress == egress })
	if i < 0 {
		ec2Fail(w, 400, "InvalidNetworkAclEntry.NotFound", fmt.Sprintf("The network acl entry identified by %d does not exist.", n))
		return
	}
	e.acls[id] = slices.Delete(entries, i, i+1)
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<DeleteNetworkAclEntryResponse xmlns="%s"><requestId>req-3</requestId><return>true</return></DeleteNetworkAclEntryResponse>`, ec2NS)
}

// ---- WAFv2 ----

// IPSet is a WAF IP set as the fake holds it.
type IPSet struct {
	Name, ID, Version, Description string
	Addresses                      []string
	token                          int
}

// WAF is a fake WAFv2 endpoint holding IP sets.
type WAF struct {
	URL string

	mu     sync.Mutex
	sets   map[string]*IPSet // by ID
	calls  []Call
	faults faults
	// BeforeUpdate, when set, runs inside each UpdateIPSet before the token
	// is checked (to change the set behind the caller's back).
	BeforeUpdate func(s *IPSet)
}

// NewWAF starts a WAFv2 endpoint holding the given IP sets (REGIONAL scope).
func NewWAF(t testing.TB, sets ...IPSet) *WAF {
	f := &WAF{sets: map[string]*IPSet{}}
	for i := range sets {
		s := sets[i]
		s.token = 1
		f.sets[s.ID] = &s
	}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Fail makes the next calls of op answer these faults, in order.
func (f *WAF) Fail(op string, x ...Fault) { f.faults.add(op, x...) }

// Set returns a copy of an IP set.
func (f *WAF) Set(id string) IPSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := *f.sets[id]
	s.Addresses = slices.Clone(s.Addresses)
	return s
}

// Calls returns the requests received so far and forgets them.
func (f *WAF) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func wafFail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
}

func (f *WAF) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSWAF_20190729.")
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		wafFail(w, 400, "WAFInvalidParameterException", "body is not JSON")
		return
	}
	params := map[string]string{}
	for k, v := range in {
		if s, ok := v.(string); ok {
			params[k] = s
		} else {
			b, _ := json.Marshal(v)
			params[k] = string(b)
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, Call{Op: op, Params: params, Body: body})
	f.mu.Unlock()
	if err := checkAuth(r, "wafv2"); err != nil {
		wafFail(w, 403, "AccessDeniedException", err.Error())
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		wafFail(w, 400, "WAFInvalidParameterException", "Content-Type "+ct)
		return
	}
	if x, ok := f.faults.next(op); ok {
		wafFail(w, x.Status, x.Code, x.Message)
		return
	}
	if params["Scope"] != "REGIONAL" && params["Scope"] != "CLOUDFRONT" {
		wafFail(w, 400, "WAFInvalidParameterException", "Scope "+params["Scope"])
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sets[params["Id"]]
	if !ok || s.Name != params["Name"] {
		wafFail(w, 400, "WAFNonexistentItemException", "AWS WAF couldn’t perform the operation because your resource doesn’t exist.")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "GetIPSet":
		set := map[string]any{"Name": s.Name, "Id": s.ID, "ARN": "arn:aws:wafv2:" + Region + ":111122223333:regional/ipset/" + s.Name + "/" + s.ID,
			"IPAddressVersion": s.Version, "Addresses": s.Addresses}
		if s.Description != "" {
			set["Description"] = s.Description // AWS leaves out an absent description
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"IPSet": set, "LockToken": "token-" + strconv.Itoa(s.token)})
	case "UpdateIPSet":
		if f.BeforeUpdate != nil {
			f.BeforeUpdate(s)
		}
		addrs, ok := in["Addresses"].([]any)
		if !ok {
			wafFail(w, 400, "WAFInvalidParameterException", "Addresses is required")
			return
		}
		if d, ok := in["Description"].(string); ok && strings.TrimSpace(d) == "" {
			wafFail(w, 400, "WAFInvalidParameterException", "Error reason: The parameter contains formatting that is not valid., field: DESCRIPTION")
			return
		}
		if params["LockToken"] != "token-"+strconv.Itoa(s.token) {
			wafFail(w, 400, "WAFOptimisticLockException", "AWS WAF couldn’t save your changes because someone changed the resource after you started to edit it.")
			return
		}
		if len(addrs) > 10000 {
			wafFail(w, 400, "WAFLimitsExceededException", "too many addresses")
			return
		}
		list := make([]string, 0, len(addrs))
		for _, a := range addrs {
			str, _ := a.(string)
			if !validCIDR(str, s.Version) {
				wafFail(w, 400, "WAFInvalidParameterException", "Error reason: The parameter contains formatting that is not valid., field: IP_SET_ADDRESS, parameter: "+str)
				return
			}
			list = append(list, str)
		}
		s.Addresses = list
		if d, ok := in["Description"].(string); ok {
			s.Description = d
		} else {
			s.Description = ""
		}
		s.token++
		_ = json.NewEncoder(w).Encode(map[string]any{"NextLockToken": "token-" + strconv.Itoa(s.token)})
	default:
		wafFail(w, 400, "WAFInvalidOperationException", "the fake does not do "+op)
	}
}

// BumpToken moves a set's lock token on, as another writer's update does;
// call it from BeforeUpdate.
func (f *WAF) BumpToken(s *IPSet) { s.token++ }

// validCIDR is WAF's check: a CIDR of the set's family, /1–/32 or /1–/128.
func validCIDR(s, version string) bool {
	addr, bits, ok := strings.Cut(s, "/")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(bits)
	if err != nil || n < 1 {
		return false
	}
	if version == "IPV4" {
		return !strings.Contains(addr, ":") && n <= 32
	}
	return strings.Contains(addr, ":") && n <= 128
}
