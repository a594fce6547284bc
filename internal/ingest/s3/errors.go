package s3

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Errors that List and Object.Open wrap, for callers that act on the kind of failure
// (errors.Is) rather than print it.
var (
	// ErrNoSuchBucket: the bucket does not exist.
	ErrNoSuchBucket = errors.New("bucket does not exist")
	// ErrAccessDenied: S3 refused the request, for the credentials themselves or for
	// a policy on the bucket, prefix or object.
	ErrAccessDenied = errors.New("access denied")
	// ErrNoCredentials: the standard chain found no credentials at all.
	ErrNoCredentials = errors.New("no AWS credentials found")
	// ErrObjectGone: an object was listed but no longer exists.
	ErrObjectGone = errors.New("object no longer exists")
)

// failure is a failed S3 request as vigil explains it: a kind (one of the Err
// values), a hint on what to do, and what S3 or the SDK said, which stays reachable
// through errors.As.
type failure struct {
	kind   error
	hint   string // appended to kind's text
	detail string // S3's error code or a short cause; may be empty
	cause  error
}

func (f *failure) Error() string {
	s := f.kind.Error() + f.hint
	if f.detail != "" {
		s += ": " + f.detail
	}
	return s
}

func (f *failure) Unwrap() []error { return []error{f.kind, f.cause} }

// credentialCodes are S3's answers to keys it does not accept.
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"TokenRefreshRequired":  true,
	"InvalidSecurity":       true,
}

// describe turns an SDK error into a short message. top marks the location's own
// first request, where a refusal most likely means wrong or missing credentials
// rather than a policy on one folder.
func describe(err error, top bool) error {
	var nc noCredentialsError
	if errors.As(err, &nc) {
		return &failure{kind: ErrNoCredentials,
			hint:   " (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an instance role)",
			detail: rootCause(nc.err), cause: err}
	}
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case code == "NoSuchBucket":
		return &failure{kind: ErrNoSuchBucket, cause: err}
	case code == "NoSuchKey":
		return &failure{kind: ErrObjectGone, hint: " (deleted after it was listed)", cause: err}
	case credentialCodes[code]:
		return &failure{kind: ErrAccessDenied, hint: " (check credentials)", detail: code, cause: err}
	case code == "AccessDenied" || code == "AllAccessDisabled" || status == http.StatusForbidden:
		if top {
			return &failure{kind: ErrAccessDenied, hint: " (check credentials)", cause: err}
		}
		return &failure{kind: ErrAccessDenied, cause: err}
	}
	if ae != nil {
		return &apiError{code: code, message: ae.ErrorMessage(), cause: err}
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		// "dial tcp 10.0.0.1:443: connect: connection refused" says it all; the
		// SDK's layers of operation, attempts and request around it do not.
		return &apiError{code: ne.Error(), cause: err}
	}
	return err
}

// apiError is any other answer from S3 (or a network failure), shown as its code and
// message rather than the SDK's one-line dump of the whole exchange.
type apiError struct {
	code, message string
	cause         error
}

func (e *apiError) Error() string {
	if e.message == "" {
		return e.code
	}
	return e.code + ": " + e.message
}

func (e *apiError) Unwrap() error { return e.cause }

// rootCause returns the text of the innermost error, which for a failed credential
// chain says which source failed last, without the layers of wrapping above it.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// credentialsProvider marks the failures of the credential chain, which the SDK
// reports as a generic "get identity" error, so that they read as what they are.
type credentialsProvider struct{ aws.CredentialsProvider }

func (p credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, noCredentialsError{err}
	}
	return c, nil
}

type noCredentialsError struct{ err error }

func (e noCredentialsError) Error() string { return "retrieve AWS credentials: " + e.err.Error() }
func (e noCredentialsError) Unwrap() error { return e.err }

// redirectRegion returns the region S3 says a bucket is in when it refused a request
// for being sent to or signed for another one (301 from the wrong endpoint, 400
// AuthorizationHeaderMalformed for the wrong signing region), else "".
func redirectRegion(err error) string {
	var re *smithyhttp.ResponseError
	if err == nil || !errors.As(err, &re) || re.Response == nil {
		return ""
	}
	switch re.HTTPStatusCode() {
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusBadRequest:
		return re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}
