package intel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultHTTPTimeout bounds one feed download, headers and body.
const DefaultHTTPTimeout = 30 * time.Second

// Fetch downloads the list at rawURL (http or https) and parses it. The body is
// capped at opt.MaxBytes (after transparent gzip decoding) and the request at
// DefaultHTTPTimeout unless client has its own timeout or ctx ends sooner; a
// status other than 200 is an error. client nil means a default client.
func Fetch(ctx context.Context, client *http.Client, rawURL string, opt Options) (*List, []Warning, error) {
	if opt.Source == "" {
		opt.Source = rawURL
	}
	if err := opt.validate(); err != nil {
		return nil, nil, err
	}
	res, err := fetch(ctx, client, rawURL, opt.maxBytes(), "", "")
	if err != nil {
		return nil, nil, err
	}
	return parseBytes(res.body, opt)
}

// fetchResult is one download: the body, or notModified for a conditional
// request that the server answered 304.
type fetchResult struct {
	body         []byte
	notModified  bool
	etag         string
	lastModified string
}

// fetch GETs rawURL, conditionally when etag or lastModified is set.
func fetch(ctx context.Context, client *http.Client, rawURL string, max int64, etag, lastModified string) (fetchResult, error) {
	if err := checkURL(rawURL); err != nil {
		return fetchResult{}, err
	}
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if client.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultHTTPTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fetchResult{}, fmt.Errorf("%s: %w", rawURL, err)
	}
	req.Header.Set("User-Agent", "vigil-intel/1 (+https://github.com/vigil-dev/vigil)")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fetchResult{}, err // *url.Error names the URL
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && (etag != "" || lastModified != ""):
		return fetchResult{notModified: true, etag: etag, lastModified: lastModified}, nil
	case resp.StatusCode != http.StatusOK:
		return fetchResult{}, fmt.Errorf("%s: HTTP status %s, expected 200 OK", rawURL, resp.Status)
	}
	if resp.ContentLength > max {
		return fetchResult{}, fmt.Errorf("%s: %w: Content-Length %d is more than %d bytes (GuardDuty's limit is 35 MB; raise the list's max bytes to load it)",
			rawURL, ErrTooLarge, resp.ContentLength, max)
	}
	body, err := readCapped(resp.Body, max)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return fetchResult{}, fmt.Errorf("%s: %w", rawURL, err)
		}
		return fetchResult{}, fmt.Errorf("%s: reading the body: %w", rawURL, err)
	}
	return fetchResult{body: body, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}, nil
}

// checkURL checks that rawURL is an http or https URL with a host.
func checkURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("list URL %q: expected an http:// or https:// URL", rawURL)
	}
	return nil
}
