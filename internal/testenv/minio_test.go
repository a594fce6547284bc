package testenv

import (
	"context"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The version tests expect must be the one scripts/test installs.
func TestMinIOVersionMatchesScript(t *testing.T) {
	script, err := os.ReadFile("../../scripts/test")
	if err != nil {
		t.Fatal(err)
	}
	if want := "MINIO_VERSION=" + MinIOVersion; !strings.Contains(string(script), want) {
		t.Errorf("scripts/test does not set %s", want)
	}
}

func TestMinIO(t *testing.T) {
	srv := MinIO(t)
	u, err := url.Parse(srv.Endpoint)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("endpoint %q is not on the loopback address", srv.Endpoint)
	}
	srv.MakeBucket(t, "bkt")
	srv.Put(t, "bkt", "dir/key.txt", []byte("hello\n"))
	out, err := srv.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: strPtr("bkt"), Key: strPtr("dir/key.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "hello\n" {
		t.Errorf("got %q", body)
	}
	srv.Delete(t, "bkt", "dir/key.txt")
	if _, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: strPtr("bkt"), Key: strPtr("dir/key.txt")}); err == nil {
		t.Error("object still there after Delete")
	}
}

func strPtr(s string) *string { return &s }
