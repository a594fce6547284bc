package config_test

import (
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/ingest/s3"
)

// TestAPIS3: api.s3, the S3 client of the API's s3:// list locations and
// query sources, parses into api.Config.S3, strictly, next to the API's
// defaults.
func TestAPIS3(t *testing.T) {
	cfg, err := config.Parse([]byte("api:\n  s3:\n    endpoint: http://127.0.0.1:9000\n    region: eu-west-1\n    profile: audit\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := s3.Config{Endpoint: "http://127.0.0.1:9000", Region: "eu-west-1", Profile: "audit"}
	if cfg.API == nil || cfg.API.S3 != want || cfg.API.Listen != "127.0.0.1:8080" {
		t.Fatalf("api = %+v, want s3 %+v and the default listen", cfg.API, want)
	}
	cfg, err = config.Parse([]byte("api:\n  listen: 127.0.0.1:8081\n"), env(nil))
	if err != nil || cfg.API.S3 != (s3.Config{}) {
		t.Errorf("no api.s3: %+v %v", cfg.API, err)
	}
	_, err = config.Parse([]byte("api:\n  s3:\n    bucket: logs\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "api.s3.bucket (line 3): unknown key") {
		t.Errorf("unknown key under api.s3: %v", err)
	}
}
