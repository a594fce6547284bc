package s3

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// The central logging bucket the tests read: two accounts × two regions × four days
// (across a year boundary) of VPC flow logs and CloudTrail, an organisation trail, a
// trail under a user prefix, and a file outside any layout.
const (
	acctA = "111111111111"
	acctB = "222222222222"
	acctC = "333333333333"
	org   = "o-abc123"
)

var (
	regions = []string{"us-east-1", "eu-west-1"}
	days    = []string{"2025/12/31", "2026/01/01", "2026/01/02", "2026/01/03"}
	// oneDay is a window inside 2026-01-02, far enough from midnight that the
	// hour of slack for late delivery reaches neither neighbouring day.
	oneDay = ingest.Window{Since: utc("2026-01-02T02:00:00Z"), Until: utc("2026-01-02T22:00:00Z")}
	// outsideDay marks keys and prefixes of the days oneDay excludes.
	outsideDay = []string{"/2025/", "/2026/01/01/", "/2026/01/03/"}
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// centralLayout returns the bucket's objects by key.
func centralLayout() map[string][]byte {
	files := map[string][]byte{"README.txt": []byte("not a log\n")}
	n := 0
	for _, acct := range []string{acctA, acctB} {
		for _, region := range regions {
			for _, day := range days {
				stamp := strings.ReplaceAll(day, "/", "")
				for _, hhmm := range []string{"0305", "1510"} {
					n++
					key := fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_fl-0a1b2c3d_%sT%sZ_%08x.log.gz",
						acct, region, day, acct, region, stamp, hhmm, n)
					files[key] = flowLog(acct, 1+n%5)
				}
				key := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%sT1205Z_Mu0KsOhtH1ar15ZZ.json.gz",
					acct, region, day, acct, region, stamp)
				files[key] = cloudTrail()
			}
		}
	}
	for _, day := range days {
		stamp := strings.ReplaceAll(day, "/", "")
		files[fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%sT1205Z_Org0KsOhtH1ar15Z.json.gz",
			org, acctA, day, acctA, stamp)] = cloudTrail()
		files[fmt.Sprintf("trail/AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%sT1205Z_Usr0KsOhtH1ar15Z.json.gz",
			acctC, day, acctC, stamp)] = cloudTrail()
	}
	return files
}

// flowLog returns a gzip flow-log file of the default (version 2) format: the
// header line and records.
func flowLog(acct string, records int) []byte {
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range records {
		fmt.Fprintf(&b, "2 %s eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.%d 443%02d 443 6 10 840 1767319500 1767319560 ACCEPT OK\n", acct, 10+i, i)
	}
	return gz(b.String())
}

func cloudTrail() []byte {
	return gz(`{"Records":[{"eventVersion":"1.09","eventTime":"2026-01-02T12:04:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets"}]}` + "\n")
}

func gz(s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

// store puts files in a new bucket and in a local folder, returning the folder.
func store(t *testing.T, srv *testenv.MinIOServer, bucket string, files map[string][]byte) string {
	t.Helper()
	srv.MakeBucket(t, bucket)
	srv.PutAll(t, bucket, files)
	dir := t.TempDir()
	for key, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newLister returns a Lister of srv found through the standard credential chain,
// with the root credentials in the environment and nothing of the machine's AWS
// settings.
func newLister(t *testing.T, srv *testenv.MinIOServer, creds aws.Credentials) *Lister {
	t.Helper()
	testenv.IsolateAWS(t)
	testenv.SetCredentialsEnv(t, creds)
	l, err := New(context.Background(), Config{Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// listKeys lists location and returns the keys fn saw, in order, and the prefixes
// of the listing requests.
func listKeys(t *testing.T, l *Lister, location string, w ingest.Window) (keys, listed []string) {
	t.Helper()
	var mu sync.Mutex
	l.onList = func(prefix string, _ bool) {
		mu.Lock()
		listed = append(listed, prefix)
		mu.Unlock()
	}
	defer func() { l.onList = nil }()
	bucket, _, _ := ParseLocation(location)
	err := l.List(context.Background(), location, w, func(o ingest.Object) error {
		keys = append(keys, strings.TrimPrefix(o.Name, "s3://"+bucket+"/"))
		return nil
	})
	if err != nil {
		t.Fatalf("List(%s): %v", location, err)
	}
	return keys, listed
}

// sortedKeys returns the keys of files for which keep is true, sorted.
func sortedKeys(files map[string][]byte, keep func(string) bool) []string {
	var keys []string
	for k := range files {
		if keep(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func inOneDay(key string) bool {
	return !slices.ContainsFunc(outsideDay, func(d string) bool { return strings.Contains(key, d) })
}

// TestCentralBucket runs the tests of the central bucket on one server. The last one
// deletes an object.
func TestCentralBucket(t *testing.T) {
	srv := testenv.MinIO(t)
	files := centralLayout()
	dir := store(t, srv, "central", files)
	t.Run("list", func(t *testing.T) { testList(t, srv, files) })
	t.Run("reader matches local folder", func(t *testing.T) { testReaderMatchesLocalFolder(t, srv, dir) })
	t.Run("access denied", func(t *testing.T) { testAccessDenied(t, srv, files) })
	t.Run("object deleted between list and get", func(t *testing.T) { testObjectDeleted(t, srv, files) })
}

func testList(t *testing.T, srv *testenv.MinIOServer, files map[string][]byte) {
	l := newLister(t, srv, srv.Credentials())
	all := sortedKeys(files, func(string) bool { return true })

	t.Run("no window: one flat listing, every object in key order", func(t *testing.T) {
		l.Counters = Counters{}
		keys, _ := listKeys(t, l, "s3://central/", ingest.Window{})
		if !slices.Equal(keys, all) {
			t.Errorf("keys =\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(all, "\n"))
		}
		if n := l.Counters.ListRequests.Load(); n != 1 {
			t.Errorf("%d list requests for %d objects; want 1", n, len(all))
		}
	})

	t.Run("no window, pages of 3", func(t *testing.T) {
		l.maxKeys = 3
		defer func() { l.maxKeys = 0 }()
		l.Counters = Counters{}
		keys, _ := listKeys(t, l, "s3://central/", ingest.Window{})
		if !slices.Equal(keys, all) {
			t.Errorf("paged keys differ:\n%s", strings.Join(keys, "\n"))
		}
		// MinIO may say a full last page is truncated: one more, empty, page.
		if n, want := l.Counters.ListRequests.Load(), int64((len(all)+2)/3); n < want || n > want+1 {
			t.Errorf("%d list requests; want %d", n, want)
		}
	})

	want := sortedKeys(files, inOneDay)
	for _, maxKeys := range []int32{0, 2} { // S3's pages of 1000, and pages of 2
		t.Run(fmt.Sprintf("one day, max keys %d: other days never listed", maxKeys), func(t *testing.T) {
			l.maxKeys = maxKeys
			defer func() { l.maxKeys = 0 }()
			l.Counters = Counters{}
			keys, listed := listKeys(t, l, "s3://central/", oneDay)
			if !slices.Equal(keys, want) {
				t.Errorf("keys =\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
			}
			for _, p := range listed {
				if !inOneDay(p) {
					t.Errorf("listed %s, outside the window", p)
				}
			}
			lists, pruned := l.Counters.ListRequests.Load(), l.Counters.PrefixesPruned.Load()
			t.Logf("%d objects of %d; %d list requests; %d prefixes pruned unlisted; %d objects pruned by name",
				len(keys), len(all), lists, pruned, l.Counters.ObjectsPruned.Load())
			if maxKeys == 0 {
				// Per region prefix (9 in AWSLogs/, 1 under trail/): the region, the
				// year 2026, the month 01 and the day 02 — 4 requests whatever the
				// number of days stored. Above them: the bucket root, AWSLogs/,
				// 3 accounts, o-abc123/111…/, 5 services; trail/, its AWSLogs/,
				// account and service.
				if wantLists := int64(10*4 + 1 + 1 + 3 + 1 + 5 + 4); lists != wantLists {
					t.Errorf("%d list requests; want %d", lists, wantLists)
				}
				// Per region: the year 2025 and the days 01 and 03.
				if pruned != 10*3 {
					t.Errorf("%d prefixes pruned; want 30", pruned)
				}
				if n := l.Counters.ObjectsPruned.Load(); n != 0 {
					t.Errorf("%d objects listed then pruned; want 0: the folders should have ruled them out", n)
				}
			}
			if n := l.Counters.Objects.Load(); n != int64(len(want)) {
				t.Errorf("Objects = %d; want %d", n, len(want))
			}
		})
	}

	t.Run("organisation trail", func(t *testing.T) {
		keys, _ := listKeys(t, l, "s3://central/AWSLogs/"+org+"/", oneDay)
		wantOrg := sortedKeys(files, func(k string) bool { return strings.HasPrefix(k, "AWSLogs/"+org+"/") && inOneDay(k) })
		if len(wantOrg) != 1 || !slices.Equal(keys, wantOrg) {
			t.Errorf("keys = %v; want %v", keys, wantOrg)
		}
	})

	t.Run("location inside the layout, partial segment", func(t *testing.T) {
		keys, listed := listKeys(t, l, "s3://central/AWSLogs/1111", oneDay)
		wantA := sortedKeys(files, func(k string) bool { return strings.HasPrefix(k, "AWSLogs/"+acctA+"/") && inOneDay(k) })
		if len(wantA) != 6 || !slices.Equal(keys, wantA) {
			t.Errorf("keys = %v; want %v", keys, wantA)
		}
		if listed[0] != "AWSLogs/1111" {
			t.Errorf("first listing of %q; want the location itself", listed[0])
		}
	})

	t.Run("location at a day", func(t *testing.T) {
		loc := "s3://central/AWSLogs/" + acctB + "/vpcflowlogs/eu-west-1/2026/01/02/"
		keys, listed := listKeys(t, l, loc, oneDay)
		if len(keys) != 2 || len(listed) != 1 {
			t.Errorf("keys = %v after listing %v; want the day's 2 files in one request", keys, listed)
		}
	})
}

// lineCounter is a test decoder: it counts the lines of each input and emits
// nothing (the real decoders are tested with their formats).
type lineCounter struct {
	mu     sync.Mutex
	counts map[string]int64 // input name without strip → lines
	strip  string
}

func (c *lineCounter) Decode(ctx context.Context, in decode.Input, r io.Reader, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
	lr := decode.NewLineReader(r)
	var n int64
	for {
		_, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return decode.Stats{Records: n}, err
		}
		n++
	}
	c.mu.Lock()
	c.counts[strings.TrimPrefix(filepath.ToSlash(in.Name), c.strip)] = n
	c.mu.Unlock()
	return decode.Stats{Records: n, Bytes: lr.BytesRead()}, nil
}

// readCounts reads location through an ingest.Reader and returns the lines of each
// object by its key, and the problems reported.
func readCounts(t *testing.T, location, strip string, w ingest.Window, s3 ingest.Lister) (map[string]int64, ingest.Result, []decode.Problem) {
	t.Helper()
	c := &lineCounter{counts: map[string]int64{}, strip: strip}
	r := ingest.New(ingest.Config{Workers: 3, Window: w, S3: s3}, func() decode.Decoder { return c })
	var (
		mu       sync.Mutex
		problems []decode.Problem
	)
	res, err := r.Read(context.Background(), []string{location},
		func(int, *decode.Batch) error { return nil },
		func(p decode.Problem) { mu.Lock(); problems = append(problems, p); mu.Unlock() })
	if err != nil {
		t.Fatalf("read %s: %v", location, err)
	}
	return c.counts, res, problems
}

// testReaderMatchesLocalFolder reads the bucket and the same files in a folder
// through an ingest.Reader: the same objects, with the same lines.
func testReaderMatchesLocalFolder(t *testing.T, srv *testenv.MinIOServer, dir string) {
	l := newLister(t, srv, srv.Credentials())

	for name, w := range map[string]ingest.Window{"no window": {}, "one day": oneDay} {
		t.Run(name, func(t *testing.T) {
			l.Counters = Counters{}
			remote, res, problems := readCounts(t, "s3://central/", "s3://central/", w, l)
			local, _, _ := readCounts(t, dir, filepath.ToSlash(dir)+"/", w, nil)
			if len(problems) > 0 {
				t.Errorf("problems: %v", problems)
			}
			if len(remote) == 0 || len(remote) != len(local) {
				t.Errorf("%d objects read from S3, %d from the folder", len(remote), len(local))
			}
			var lines int64
			for k, n := range local {
				lines += n
				if remote[k] != n {
					t.Errorf("%s: %d lines from S3, %d from the folder", k, remote[k], n)
				}
			}
			if res.Records != lines || res.Failed != 0 {
				t.Errorf("Reader result %+v; want %d records and no failure", res, lines)
			}
			if g := l.Counters.GetRequests.Load(); g != int64(len(local)) {
				t.Errorf("%d GetObject requests for %d objects", g, len(local))
			}
			t.Logf("%d objects, %d lines; %d list and %d get requests",
				len(remote), lines, l.Counters.ListRequests.Load(), l.Counters.GetRequests.Load())
		})
	}
}

func TestHourlyAndHiveLayouts(t *testing.T) {
	srv := testenv.MinIO(t)
	files := map[string][]byte{}
	for _, day := range []string{"01", "02", "03"} {
		for _, hour := range []string{"00", "06", "10", "11", "18"} {
			stamp := "202601" + day + "T" + hour + "05Z"
			files["AWSLogs/aws-account-id="+acctA+"/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=01/day="+day+"/hour="+hour+
				"/"+acctA+"_vpcflowlogs_us-east-1_fl-1_"+stamp+"_hive.log.gz"] = flowLog(acctA, 2)
			files["AWSLogs/"+acctA+"/vpcflowlogs/us-east-1/2026/01/"+day+"/"+hour+
				"/"+acctA+"_vpcflowlogs_us-east-1_fl-1_"+stamp+"_hour.log.gz"] = flowLog(acctA, 2)
		}
	}
	store(t, srv, "hourly", files)
	l := newLister(t, srv, srv.Credentials())
	// With the hour of slack, 10:30–11:30 reaches the hours 09 to 12.
	w := ingest.Window{Since: utc("2026-01-02T10:30:00Z"), Until: utc("2026-01-02T11:30:00Z")}
	keys, listed := listKeys(t, l, "s3://hourly/", w)
	var want []string
	for k := range files {
		if strings.Contains(k, "T1005Z") && (strings.Contains(k, "day=02/") || strings.Contains(k, "/02/")) ||
			strings.Contains(k, "T1105Z") && (strings.Contains(k, "day=02/") || strings.Contains(k, "/02/")) {
			want = append(want, k)
		}
	}
	slices.Sort(want)
	if len(want) != 4 || !slices.Equal(keys, want) {
		t.Errorf("keys =\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	for _, p := range listed {
		for _, bad := range []string{"day=01/", "day=03/", "/01/01/", "/01/03/", "hour=00/", "hour=06/", "hour=18/", "/02/00/", "/02/06/", "/02/18/"} {
			if strings.Contains(p, bad) {
				t.Errorf("listed %s, outside the window", p)
			}
		}
	}
	t.Logf("%d of %d objects; %d list requests: %v", len(keys), len(files), l.Counters.ListRequests.Load(), listed)
}

// deleteAfterList deletes an object once the listing is over, before the Reader
// opens anything.
type deleteAfterList struct {
	*Lister
	after func()
}

func (d deleteAfterList) List(ctx context.Context, location string, w ingest.Window, fn func(ingest.Object) error) error {
	err := d.Lister.List(ctx, location, w, fn)
	d.after()
	return err
}

func testObjectDeleted(t *testing.T, srv *testenv.MinIOServer, files map[string][]byte) {
	l := newLister(t, srv, srv.Credentials())
	want := sortedKeys(files, inOneDay)
	gone := want[3]
	counts, res, problems := readCounts(t, "s3://central/", "s3://central/", oneDay,
		deleteAfterList{l, func() { srv.Delete(t, "central", gone) }})
	if len(problems) != 1 || problems[0].Input != "s3://central/"+gone ||
		!strings.Contains(problems[0].Detail, "get s3 object s3://central/"+gone+": object no longer exists") {
		t.Fatalf("problems = %v; want one for %s", problems, gone)
	}
	if res.Failed != 1 || len(counts) != len(want)-1 {
		t.Errorf("failed %d, read %d; want 1 failed and the other %d read", res.Failed, len(counts), len(want)-1)
	}
	t.Logf("problem: %s", problems[0])
}

func testAccessDenied(t *testing.T, srv *testenv.MinIOServer, files map[string][]byte) {
	deniedObject := sortedKeys(files, func(k string) bool {
		return strings.HasPrefix(k, "AWSLogs/"+acctA+"/vpcflowlogs/") && inOneDay(k)
	})[0]
	// Credentials that may list and read the bucket except account B's folder and
	// one object of account A: a session policy on temporary credentials, which
	// MinIO's STS grants without its admin API.
	policy := `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::central","arn:aws:s3:::central/*"]},
{"Effect":"Deny","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::central"],"Condition":{"StringLike":{"s3:prefix":["AWSLogs/` + acctB + `/*"]}}},
{"Effect":"Deny","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::central/` + deniedObject + `"]}]}`
	l := newLister(t, srv, srv.AssumeRole(t, policy))

	counts, res, problems := readCounts(t, "s3://central/", "s3://central/", oneDay, l)
	slices.SortFunc(problems, func(a, b decode.Problem) int { return strings.Compare(a.Input, b.Input) })
	if len(problems) != 2 ||
		problems[0].Input != "s3://central/"+deniedObject ||
		!strings.HasSuffix(problems[0].Detail, "get s3 object s3://central/"+deniedObject+": access denied") ||
		problems[1].Input != "s3://central/AWSLogs/"+acctB+"/" ||
		!strings.HasSuffix(problems[1].Detail, "list s3://central/AWSLogs/"+acctB+"/: access denied") {
		t.Fatalf("problems = %q; want the denied object and account B's prefix", problems)
	}
	for _, p := range problems {
		t.Logf("problem: %s", p)
	}
	// Everything else in the window was read: all but account B's 6 objects and
	// the denied one.
	if want := len(sortedKeys(files, inOneDay)) - 6 - 1; len(counts) != want || res.Failed != 2 {
		t.Errorf("read %d objects, %d failed; want %d read and 2 failed", len(counts), res.Failed, want)
	}

	// Denied at the location itself: nothing can be read, which ends List.
	err := l.List(context.Background(), "s3://central/AWSLogs/"+acctB+"/", oneDay, func(ingest.Object) error { return nil })
	if err == nil || err.Error() != "list s3://central/AWSLogs/"+acctB+"/: access denied (check credentials)" || !errors.Is(err, ErrAccessDenied) {
		t.Errorf("denied location: err = %v", err)
	}
}

func TestErrors(t *testing.T) {
	srv := testenv.MinIO(t)
	srv.MakeBucket(t, "exists")
	nop := func(ingest.Object) error { return nil }
	ctx := context.Background()

	l := newLister(t, srv, srv.Credentials())
	for _, w := range []ingest.Window{{}, oneDay} {
		err := l.List(ctx, "s3://no-such-bucket/AWSLogs/", w, nop)
		if err == nil || err.Error() != "list s3://no-such-bucket/AWSLogs/: bucket does not exist" || !errors.Is(err, ErrNoSuchBucket) {
			t.Errorf("missing bucket: err = %v", err)
		}
	}
	for loc, want := range map[string]string{
		"/var/log":  "read /var/log: not an s3:// location",
		"s3://":     "read s3://: no bucket name (want s3://bucket/prefix)",
		"s3:///key": "read s3:///key: no bucket name (want s3://bucket/prefix)",
	} {
		if err := l.List(ctx, loc, ingest.Window{}, nop); err == nil || err.Error() != want {
			t.Errorf("List(%q) = %v; want %s", loc, err, want)
		}
	}

	wrong := srv.Credentials()
	wrong.SecretAccessKey = "not-the-secret"
	l = newLister(t, srv, wrong)
	err := l.List(ctx, "s3://exists/", ingest.Window{}, nop)
	if err == nil || err.Error() != "list s3://exists/: access denied (check credentials): SignatureDoesNotMatch" || !errors.Is(err, ErrAccessDenied) {
		t.Errorf("wrong secret: err = %v", err)
	}
	wrong.AccessKeyID = "no-such-key"
	l = newLister(t, srv, wrong)
	err = l.List(ctx, "s3://exists/", oneDay, nop)
	if err == nil || err.Error() != "list s3://exists/: access denied (check credentials): InvalidAccessKeyId" {
		t.Errorf("unknown key: err = %v", err)
	}

	l = newLister(t, srv, aws.Credentials{}) // the chain finds nothing
	err = l.List(ctx, "s3://exists/", ingest.Window{}, nop)
	if err == nil || !errors.Is(err, ErrNoCredentials) || !strings.HasPrefix(err.Error(), "list s3://exists/: no AWS credentials found (set AWS_PROFILE") {
		t.Errorf("no credentials: err = %v", err)
	}

	testenv.IsolateAWS(t)
	if _, err := New(ctx, Config{Profile: "nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing profile: err = %v", err)
	}
}

// The endpoint can come from AWS_ENDPOINT_URL_S3 as for every AWS tool, and a
// bucket in another region than the client's is found and remembered.
func TestEndpointFromEnvironmentAndBucketRegion(t *testing.T) {
	srv := testenv.StartMinIO(t, testenv.MinIOOptions{Region: "eu-west-3"})
	srv.MakeBucket(t, "paris")
	srv.Put(t, "paris", "AWSLogs/x.log", []byte("x\n"))
	testenv.IsolateAWS(t)
	testenv.SetCredentialsEnv(t, srv.Credentials())
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	l, err := New(context.Background(), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i, wantRequests := range []int64{2, 3} { // the first time, once refused for the region
		keys, _ := listKeys(t, l, "s3://paris/", ingest.Window{})
		if !slices.Equal(keys, []string{"AWSLogs/x.log"}) {
			t.Errorf("listing %d: keys = %v", i, keys)
		}
		if n := l.Counters.ListRequests.Load(); n != wantRequests {
			t.Errorf("after listing %d: %d list requests; want %d", i, n, wantRequests)
		}
	}
	c, _, problems := readCounts(t, "s3://paris/", "s3://paris/", ingest.Window{}, l)
	if len(problems) > 0 || c["AWSLogs/x.log"] != 1 {
		t.Errorf("read: %v, problems %v", c, problems)
	}
}

func TestClassify(t *testing.T) {
	cases := map[string]mode{
		"":                                      modeOutside,
		"cloudtrail/":                           modeOutside,
		"AWSLogs/":                              modeLayout,
		"AWSLogs/1/":                            modeLayout,
		"AWSLogs/o-abc123/1/":                   modeLayout,
		"AWSLogs/1/CloudTrail/r/":               modeLayout,
		"AWSLogs/1/CloudTrail/r/2026/":          modeDate,
		"AWSLogs/1/CloudTrail/r/2026/01/02/":    modeDate,
		"AWSLogs/1/CloudTrail/r/2026/01/02/10/": modeFlat,
		"AWSLogs/1/CloudTrail/r/2026/01/02/other/":                                               modeFlat,
		"AWSLogs/o-abc123/1/CloudTrail/r/2026/01/":                                               modeDate,
		"x/AWSLogs/aws-account-id=1/aws-service=s/aws-region=r/year=2026/":                       modeDate,
		"AWSLogs/aws-account-id=1/aws-service=s/aws-region=r/year=2026/month=01/day=02/hour=03/": modeFlat,
		"AWSLogs/1/WAFLogs/r/acl/":                                                               modeLayout,
		"AWSLogs/1/WAFLogs/r/acl/2026/01/":                                                       modeDate,
		"AWSLogs/1/a/b/c/d/e/":                                                                   modeFlat,
	}
	for dir, want := range cases {
		if got := classify(dir, 0); got != want {
			t.Errorf("classify(%q) = %d; want %d", dir, got, want)
		}
	}
	if got := classify("a/b/", 2); got != modeFlat {
		t.Errorf("deep outside folder: %d; want flat", got)
	}
	w := oneDay
	for dir, want := range map[string]bool{
		"AWSLogs/1/CloudTrail/r/2025/":                                            false,
		"AWSLogs/1/CloudTrail/r/2026/":                                            true,
		"AWSLogs/1/CloudTrail/r/2026/02/":                                         false,
		"AWSLogs/1/CloudTrail/r/2026/01/":                                         true,
		"AWSLogs/1/CloudTrail/r/2026/01/03/":                                      false,
		"AWSLogs/aws-account-id=1/aws-service=s/aws-region=r/year=2025/":          false,
		"AWSLogs/aws-account-id=1/aws-service=s/aws-region=r/year=2026/month=01/": true,
		"AWSLogs/aws-account-id=1/aws-service=s/aws-region=r/year=2026/month=02/": false,
		"other/2025/": true, // not in AWS's layout: no guessing
	} {
		if got := mayContainDir(w, dir); got != want {
			t.Errorf("mayContainDir(%q) = %v; want %v", dir, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	refused := fmt.Errorf("operation error S3: ListObjectsV2, exceeded maximum number of attempts, 3: %w",
		&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")})
	if got := describe(refused, true).Error(); got != "dial tcp: connect: connection refused" {
		t.Errorf("network failure reads %q", got)
	}
	if err := describe(refused, true); !errors.Is(err, refused) {
		t.Error("the SDK's error is no longer reachable")
	}
}
