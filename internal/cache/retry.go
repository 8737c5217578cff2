package cache

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retry runs op until it succeeds, fails permanently, runs out of retries or
// ctx ends. The returned error is op's last (or ctx's), wrapped in an
// *exhaustedError when retries ran out.
func (d *Downloader) retry(ctx context.Context, name, rawURL string, op func() error) error {
	retries := d.Retries
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	for attempt := 0; ; attempt++ {
		err := op()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !retryable(err):
			return err
		case attempt >= retries:
			return &exhaustedError{attempts: attempt + 1, err: err}
		}
		wait := d.delay(attempt, retryAfter(err))
		d.log().Warn("download failed; retrying", "name", name, "url", rawURL,
			"attempt", attempt+1, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// delay is the wait before retry number attempt+1: exponential from Backoff,
// capped, with jitter, and at least what the server asked for (within the cap).
func (d *Downloader) delay(attempt int, asked time.Duration) time.Duration {
	base := d.Backoff
	if base <= 0 {
		base = DefaultBackoff
	}
	ceil := max(maxBackoff, base)
	w := base
	for i := 0; i < attempt && w < ceil; i++ {
		w *= 2
	}
	w = min(w, ceil)
	// Equal jitter: half fixed so waits keep growing, half random so parallel
	// workers hit by the same outage do not come back in lockstep.
	w = w/2 + rand.N(w/2+1)
	if asked > w {
		w = min(asked, ceil)
	}
	return w
}

func retryAfter(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter
	}
	return 0
}

// parseRetryAfter reads either form of Retry-After (seconds or an HTTP date).
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if w := time.Until(t); w > 0 {
			return w
		}
	}
	return 0
}
