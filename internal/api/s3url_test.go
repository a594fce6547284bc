package api

import (
	"net/url"
	"testing"
)

// TestAWSS3Object: the https forms of an S3 object GuardDuty accepts as a
// list location name the object; other URLs do not.
func TestAWSS3Object(t *testing.T) {
	for loc, want := range map[string]string{
		"https://s3.amazonaws.com/my-bucket/lists/bad.txt":                 "s3://my-bucket/lists/bad.txt",
		"https://s3-eu-west-1.amazonaws.com/my-bucket/bad.txt":             "s3://my-bucket/bad.txt",
		"https://s3.eu-west-1.amazonaws.com/my-bucket/a/b%20c.txt":         "s3://my-bucket/a/b c.txt",
		"https://my-bucket.s3.amazonaws.com/lists/bad.txt":                 "s3://my-bucket/lists/bad.txt",
		"http://my-bucket.s3-us-west-2.amazonaws.com/bad.txt":              "s3://my-bucket/bad.txt",
		"https://my.dotted.bucket.s3.us-west-2.amazonaws.com/x/Bad.TXT":    "s3://my.dotted.bucket/x/Bad.TXT",
		"https://S3.AMAZONAWS.COM/my-bucket/bad.txt":                       "s3://my-bucket/bad.txt",
		"https://s3.amazonaws.com/my-bucket/":                              "",
		"https://s3.amazonaws.com/my-bucket":                               "",
		"https://my-bucket.s3.amazonaws.com/":                              "",
		"https://s3.amazonaws.com:8443/my-bucket/bad.txt":                  "",
		"https://example.com/my-bucket/bad.txt":                            "",
		"https://s3.amazonaws.com.evil.example/my-bucket/bad.txt":          "",
		"https://ec2.amazonaws.com/my-bucket/bad.txt":                      "",
		"https://s3.dualstack.us-east-1.amazonaws.com/my-bucket/bad.txt":   "",
		"https://feodotracker.abuse.ch/downloads/ipblocklist.csv":          "",
		"ftp://s3.amazonaws.com/my-bucket/bad.txt":                         "",
		"https://s3-.amazonaws.com/my-bucket/bad.txt":                      "",
		"https://my-bucket.s3.eu-west-1.amazonaws.com/lists/bad.txt?x=1#f": "s3://my-bucket/lists/bad.txt",
	} {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := awsS3Object(u)
		if got != want || ok != (want != "") {
			t.Errorf("awsS3Object(%s) = %q, %v; want %q", loc, got, ok, want)
		}
	}
}
