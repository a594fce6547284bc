package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/jsonscan"
	"github.com/vigil-dev/vigil/internal/record"
)

func FuzzCloudTrail(f *testing.F) {
	for _, s := range []string{
		awsFile, consoleLogin + "\n" + serviceCall, "[" + assumedRole + "]",
		`{"detail-type":"AWS API Call via CloudTrail","detail":` + serviceCall + `}`,
		`{"Events":[{"CloudTrailEvent":"{\"eventName\":\"x\",\"eventTime\":\"2021-01-01T00:00:00Z\"}"}]}`,
		`{"QueryResultRows":[[{"eventName":"x"},{"eventTime":"2023-01-05 13:51:00.000"},{"userIdentity":"{type=Root, arn=a, sessioncontext={attributes={mfaauthenticated=true}}}"}]]}`,
		`{"eventVersion":"1","eventTime":"2023-01-05T13:51:00Z","eventData":"{\"eventName\":\"y\"}"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(fuzzCloudTrail)
}

// fuzzCloudTrail decodes in and checks what comes out.
func fuzzCloudTrail(t *testing.T, in []byte) {
	{
		d := New(Config{MaxEventSize: 1 << 16, MaxDepth: 16})
		_, err := d.Decode(context.Background(), decode.Input{Name: "fuzz"}, iotest.HalfReader(bytes.NewReader(in)), func(b *decode.Batch) error {
			for i := range b.Calls {
				c := &b.Calls[i]
				if c.EventName == "" || !c.Present.Has(record.CallEventName) || !c.Present.Has(record.CallEventTime) {
					t.Fatalf("record without eventName/eventTime: %+v", c)
				}
				if !utf8.Valid(c.Raw) || len(c.Raw) == 0 {
					t.Fatalf("bad Raw %q", c.Raw)
				}
				for _, f := range record.APICallCatalogue.Fields {
					_ = c.Get(f.ID).String()
				}
				_ = c.Path("requestParameters.a.0.b")
			}
			return nil
		}, func(p decode.Problem) {
			if p.Reason == "" || p.Input != "fuzz" {
				t.Fatalf("bad problem %+v", p)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		var c record.APICall
		_ = ParseMessage(in, &c)
	}
}

// FuzzNeedles: passing over the events whose text cannot hold a field's
// text loses no event whose field holds it.
func FuzzNeedles(f *testing.F) {
	f.Add([]byte(consoleLogin+"\n"+serviceCall), "ConsoleLogin", uint8(0))
	f.Add([]byte(`{"eventTime":"2021-01-01T00:00:00Z","eventName":"Console\u004cogin"}`), "ConsoleLogin", uint8(3))
	f.Add([]byte(`{"Events":[{"CloudTrailEvent":"{\"eventName\":\"x\",\"eventTime\":\"2021-01-01T00:00:00Z\"}"}]}`), `"eventName":"x"`, uint8(30))
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail","detail":`+serviceCall+`}`), "amazonaws", uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, text string, pick uint8) {
		fields := record.APICallCatalogue.Fields
		fd := fields[int(pick)%len(fields)]
		proj := NewProjection()
		if !proj.Require(fd.Name, text) {
			return
		}
		matching := func(cfg Config) (n int) {
			d := New(cfg)
			_, _ = d.Decode(context.Background(), decode.Input{Name: "fuzz"}, bytes.NewReader(in), func(b *decode.Batch) error {
				for i := range b.Calls {
					if v := b.Calls[i].Get(fd.ID); v.Kind != record.Missing && strings.Contains(v.String(), text) {
						n++
					}
				}
				return nil
			}, nil)
			return n
		}
		cfg := Config{MaxEventSize: 1 << 16, MaxDepth: 16}
		all := matching(cfg)
		cfg.Project = proj
		if got := matching(cfg); got != all {
			t.Fatalf("%s like %q: %d events with the projection, %d without", fd.Name, text, got, all)
		}
	})
}

// FuzzFastParse: whenever the fast path accepts an event, encoding/json
// accepts it too and reads it the same way.
func FuzzFastParse(f *testing.F) {
	for _, s := range []string{
		consoleLogin, serviceCall, assumedRole,
		`{"eventName":"x","eventTime":"2021-01-01T00:00:00Z","readOnly":"true","managementEvent":null}`,
		`{"eventName":"x","EventName":"y"}`, `{"eventName":"a\"b"}`, `{"eventName":5}`, `{"readOnly":1}`,
		`{"userIdentity":null,"eventName":"x"}`, `{"userIdentity":"root"}`, `{"userIdentity":{"type":"Root"},"userIdentity":{"arn":"a"}}`,
		`{"userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":true},"sessionIssuer":null}}}`,
		`{"eventName":"x","requestParameters":{"policy":"{\"Version\":\"2012-10-17\"}","n":[1,2.5,-3e2]}}`,
		`{"eventName":"x","requestParameters":{"n":01}}`, `{"detail":{}}`, `{"eventName":"x"} x`, `{"eventName":"x",}`,
		`{"eventNam\u0065":"x"}`, ` { "eventName" : "x" } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !utf8.Valid(raw) || jsonscan.TooDeep(raw, 64) {
			return // parse rejects it before either path runs
		}
		var p parser
		var fast, slow wireEvent
		fast.reset()
		if !p.fastParse(raw, &fast) {
			return
		}
		slow.reset()
		if err := json.Unmarshal(raw, &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json did not: %v", raw, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", raw, fast, slow)
		}
	})
}
