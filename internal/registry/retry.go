package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DefaultRetry is how long a client keeps trying a registry that answers 408, 429 or 5xx,
// resets or refuses connections: six tries, 1 s apart and doubling (about 30 s in all), so
// that a registry restarting or briefly overloaded under a CI matrix does not fail the
// matrix, while one that is down fails the job within a minute, naming the request.
// ggcr does the retrying, for each request and for each whole blob upload or manifest PUT
// (which it re-sends from the start); its own default (three tries in 4 s) gives up before
// a registry pod has restarted.
var DefaultRetry = remote.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 6}

func (c *Client) retry() remote.Backoff {
	if c.Retry.Steps > 0 {
		return c.Retry
	}
	return DefaultRetry
}

// retryable is ggcr's default predicate (temporary errors, connections reset or cut short)
// plus refused connections: a registry being restarted refuses them for a few seconds.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var tmp interface{ Temporary() bool }
	if errors.As(err, &tmp) && tmp.Temporary() {
		return true
	}
	for _, e := range []error{io.ErrUnexpectedEOF, io.EOF, syscall.EPIPE, syscall.ECONNRESET, syscall.ECONNREFUSED, net.ErrClosed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
