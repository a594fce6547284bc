package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/secret"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

var exampleEnv = env(map[string]string{
	"FIREHOSE_ACCESS_KEY": "fh-key-123",
	"SLACK_WEBHOOK_URL":   "https://hooks.slack.com/services/T000/B000/XXXX",
	"SOAR_SIGNING_KEY":    "soar-key",
})

// TestExampleLoads: docs/vigil.example.yaml is a valid configuration, and what
// it says arrives in the Config.
func TestExampleLoads(t *testing.T) {
	data, err := os.ReadFile("../../docs/vigil.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"FIREHOSE_ACCESS_KEY": "fh-key-123", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXX", "SOAR_SIGNING_KEY": "soar-key"} {
		t.Setenv(k, v)
	}
	cfg, err := config.Parse(data, exampleEnv)
	if err != nil {
		t.Fatalf("the example does not load:\n%v", err)
	}
	if len(cfg.Sources) != 3 || cfg.Sources[0].Kind() != "watch" || cfg.Sources[1].Kind() != "s3" || cfg.Sources[2].Kind() != "firehose" {
		t.Fatalf("sources = %+v", cfg.Sources)
	}
	if got := cfg.Sources[2].Firehose.AccessKey.Reveal(); got != "fh-key-123" {
		t.Errorf("firehose access key = %q", got)
	}
	if cfg.Sources[0].Watch.PollInterval != 100*time.Millisecond {
		t.Errorf("watch poll_interval not defaulted: %s", cfg.Sources[0].Watch.PollInterval)
	}
	if cfg.Store.SQLite.Path != "/var/lib/vigil/vigil.db" {
		t.Errorf("${VIGIL_DATA:-…} gave %q", cfg.Store.SQLite.Path)
	}
	if cfg.API == nil || cfg.API.Listen != "127.0.0.1:8080" || cfg.API.DetectorID != "default" {
		t.Errorf("api = %+v", cfg.API)
	}
	if cfg.Respond == nil || !cfg.Respond.DryRun || cfg.Respond.DefaultTTL != 4*time.Hour {
		t.Errorf("respond = %+v", cfg.Respond)
	}
	if len(cfg.Exports) != 1 || cfg.Exports[0].MaxFindingsPerObject != 1000 {
		t.Errorf("exports not defaulted: %+v", cfg.Exports)
	}
	out, err := config.Print(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"fh-key-123", "hooks.slack.com/services", "soar-key"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("the printed configuration shows a secret (%s):\n%s", leak, out)
		}
	}
	if !strings.Contains(string(out), secret.Redacted) || !strings.Contains(string(out), "commit_interval: 200ms") {
		t.Errorf("printed configuration lacks redaction or readable durations:\n%s", out)
	}
	// What is printed loads again (secrets aside, which print redacted).
	if _, err := config.Parse(out, exampleEnv); err == nil || !strings.Contains(err.Error(), "redacted") {
		t.Errorf("reloading the printed form: %v, want an error about redacted secrets", err)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	cfg, err := config.Parse(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	def := config.DefaultConfig()
	if cfg.Store.Driver != "sqlite" || cfg.Pipeline != def.Pipeline || cfg.API != nil || len(cfg.Sources) != 0 {
		t.Errorf("empty file: %+v", cfg)
	}
}

// TestErrors: each bad file gets errors naming the key path (and line) and
// what was expected; all problems of a file are reported.
func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown key with suggestion", "sources:\n  - name: a\n    watch:\n      pth: /x\n", []string{"sources[0].watch.pth (line 4): unknown key; did you mean path?"}},
		{"unknown section", "sorces: []\n", []string{"sorces (line 1): unknown key; did you mean sources?"}},
		{"unknown key listed", "log:\n  colour: red\n", []string{"log.colour (line 2): unknown key; expected one of format, level"}},
		{"several problems", "log:\n  format: xml\n  level: loud\npipeline:\n  commit_interval: 1h\n", []string{
			`log.format: "xml" is not text or json`, `log.level: "loud"`, "pipeline.commit_interval"}},
		{"wrong type", "detect:\n  max_keys: many\n", []string{"detect.max_keys (line 2)", "cannot unmarshal"}},
		{"bad duration", "pipeline:\n  commit_interval: soon\n", []string{"pipeline.commit_interval (line 2)"}},
		{"unset variable", "store:\n  sqlite:\n    path: ${NO_SUCH_VAR}/x.db\n", []string{"store.sqlite.path (line 3): environment variable NO_SUCH_VAR is not set"}},
		{"source without kind", "sources:\n  - name: a\n", []string{"sources[0]: give exactly one of watch, s3, firehose or stdin"}},
		{"two kinds", "sources:\n  - name: a\n    stdin:\n    watch: {path: /x}\n", []string{"sources[0]: give exactly one"}},
		{"duplicate source", "sources:\n  - name: a\n    stdin: {}\n  - name: a\n    stdin: {}\n", []string{`sources[1].name: "a" is used by another source`}},
		{"component validation", "sources:\n  - name: a\n    watch: {path: /x, start_at: middle}\n", []string{`sources[0].watch.start_at: "middle" is not beginning or end`}},
		{"firehose without key", "sources:\n  - name: a\n    firehose: {listen: ':9000'}\n", []string{"sources[0].firehose.access_key: required"}},
		{"api validation", "api:\n  tls_cert: a.pem\n", []string{"api: set both tls_cert and tls_key"}},
		{"notify validation", "notify:\n  destinations:\n    - name: x\n", []string{"notify.destinations[0].name"}},
		{"respond validation", "respond:\n  default_ttl: -1s\n", []string{"respond.default_ttl: must be positive"}},
		{"bad list type", "detect:\n  threat_lists:\n    - path: x.txt\n      finding_type: Nope:EC2/Nothing\n", []string{`detect.threat_lists[0].finding_type: "Nope:EC2/Nothing"`}},
		{"key twice", "log:\n  level: info\n  level: debug\n", []string{"log.level"}},
		{"not a mapping", "- a\n- b\n", []string{"line 1: expected a mapping"}},
		{"not yaml", "log: [\n", []string{"not YAML"}},
		{"secret file and value", "sources:\n  - name: a\n    firehose:\n      access_key: x\n      access_key_file: /nope\n", []string{"give access_key or access_key_file, not both"}},
		{"secret file missing", "sources:\n  - name: a\n    firehose:\n      access_key_file: /no/such/file\n", []string{"sources[0].firehose.access_key_file (line 4): read secret file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse([]byte(c.yaml), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// TestSecrets: a secret from a variable, a file (NAME_file and {file: …}) and
// {env: …}; all redacted when printed.
func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DSN_FOR_TEST", "postgres://u:pw@db/vigil")
	doc := `
store:
  driver: postgres
  postgres:
    dsn: {env: DSN_FOR_TEST}
sources:
  - name: a
    firehose:
      access_key_file: ` + keyFile + `
  - name: b
    firehose:
      listen: ":8444"
      access_key: "${KEY}"
  - name: c
    firehose:
      listen: ":8445"
      access_key: {file: ` + keyFile + `}
`
	cfg, err := config.Parse([]byte(doc), env(map[string]string{"KEY": "from-the-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sources[0].Firehose.AccessKey.Reveal(); got != "from-a-file" {
		t.Errorf("access_key_file gave %q", got)
	}
	if got := cfg.Sources[1].Firehose.AccessKey.Reveal(); got != "from-the-env" {
		t.Errorf("${KEY} gave %q", got)
	}
	if got := cfg.Sources[2].Firehose.AccessKey.Reveal(); got != "from-a-file" {
		t.Errorf("{file: …} gave %q", got)
	}
	if got := cfg.Store.Postgres.DSN.Reveal(); got != "postgres://u:pw@db/vigil" {
		t.Errorf("{env: …} gave %q", got)
	}
	out, _ := config.Print(cfg)
	for _, leak := range []string{"from-a-file", "from-the-env", "pw@db"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("printed configuration shows %q", leak)
		}
	}
}

// TestVariables: typed values from variables, defaults, and the $${ escape.
func TestVariables(t *testing.T) {
	doc := "detect:\n  max_keys: ${KEYS}\n  region: \"$${literal}\"\nstore:\n  sqlite:\n    path: ${DIR:-/tmp}/v.db\n"
	cfg, err := config.Parse([]byte(doc), env(map[string]string{"KEYS": "5000"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Detect.MaxKeys != 5000 || cfg.Detect.Region != "${literal}" || cfg.Store.SQLite.Path != "/tmp/v.db" {
		t.Errorf("got max_keys %d, region %q, path %q", cfg.Detect.MaxKeys, cfg.Detect.Region, cfg.Store.SQLite.Path)
	}
}

// FuzzParse: no document makes the loader panic.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../docs/vigil.example.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("sources:\n  - name: a\n    watch: {path: ${X}}\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data, env(map[string]string{"X": "/tmp"}))
		if err == nil && cfg == nil {
			t.Fatal("no configuration and no error")
		}
	})
}
