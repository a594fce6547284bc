package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxRetryAfter caps the delay a destination may ask for: a hostile or broken
// server cannot stall a destination for days (max_age dead-letters long before).
const MaxRetryAfter = time.Hour

// userAgent identifies vigil to the destinations.
const userAgent = "vigil-notify/1"

// newHTTPClient returns the client of one destination: no redirects (a webhook
// that redirects is misconfigured, and following a POST across hosts would send
// the alert, and perhaps a signature, where nobody asked), proxies from the
// environment, the destination's timeout as a ceiling.
func newHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// HTTPError is a response outside 2xx.
type HTTPError struct {
	Status int
	// Body is the start of the response body, for the error message.
	Body string
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, http.StatusText(e.Status), e.Body)
}

// post sends body to target and classifies the outcome: nil for 2xx; a
// RetryAfterError for 429 and 503 carrying Retry-After; a Permanent error for
// the other 4xx except 408 (the request will not become acceptable); a plain
// error otherwise (5xx, network), which the dispatcher retries. what names the
// destination in errors ("post to slack webhook"); the URL never appears in
// them, since webhook URLs are secrets.
func post(ctx context.Context, client *http.Client, target string, body []byte, header http.Header, what string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("%s: cannot build the request (check the URL)", what))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, stripURL(err))
	}
	defer resp.Body.Close()
	// Read a little for the message and drain a little more so that the
	// connection can be reused; never all of a hostile server's body.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	herr := &HTTPError{Status: resp.StatusCode, Body: snippet(head)}
	err = fmt.Errorf("%s: %w", what, herr)
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return &RetryAfterError{After: after, Err: err}
		}
		return err
	case code == http.StatusRequestTimeout:
		return err
	case code >= 300 && code < 500:
		return Permanent(err)
	}
	return err
}

// stripURL removes the request URL from a client error: *url.Error prints it,
// and a webhook URL is a secret.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("timed out: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date. The
// delay is capped at MaxRetryAfter; a date in the past is no delay.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, MaxRetryAfter), true
}

// snippet makes the start of a response body printable on one line.
func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
