package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/store"
)

// Error is the JSON envelope of every error the API answers: GuardDuty's
// exception name (__type) and message, and vigil's stable Code, which scripts
// branch on. Codes never change meaning; new ones may be added.
type Error struct {
	Type    string `json:"__type" doc:"GuardDuty's exception name: BadRequestException, UnauthorizedException, AccessDeniedException, ResourceNotFoundException, ConflictException, InternalServerErrorException"`
	Message string `json:"message" doc:"What was wrong and what was expected, naming the field"`
	Code    string `json:"code" doc:"vigil's stable error code (see docs/api.md)"`
	// Status is the HTTP status; not in the body.
	Status int `json:"-"`
	// Line and Column locate an error in a query or filter expression (1-based).
	Line   int `json:"line,omitempty" doc:"line of a query or expression error"`
	Column int `json:"column,omitempty" doc:"column of a query or expression error"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The error codes, with their HTTP status and GuardDuty exception. This table
// is the catalogue: docs/api.md lists it, and a test checks that every code
// the handlers use is in it.
var errorCodes = map[string]struct {
	status int
	typ    string
	doc    string
}{
	"InvalidRequest":     {400, "BadRequestException", "the body is not the JSON the operation takes (syntax, unknown field, wrong type)"},
	"InvalidParameter":   {400, "BadRequestException", "a field has a value outside what it accepts (name, rank, maxResults, format, …)"},
	"InvalidCriteria":    {400, "BadRequestException", "findingCriteria or sortCriteria: unknown attribute, wrong operator for the attribute, a value of the wrong kind"},
	"InvalidPageToken":   {400, "BadRequestException", "nextToken was not issued for this query, or was altered"},
	"InvalidExpression":  {400, "BadRequestException", "a filter expression does not compile (line and column given)"},
	"InvalidQuery":       {400, "BadRequestException", "a Logs Insights query does not parse or check (line and column given)"},
	"InvalidList":        {400, "BadRequestException", "a list's content is not valid in its format (file:line given), or is over its limits"},
	"ListFetchFailed":    {400, "BadRequestException", "a list's location could not be fetched (status, timeout, size)"},
	"LimitExceeded":      {400, "BadRequestException", "a count limit: filters, trusted lists, threat lists"},
	"QueryTimeout":       {400, "BadRequestException", "the query ran longer than the server allows; narrow its time range"},
	"BodyTooLarge":       {413, "BadRequestException", "the request body is larger than the operation accepts"},
	"Unauthenticated":    {401, "UnauthorizedException", "no bearer token, or one that is unknown, revoked or expired"},
	"Forbidden":          {403, "AccessDeniedException", "the token's scope does not allow the operation (a read token cannot change anything)"},
	"NotFound":           {404, "ResourceNotFoundException", "no such detector, filter, list or path"},
	"MethodNotAllowed":   {405, "BadRequestException", "the path exists but not with this method (see the Allow header)"},
	"AlreadyExists":      {409, "ConflictException", "the name is taken"},
	"Internal":           {500, "InternalServerErrorException", "vigil failed (the server log has the cause); retrying may help"},
	"SourceUnavailable":  {503, "InternalServerErrorException", "a configured query source cannot be read (missing path, S3 error); the message names it"},
	"ServiceUnavailable": {503, "InternalServerErrorException", "the server is shutting down or the store is unavailable"},
}

// apiErr returns an Error with the code's status and type.
func apiErr(code, format string, args ...any) *Error {
	c, ok := errorCodes[code]
	if !ok {
		panic("BUG: api error code " + code + " is not in errorCodes")
	}
	return &Error{Type: c.typ, Code: code, Status: c.status, Message: fmt.Sprintf(format, args...)}
}

// toError maps an error from the store, the suppression engine, intel or the
// query engine to the envelope. Errors caused by the caller's input become 4xx
// with the cause's message; anything else is Internal, with a generic message
// (the cause is logged, not shown).
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var qe *query.Error
	if errors.As(err, &qe) {
		out := apiErr("InvalidExpression", "%s", err.Error())
		out.Line, out.Column = qe.Line, qe.Column
		return out
	}
	var mbe *http.MaxBytesError
	msg := message(err)
	switch {
	case errors.As(err, &mbe):
		return apiErr("BodyTooLarge", "request body larger than %d bytes", mbe.Limit)
	case errors.Is(err, store.ErrInvalidToken):
		return apiErr("InvalidPageToken", "nextToken is %s: a token continues only the listing, criteria and sort it was issued for", strings.TrimPrefix(msg, "list findings: "))
	case errors.Is(err, store.ErrInvalidCriteria):
		return apiErr("InvalidCriteria", "%s", msg)
	case errors.Is(err, store.ErrLimitExceeded):
		return apiErr("LimitExceeded", "%s", msg)
	case errors.Is(err, store.ErrInvalid):
		return apiErr("InvalidParameter", "%s", msg)
	case errors.Is(err, store.ErrNotFound):
		return apiErr("NotFound", "%s", msg)
	case errors.Is(err, store.ErrExists):
		return apiErr("AlreadyExists", "%s", msg)
	case errors.Is(err, intel.ErrFormat), errors.Is(err, intel.ErrTooLarge), errors.Is(err, intel.ErrTooManyEntries):
		return apiErr("InvalidList", "%s", msg)
	case errors.Is(err, context.DeadlineExceeded):
		return apiErr("ServiceUnavailable", "the request took too long")
	}
	return apiErr("Internal", "internal error; the server log has the details")
}

// message is err's message without the sentinel prefixes the store wraps its
// errors in ("invalid argument: finding criteria: "), which the code already
// says.
func message(err error) string {
	msg := err.Error()
	for _, p := range []error{store.ErrInvalidCriteria, store.ErrInvalidToken, store.ErrInvalid} {
		msg = strings.ReplaceAll(msg, p.Error()+": ", "")
	}
	return msg
}
