package sqlstore

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/vigil-dev/vigil/internal/store"
)

// Page tokens are keyset positions: the sort value and ID of the last finding of
// a page. They are signed (HMAC-SHA256, truncated to 128 bits) with a random key
// kept in the database, so a token survives restarts and works on every node of a
// cluster, while an altered or foreign token is rejected instead of silently
// listing from somewhere else. A token also carries a digest of the query it was
// issued for, so that it cannot continue a different query.

// TokenKeyName is the store_meta key of the token signing key.
const TokenKeyName = "page_token_key"

// NewTokenKey returns a fresh signing key.
func NewTokenKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("crypto/rand: " + err.Error()) // rand.Read does not fail on supported platforms
	}
	return k
}

// Tokens signs and verifies page tokens with one key.
type Tokens struct{ key []byte }

// NewTokens returns Tokens with key.
func NewTokens(key []byte) *Tokens { return &Tokens{key: key} }

const macLen = 16

type tokenPayload struct {
	Query string `json:"q"`
	Value string `json:"v"`
	ID    string `json:"i"`
}

// Sign returns the token continuing after (v, id) in the query of digest qh.
func (t *Tokens) Sign(qh [8]byte, kind store.Kind, v any, id string) (store.PageToken, error) {
	sv, err := formatValue(kind, v)
	if err != nil {
		return "", fmt.Errorf("page token: %w", err)
	}
	payload, err := json.Marshal(tokenPayload{Query: base64.RawURLEncoding.EncodeToString(qh[:]), Value: sv, ID: id})
	if err != nil {
		return "", fmt.Errorf("page token: %w", err)
	}
	m := hmac.New(sha256.New, t.key)
	m.Write(payload)
	raw := append(m.Sum(nil)[:macLen], payload...)
	return store.PageToken(base64.RawURLEncoding.EncodeToString(raw)), nil
}

// Verify checks tok and returns the position it holds. Errors wrap
// store.ErrInvalidToken.
func (t *Tokens) Verify(tok store.PageToken, qh [8]byte, kind store.Kind) (any, string, error) {
	// Strict: a token has one spelling, so no altered character goes unnoticed.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(string(tok))
	if err != nil || len(raw) <= macLen {
		return nil, "", fmt.Errorf("%w: malformed", store.ErrInvalidToken)
	}
	m := hmac.New(sha256.New, t.key)
	m.Write(raw[macLen:])
	if !hmac.Equal(m.Sum(nil)[:macLen], raw[:macLen]) {
		return nil, "", fmt.Errorf("%w: not issued by this store, or altered", store.ErrInvalidToken)
	}
	var p tokenPayload
	if err := json.Unmarshal(raw[macLen:], &p); err != nil {
		return nil, "", fmt.Errorf("%w: malformed", store.ErrInvalidToken)
	}
	if p.Query != base64.RawURLEncoding.EncodeToString(qh[:]) {
		return nil, "", fmt.Errorf("%w: issued for other criteria or another sort", store.ErrInvalidToken)
	}
	v, err := parseTokenValue(kind, p.Value)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", store.ErrInvalidToken, err)
	}
	return v, p.ID, nil
}

// formatValue writes a sort column value as read from either database (SQLite
// returns booleans as integers) in the token's text form.
func formatValue(kind store.Kind, v any) (string, error) {
	switch kind {
	case store.KindString:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case store.KindNumber:
		switch x := v.(type) {
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case int64:
			return strconv.FormatFloat(float64(x), 'g', -1, 64), nil
		}
	case store.KindInt, store.KindTime:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case int32:
			return strconv.FormatInt(int64(x), 10), nil
		}
	case store.KindBool:
		switch x := v.(type) {
		case bool:
			return strconv.FormatBool(x), nil
		case int64:
			return strconv.FormatBool(x != 0), nil
		}
	}
	return "", fmt.Errorf("sort value %v (%T) is not a %s", v, v, kind)
}

func parseTokenValue(kind store.Kind, s string) (any, error) {
	switch kind {
	case store.KindString:
		return s, nil
	case store.KindNumber:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) {
			return nil, fmt.Errorf("bad number %q", s)
		}
		return f, nil
	case store.KindInt, store.KindTime:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", s)
		}
		return n, nil
	case store.KindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("bad boolean %q", s)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown kind")
}

// queryHash digests the terms and sort of a List: equal queries, equal digests.
func queryHash(terms []store.Term, s store.Sort) [8]byte {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	put := func(s string) {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	put(s.Attribute)
	put(string(s.Order))
	for _, t := range terms {
		put(t.Attribute)
		put(strconv.Itoa(int(t.Op)))
		put(strconv.Itoa(len(t.Values)))
		for _, v := range t.Values {
			sv, _ := formatValue(t.Kind, v)
			put(sv)
		}
	}
	var out [8]byte
	copy(out[:], h.Sum(nil))
	return out
}
