package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWindowMayContain(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	w := Window{Since: day("2026-11-02T10:00:00Z"), Until: day("2026-11-02T12:00:00Z")}
	cases := map[string]bool{
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/02/":                                                                 true,
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/01/":                                                                 false,
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/03/":                                                                 false,
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/02/123456789012_vpcflowlogs_us-east-1_fl-1_20261102T1105Z_ab.log.gz": true,
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/02/123456789012_vpcflowlogs_us-east-1_fl-1_20261102T0500Z_ab.log.gz": false,
		// within the hour of slack after the window: records may be delivered late
		"x/123456789012_vpcflowlogs_us-east-1_fl-1_20261102T1230Z_ab.log.gz":                                       true,
		"x/123456789012_vpcflowlogs_us-east-1_fl-1_20261102T1400Z_ab.log.gz":                                       false,
		"AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=01/":         false,
		"AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=02/hour=11/": true,
		"AWSLogs/1/vpcflowlogs/us-east-1/2026/11/02/03/":                                                           false,
		"flows.log":          true, // no date: may hold anything
		"backup/2026/13/45/": true, // not a date
	}
	for key, want := range cases {
		if got := w.MayContain(key); got != want {
			t.Errorf("MayContain(%q) = %v; want %v", key, got, want)
		}
	}
	if !(Window{}).MayContain("AWSLogs/1/vpcflowlogs/us-east-1/1999/01/01/") {
		t.Error("an open window must contain everything")
	}
}

func TestListFolderGlobAndErrors(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b/2.log", "a/1.log.gz", ".hidden/x.log", "a/.dot.log", "c.log"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("x\n"), 0o644)
	}
	var got []string
	err := List(context.Background(), dir, Window{}, nil, func(o Object) error {
		rel, _ := filepath.Rel(dir, o.Name)
		got = append(got, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a/1.log.gz b/2.log c.log"; strings.Join(got, " ") != want {
		t.Errorf("folder listing = %v; want %s", got, want)
	}
	got = nil
	List(context.Background(), filepath.Join(dir, "*", "*.log"), Window{}, nil, func(o Object) error {
		got = append(got, filepath.Base(o.Name))
		return nil
	})
	if strings.Join(got, " ") != "2.log" {
		t.Errorf("glob = %v", got)
	}
	err = List(context.Background(), filepath.Join(dir, "nope"), Window{}, nil, func(Object) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "nope: no such file or directory") {
		t.Errorf("missing path: err = %v", err)
	}
	err = List(context.Background(), filepath.Join(dir, "*.none"), Window{}, nil, func(Object) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "no files match") {
		t.Errorf("empty glob: err = %v", err)
	}
}

func TestDecompress(t *testing.T) {
	var gz bytes.Buffer
	for _, part := range []string{"hello ", "world\n"} { // two gzip members
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(part))
		zw.Close()
	}
	for name, in := range map[string][]byte{"gzip": gz.Bytes(), "plain": []byte("hello world\n")} {
		r, err := Decompress(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := io.ReadAll(r)
		if err != nil || string(out) != "hello world\n" {
			t.Errorf("%s: %q, %v", name, out, err)
		}
	}
	r, err := Decompress(bytes.NewReader(gz.Bytes()[:15])) // inside the first member
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil {
		t.Error("truncated gzip read without error")
	}
	if r, err := Decompress(bytes.NewReader(nil)); err != nil {
		t.Errorf("empty input: %v", err)
	} else if b, _ := io.ReadAll(r); len(b) != 0 {
		t.Errorf("empty input gave %q", b)
	}
}
