package exec_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/exec"
	"github.com/vigil-dev/vigil/internal/query/plan"
	"github.com/vigil-dev/vigil/internal/query/querytest"
)

// fuzzInputs are a few records of each kind, as log text.
var fuzzInputs = []struct {
	format auto.Format
	text   string
}{
	{auto.VPCFlow, `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789012 eni-1 10.10.3.17 10.10.2.68 40000 22 6 3 180 1793491200 1793491260 ACCEPT OK
2 123456789012 eni-1 10.10.3.18 2001:db8::1 40001 443 6 3 9000000000000000000 1793491210 1793491260 REJECT OK
2 123456789012 eni-2 - - - - - - - 1793491300 1793491360 - NODATA
`},
	{auto.DNSLog, `{"version":"1.100000","account_id":"1","region":"us-east-1","vpc_id":"vpc-1","query_timestamp":"2026-11-01T00:00:00Z","query_name":"a.example.com.","query_type":"TXT","query_class":"IN","rcode":"NXDOMAIN","answers":[{"Rdata":"x","Type":"TXT","Class":"IN"}],"srcaddr":"10.0.0.1","srcport":"53","transport":"UDP","srcids":{"instance":"i-1"}}
`},
	{auto.CloudTrail, `{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"eventTime":"2026-11-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","requestParameters":{"userName":"m","policyDocument":"{\"a\":[1,2]}"},"responseElements":null,"readOnly":false,"errorMessage":"user=a, x=1"}
`},
}

func fuzzSource(ctx context.Context, emit func(int, *decode.Batch) error) error {
	for i, in := range fuzzInputs {
		cfg := auto.DefaultConfig()
		cfg.Format = in.format
		if _, err := auto.New(cfg).Decode(ctx, decode.Input{Name: "fuzz"}, strings.NewReader(in.text),
			func(b *decode.Batch) error { return emit(i%2, b) }, nil); err != nil {
			return err
		}
	}
	return nil
}

// FuzzQuery checks that no query — whatever Parse accepts — makes Check,
// plan.Build, Explain or Run panic, over a few records of every kind.
func FuzzQuery(f *testing.F) {
	files, _ := filepath.Glob("../testdata/qtest/*.qtest")
	for _, file := range files {
		cases, err := querytest.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			f.Add(c.Query)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		chk, _, err := query.ParseAndCheck(src, nil)
		if err != nil {
			return
		}
		p, err := plan.Build(chk, plan.Options{Since: time.Unix(0, 0)})
		if err != nil {
			return
		}
		_ = p.Explain()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := exec.Run(ctx, p, fuzzSource, exec.Options{Workers: 2, MaxGroups: 1000})
		if err != nil {
			return
		}
		for _, row := range res.Rows {
			if len(row) != len(res.Columns) {
				t.Fatalf("a row of %d values for %d columns", len(row), len(res.Columns))
			}
			for _, v := range row {
				_ = query.FormatValue(v)
			}
		}
	})
}
