package cache

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// HTTPError is a response other than 200 OK.
type HTTPError struct {
	StatusCode int
	Status     string        // e.g. "404 Not Found"
	RetryAfter time.Duration // from a Retry-After header; 0 if none
}

func (e *HTTPError) Error() string { return "HTTP " + e.Status }

// IsNotFound reports whether err comes from a 404 or 410 response, so callers
// can fall back (e.g. from a by-hash index URL to the plain one).
func IsNotFound(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusGone)
}

// truncatedError is a body that ended before the expected length: a dropped
// connection or a proxy cutting the transfer, so worth another try.
type truncatedError struct {
	got, want int64
	announced bool // the server's Content-Length was already short
}

func (e *truncatedError) Error() string {
	if e.announced {
		return fmt.Sprintf("short response: server announced %d bytes, expected %d", e.got, e.want)
	}
	if e.want > 0 {
		return fmt.Sprintf("body truncated after %d of %d bytes", e.got, e.want)
	}
	return fmt.Sprintf("body truncated after %d bytes", e.got)
}

func (e *truncatedError) Unwrap() error { return io.ErrUnexpectedEOF }

// oversizeError is a body longer than the signed index says: not the file we
// asked for, and retrying the same mirror will not change that.
type oversizeError struct {
	got, want int64
	limit     bool // want is our own cap, not the index's size
}

func (e *oversizeError) Error() string {
	if e.limit {
		return fmt.Sprintf("response larger than the %d-byte limit for in-memory downloads", e.want)
	}
	return fmt.Sprintf("size mismatch: expected %d bytes, server sent %d or more", e.want, e.got)
}

// stallError is an attempt that received nothing for too long.
type stallError struct{ after time.Duration }

func (e *stallError) Error() string { return fmt.Sprintf("no data received for %s", e.after) }

// transportError is a failure below HTTP: connection refused or reset, TLS,
// DNS, a broken response.
type transportError struct{ err error }

func (e *transportError) Error() string {
	// url.Error repeats the method and URL, which the caller already names.
	var ue *url.Error
	if errors.As(e.err, &ue) {
		return ue.Err.Error()
	}
	return e.err.Error()
}
func (e *transportError) Unwrap() error { return e.err }

// storeError is a failure to write into the cache; no retry will fix a full
// disk.
type storeError struct {
	dir string
	err error
}

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// exhaustedError wraps the last transient error once retries are used up.
type exhaustedError struct {
	attempts int
	err      error
}

func (e *exhaustedError) Error() string {
	return fmt.Sprintf("giving up after %d attempts: %v", e.attempts, e.err)
}
func (e *exhaustedError) Unwrap() error { return e.err }

// retryable says whether another attempt may succeed.
func retryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode >= 500 || he.StatusCode == http.StatusTooManyRequests ||
			he.StatusCode == http.StatusRequestTimeout
	}
	var te *transportError
	if errors.As(err, &te) {
		return !permanentTransport(te.err)
	}
	var tr *truncatedError
	var st *stallError
	return errors.As(err, &tr) || errors.As(err, &st)
}

// permanentTransport picks out the network failures that repeat identically:
// an unknown host name and certificate problems.
func permanentTransport(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return true
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// hint tells the user what to do about err; it is appended to the message.
func hint(err error) string {
	var (
		de *DigestError
		oe *oversizeError
		he *HTTPError
		xe *exhaustedError
		te *transportError
		se *storeError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ""
	case errors.As(err, &de), errors.As(err, &oe):
		return "; the mirror may be out of sync or tampered with; retry later or choose another mirror with --mirror"
	case errors.As(err, &xe):
		return "; check the network, retry later or choose another mirror with --mirror"
	case errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusGone):
		return "; the mirror may be out of sync with its index; retry later or choose another mirror with --mirror"
	case errors.As(err, &he):
		return "; check the mirror URL and any proxy in between, or choose another mirror with --mirror"
	case errors.As(err, &te):
		return "; check the mirror URL and the network (DNS, TLS certificates), or choose another mirror with --mirror"
	case errors.As(err, &se):
		return "; check free space and permissions of the cache directory " + se.dir
	}
	return ""
}
