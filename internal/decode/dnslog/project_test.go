package dnslog

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

// TestProjectionPassesOver: records whose text lacks a required text are
// passed over and counted; a record with an escape is decoded, and which
// fields can be judged at all.
func TestProjectionPassesOver(t *testing.T) {
	p := NewProjection()
	for field, want := range map[string]bool{
		"query_name": true, "rcode": true, "srcids.instance": true, "@message": true,
		"srcaddr": false, "srcport": false, "query_timestamp": false, "@timestamp": false,
		"@logStream": false, "answers.0.Rdata": false, "no_such_key": false,
	} {
		if got := NewProjection().Require(field, "x"); got != want {
			t.Errorf("Require(%s) = %v, want %v", field, got, want)
		}
	}
	if p.Require("query_name", "") || !p.Empty() {
		t.Error("an empty text is a needle")
	}
	p.Require("query_name", "evil.")
	in := strings.Join([]string{
		`{"query_timestamp":"2026-11-01T00:00:00Z","query_name":"evil.example.org."}`,
		`{"query_timestamp":"2026-11-01T00:00:00Z","query_name":"good.example.org."}`,
		`{"query_timestamp":"2026-11-01T00:00:00Z","query_name":"\u0065vil.example.org."}`,
		`{"query_timestamp":"2026-11-01T00:00:00Z","query_name":"good.example.org.","rcode":"evil."}`,
	}, "\n")
	d := New(Config{Project: p})
	var names []string
	st, err := d.Decode(context.Background(), decode.Input{Name: "t"}, strings.NewReader(in), func(b *decode.Batch) error {
		for i := range b.DNS {
			names = append(names, b.DNS[i].QueryName)
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The fourth record holds the text in another field: it is decoded, and
	// the query's filter turns it away.
	if want := "evil.example.org. evil.example.org. good.example.org."; strings.Join(names, " ") != want || st.Unread != 1 || st.Records != 3 {
		t.Errorf("decoded %q (%d), %d passed over; want %q, 1 passed over", names, st.Records, st.Unread, want)
	}
}

// FuzzNeedles: a record passed over never holds a value the filter keeps.
func FuzzNeedles(f *testing.F) {
	f.Add([]byte(awsExample), "example")
	f.Add([]byte(`{"query_timestamp":"2026-11-01T00:00:00Z","query_name":"\u0065vil."}`), "evil")
	f.Add([]byte(`{"query_timestamp":"2026-11-01T00:00:00Z","query_name":"a\"b."}`), `"b`)
	f.Add([]byte(`{"query_timestamp":"2026-11-01T00:00:00Z","QUERY_NAME":"x.","rcode":"N"}`), "x.")
	f.Fuzz(func(t *testing.T, raw []byte, text string) {
		var q record.DNSQuery
		if ParseMessage(raw, &q) != nil {
			return // a record passed over is not checked
		}
		for _, fd := range record.DNSCatalogue.Fields {
			p := NewProjection()
			if !p.Require(fd.Name, text) || p.MayMatch(raw) {
				continue
			}
			v := q.Get(fd.ID)
			if v.Kind != record.Missing && strings.Contains(v.String(), text) {
				t.Fatalf("%s = %q contains %q, but the record %q was passed over", fd.Name, v.String(), text, raw)
			}
			if fd.ID == record.DNSMessage && bytes.Contains(raw, []byte(text)) {
				t.Fatalf("@message holds %q, but the record %q was passed over", text, raw)
			}
		}
	})
}
