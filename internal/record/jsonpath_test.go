package record

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// referenceJSONPath is the straightforward implementation JSONPath replaced:
// decode the whole document, then walk maps and slices. It defines the semantics
// JSONPath must keep.
func referenceJSONPath(raw []byte, path string) Value {
	if len(raw) == 0 || path == "" {
		return Value{}
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return Value{}
	}
	return referenceWalk(v, path)
}

func referenceWalk(v any, path string) Value {
	if path == "" {
		switch x := v.(type) {
		case string:
			return StringValue(x)
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return IntValue(n)
			}
			if f, err := x.Float64(); err == nil {
				return FloatValue(f)
			}
			return StringValue(x.String())
		case bool:
			return StringValue(strconv.FormatBool(x))
		}
		return Value{}
	}
	switch x := v.(type) {
	case map[string]any:
		best := -1
		var bestVal any
		for k, child := range x {
			if k == path || strings.HasPrefix(path, k+".") {
				if len(k) > best {
					best, bestVal = len(k), child
				}
			}
		}
		if best < 0 {
			return Value{}
		}
		if best == len(path) {
			return referenceWalk(bestVal, "")
		}
		return referenceWalk(bestVal, path[best+1:])
	case []any:
		idx, rest, _ := strings.Cut(path, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 || n >= len(x) {
			return Value{}
		}
		return referenceWalk(x[n], rest)
	}
	return Value{}
}

const pathDoc = `{"eventName":"PutBucketPolicy","readOnly":false,"ok":true,"requestParameters":{"bucketName":"b1","policy":{"Statement":[{"Effect":"Allow"},{"Effect":"Deny","Sid":"x\"y\u00e9"}]}},"resources":[{"ARN":"arn:aws:s3:::b1"}],"tags":{"team":"x","team.name":"sec","team.name.full":"security"},"n":42,"neg":-7,"f":2.5,"e":1e3,"big":123456789012345678901234567890,"nul":null,"empty":"","dup":1,"dup":2,"sp" : [ 1 , [ 2 , { "k" : "v" } ] ] }`

func TestJSONPathMatchesReference(t *testing.T) {
	paths := []string{"eventName", "readOnly", "ok", "requestParameters.bucketName", "requestParameters.policy.Statement.1.Sid",
		"requestParameters.policy.Statement.0.Effect", "requestParameters.policy.Statement.2.Effect", "resources.0.ARN",
		"tags.team", "tags.team.name", "tags.team.name.full", "tags.team.nam", "n", "neg", "f", "e", "big", "nul", "empty",
		"dup", "sp.1.1.k", "sp.0", "sp.1.0", "sp.-1", "sp.x", "requestParameters", "missing", "eventName.x", "n.0", "sp.01"}
	for _, p := range paths {
		got, want := JSONPath([]byte(pathDoc), p), referenceJSONPath([]byte(pathDoc), p)
		if got != want {
			t.Errorf("JSONPath(%q) = %#v; reference %#v", p, got, want)
		}
	}
	if v := JSONPath([]byte(pathDoc), "requestParameters.policy.Statement.1.Sid"); v.Str != `x"yé` {
		t.Errorf("escaped string = %q", v.Str)
	}
	if v := JSONPath([]byte(pathDoc), "dup"); v.Int != 2 {
		t.Errorf("repeated key: %#v; the last one wins", v)
	}
}

// BenchmarkJSONPath looks up two paths in a CloudTrail event, as a detection does.
func BenchmarkJSONPath(b *testing.B) {
	ev := []byte(`{"eventVersion":"1.10","userIdentity":{"type":"IAMUser","principalId":"AIDA","arn":"arn:aws:iam::1:user/a","accountId":"1","accessKeyId":"AKIA","userName":"a"},"eventTime":"2024-07-31T13:06:24Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","sourceIPAddress":"86.245.153.234","userAgent":"stratus-red-team_c97089f1","requestParameters":{"instancesSet":{"items":[{"imageId":"ami-1","minCount":1,"maxCount":10}]},"instanceType":"p2.xlarge","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false,"clientToken":"x","tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"Name","value":"x"}]}]}},"responseElements":null,"requestID":"r","eventID":"e","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"1","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"ec2.us-east-1.amazonaws.com"}}`)
	b.ReportAllocs()
	for range b.N {
		if JSONPath(ev, "requestParameters.instanceType").Str != "p2.xlarge" || JSONPath(ev, "tlsDetails.tlsVersion").IsMissing() {
			b.Fatal("wrong")
		}
	}
}

func FuzzJSONPath(f *testing.F) {
	f.Add([]byte(pathDoc), "requestParameters.policy.Statement.1.Sid")
	f.Add([]byte(`[1,{"a.b":{"c":"d"}}]`), "1.a.b.c")
	f.Add([]byte(`{"a":"\ud800"}`), "a")
	f.Fuzz(func(t *testing.T, raw []byte, path string) {
		got := JSONPath(raw, path) // must not panic, whatever raw is
		if !json.Valid(raw) || !utf8.Valid(raw) {
			return
		}
		want := referenceJSONPath(raw, path)
		if got.Kind == Float && want.Kind == Float && got.F != got.F && want.F != want.F {
			return // NaN
		}
		if got != want {
			t.Fatalf("JSONPath(%q, %q) = %#v; reference %#v", raw, path, got, want)
		}
	})
}
