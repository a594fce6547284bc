package secret_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/secret"
)

// TestRedacted: every way of printing a secret hides it.
func TestRedacted(t *testing.T) {
	s := secret.Value("hunter2")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "key", s)
	y, _ := yaml.Marshal(map[string]secret.Value{"k": s})
	j, _ := json.Marshal(map[string]secret.Value{"k": s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v", s, s, s), logs.String(), string(y), string(j)} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, secret.Redacted) {
			t.Errorf("%q shows the secret or no redaction", out)
		}
	}
	if s.Reveal() != "hunter2" || secret.Value("").String() != "" {
		t.Error("Reveal or the empty secret")
	}
}

// TestForms: inline, {env: NAME}, {file: PATH}; the redacted form, unknown
// keys and missing sources are errors naming the line.
func TestForms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	os.WriteFile(path, []byte("from-file\n"), 0o600)
	t.Setenv("SECRET_TEST_VAR", "from-env")
	for _, c := range []struct{ doc, want, err string }{
		{`k: inline`, "inline", ""},
		{`k: {env: SECRET_TEST_VAR}`, "from-env", ""},
		{"k: {file: " + path + "}", "from-file", ""},
		{`k: {env: NO_SUCH_SECRET_VAR}`, "", "line 1: environment variable NO_SUCH_SECRET_VAR is not set"},
		{`k: {file: /no/such}`, "", "read secret file"},
		{`k: {vault: x}`, "", "unknown secret key"},
		{`k: "[redacted]"`, "", "is how a secret is printed"},
		{`k: [a]`, "", "expected a string"},
	} {
		var v struct{ K secret.Value }
		err := yaml.Unmarshal([]byte(c.doc), &v)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.doc, err, c.err)
			}
			continue
		}
		if err != nil || v.K.Reveal() != c.want {
			t.Errorf("%s: %q, %v", c.doc, v.K.Reveal(), err)
		}
	}
}
