// Package secret holds Value, the type of configuration values that must never
// be shown: passwords, DSNs, access keys, webhook URLs with tokens. A Value
// prints, marshals and logs redacted; only Reveal gives it. In vigil.yaml a
// secret is written inline (with ${NAME} from the environment), as {env: NAME},
// as {file: PATH}, or through a sibling NAME_file key (see internal/config).
package secret

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Value is a value that must not be shown. It prints, marshals and logs as
// "[redacted]" (or "" when empty); Reveal returns it.
//
// In YAML a Value is a string, {env: NAME} or {file: PATH}; a file's content is
// used without its trailing newline.
type Value string

// Redacted is how a secret is shown.
const Redacted = "[redacted]"

// Reveal returns the secret.
func (s Value) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when the secret is empty.
func (s Value) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString redacts for %#v too.
func (s Value) GoString() string { return strconv.Quote(s.String()) }

// MarshalYAML writes "[redacted]".
func (s Value) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText writes "[redacted]" (JSON and other text encodings).
func (s Value) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue redacts in structured logs.
func (s Value) LogValue() slog.Value { return slog.StringValue(s.String()) }

// UnmarshalYAML reads a literal secret, {env: NAME} or {file: PATH}.
func (s *Value) UnmarshalYAML(n *yaml.Node) error {
	v, err := secretValue(n)
	if err != nil {
		return err
	}
	*s = Value(v)
	return nil
}

// secretValue reads a secret node: a scalar, {env: NAME} or {file: PATH}.
func secretValue(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == Redacted {
			return "", fmt.Errorf("line %d: %q is how a secret is printed, not a secret (give the value, ${NAME}, {env: NAME} or {file: PATH})", n.Line, Redacted)
		}
		return n.Value, nil
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return "", fmt.Errorf("line %d: a secret mapping has exactly one key, env or file", n.Line)
		}
		key, val := n.Content[0].Value, n.Content[1].Value
		switch key {
		case "env":
			v, ok := os.LookupEnv(val)
			if !ok {
				return "", fmt.Errorf("line %d: environment variable %s is not set", n.Line, val)
			}
			return v, nil
		case "file":
			v, err := readSecretFile(val)
			if err != nil {
				return "", fmt.Errorf("line %d: %w", n.Line, err)
			}
			return v, nil
		}
		return "", fmt.Errorf("line %d: unknown secret key %q (expected env or file)", n.Line, key)
	}
	return "", fmt.Errorf("line %d: expected a string, {env: NAME} or {file: PATH}", n.Line)
}

// ReadFile reads a secret from a file, without its trailing newline.
func ReadFile(path string) (string, error) { return readSecretFile(path) }

// readSecretFile reads a secret from a file, without its trailing newline.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
