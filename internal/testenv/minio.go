package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The MinIO that scripts/test installs and tests run. MinIO publishes no tagged
// module versions any more, so this is a pseudo-version: the newest the module proxy
// serves (its @latest), checked to build with our Go. Change it together with
// MINIO_VERSION in scripts/test (a test checks they agree).
const (
	MinIOModule  = "github.com/minio/minio"
	MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"
)

// MinIOInstall is the command that installs the pinned MinIO where tests find it.
const MinIOInstall = "go install " + MinIOModule + "@" + MinIOVersion

// MinIOServer is a MinIO server running for one test.
type MinIOServer struct {
	// Endpoint is the server's URL, http://127.0.0.1:port.
	Endpoint string
	// AccessKey and SecretKey are the root credentials, random for each server.
	AccessKey, SecretKey string
	// Region is the region the server answers for.
	Region string

	cfg    aws.Config
	client *s3.Client
}

// MinIOOptions configure StartMinIO.
type MinIOOptions struct {
	// Region makes the server belong to a region (MINIO_SITE_REGION), so that it
	// refuses requests signed for another one as AWS does. Empty means us-east-1,
	// where MinIO accepts any signing region.
	Region string
}

// MinIO starts a MinIO server for the test and stops it when the test ends. It
// skips the test (fails it under CI) when MinIO is not installed.
func MinIO(t testing.TB) *MinIOServer {
	t.Helper()
	return StartMinIO(t, MinIOOptions{})
}

// StartMinIO is MinIO with options.
func StartMinIO(t testing.TB, opts MinIOOptions) *MinIOServer {
	t.Helper()
	bin := findBinary(t, "minio", "VIGIL_MINIO", MinIOInstall)
	s := &MinIOServer{
		AccessKey: "vigil-" + randomHex(t, 6),
		SecretKey: randomHex(t, 16),
		Region:    opts.Region,
	}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	// The free port is found by binding and releasing it, so another process can
	// take it before MinIO does; try a few ports before giving up.
	var err error
	for range 3 {
		if err = s.start(t, bin, opts); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("start MinIO: %v", err)
	}
	s.cfg = aws.Config{
		Region:      s.Region,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	}
	s.client = s3.NewFromConfig(s.cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
		o.UsePathStyle = true
	})
	return s
}

// start runs the server on a free port and waits until it is ready.
func (s *MinIOServer) start(t testing.TB, bin string, opts MinIOOptions) error {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	home := t.TempDir()
	data := filepath.Join(home, "data")
	logPath := filepath.Join(home, "minio.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own copy

	cmd := exec.Command(bin, "server", "--address", addr, "--certs-dir", filepath.Join(home, "certs"), "--quiet", "--anonymous", data)
	// A clean environment: no MINIO_* settings of the developer's leak in, and
	// HOME is the test's, for whatever MinIO writes there.
	cmd.Env = []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + home,
		"MINIO_ROOT_USER=" + s.AccessKey,
		"MINIO_ROOT_PASSWORD=" + s.SecretKey,
		"MINIO_BROWSER=off", // no web console, no second port
		"MINIO_UPDATE=off",  // never look for updates
		"MINIO_CI_CD=on",    // accept a data folder on the root disk
	}
	if opts.Region != "" {
		cmd.Env = append(cmd.Env, "MINIO_SITE_REGION="+opts.Region)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	s.Endpoint = "http://" + addr
	if err := waitReady(s.Endpoint+"/minio/health/live", exited, 30*time.Second); err != nil {
		stop()
		return fmt.Errorf("%w\n%s", err, tail(logPath))
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("MinIO log:\n%s", tail(logPath))
		}
	})
	return nil
}

// waitReady polls MinIO's liveness endpoint until it answers 200, the process
// exits, or the timeout passes.
func waitReady(url string, exited <-chan error, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("MinIO exited before it was ready: %v", err)
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("MinIO not ready after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of a log file, for failure messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Client returns an S3 client with the root credentials, for setting up and
// inspecting what a test needs.
func (s *MinIOServer) Client() *s3.Client { return s.client }

// Credentials returns the root credentials.
func (s *MinIOServer) Credentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey, Source: "testenv"}
}

// MakeBucket creates a bucket.
func (s *MinIOServer) MakeBucket(t testing.TB, name string) {
	t.Helper()
	in := &s3.CreateBucketInput{Bucket: &name}
	if s.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.Region),
		}
	}
	if _, err := s.client.CreateBucket(context.Background(), in); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// Put stores data at bucket/key.
func (s *MinIOServer) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	_, err := s.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

// PutAll stores every object of files (key → bytes) in bucket, several at a time.
func (s *MinIOServer) PutAll(t testing.TB, bucket string, files map[string][]byte) {
	t.Helper()
	keys := make(chan string)
	errs := make(chan error, len(files))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for key := range keys {
				_, err := s.client.PutObject(context.Background(), &s3.PutObjectInput{
					Bucket: &bucket, Key: &key, Body: bytes.NewReader(files[key]), ContentLength: aws.Int64(int64(len(files[key]))),
				})
				if err != nil {
					errs <- fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
				}
			}
		})
	}
	for key := range files {
		keys <- key
	}
	close(keys)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Delete removes bucket/key.
func (s *MinIOServer) Delete(t testing.TB, bucket, key string) {
	t.Helper()
	if _, err := s.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
		t.Fatalf("delete s3://%s/%s: %v", bucket, key, err)
	}
}

// AssumeRole returns temporary credentials of the root user restricted by an IAM
// session policy (JSON, at most 2048 bytes): MinIO's way, through its STS API, to
// get credentials that a policy denies things to without its admin API.
func (s *MinIOServer) AssumeRole(t testing.TB, policy string) aws.Credentials {
	t.Helper()
	client := sts.NewFromConfig(s.cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.Endpoint) })
	out, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:minio:iam:::role/vigil-test"), // required by the SDK, unused by MinIO
		RoleSessionName: aws.String("vigil-test"),
		Policy:          aws.String(policy),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatalf("MinIO AssumeRole: %v", err)
	}
	c := out.Credentials
	if c == nil {
		t.Fatal("MinIO AssumeRole returned no credentials")
	}
	return aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Source:          "testenv",
	}
}

// IsolateAWS clears the AWS settings of the machine the test runs on for the rest
// of the test — every AWS_* variable, the shared config and credentials files, and
// instance metadata — so that the standard credential chain sees only what the test
// sets, and never reaches for a real account.
func IsolateAWS(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "") // restores the value when the test ends
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// SetCredentialsEnv puts credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN for the rest of the test, where the standard chain finds them.
func SetCredentialsEnv(t testing.TB, c aws.Credentials) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", c.SessionToken)
	if c.SessionToken == "" {
		if err := os.Unsetenv("AWS_SESSION_TOKEN"); err != nil {
			t.Fatal(err)
		}
	}
}
