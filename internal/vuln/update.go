package vuln

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"time"
)

// DefaultTrackerURL is the Debian Security Tracker's JSON export of every source package's
// CVEs per release (tens of MB, rebuilt every few minutes).
const DefaultTrackerURL = "https://security-tracker.debian.org/tracker/data/json"

// EnvTrackerURL overrides DefaultTrackerURL (a local mirror of the feed, a proxy).
const EnvTrackerURL = "SPARTAN_TRACKER_URL"

// UpdateResult says what an update did.
type UpdateResult struct {
	NotModified bool // the server said the feed has not changed since the last import
	Meta        Meta
}

// Updater downloads the tracker feed into the database.
type Updater struct {
	HTTP      *http.Client
	UserAgent string
	Now       func() time.Time
}

// Update downloads the feed at url and imports it. It sends the ETag and Last-Modified of the
// last import from the same URL, so an unchanged feed costs one small round trip; a feed that
// fails validation is refused and the database stays as it was.
func (u *Updater) Update(ctx context.Context, dbPath, url string) (UpdateResult, error) {
	now := time.Now
	if u.Now != nil {
		now = u.Now
	}
	client := u.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	prev, havePrev, err := previousMeta(dbPath)
	if err != nil {
		return UpdateResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("tracker feed URL %q: %w", url, err)
	}
	if u.UserAgent != "" {
		req.Header.Set("User-Agent", u.UserAgent)
	}
	if havePrev && prev.URL == url {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("download tracker feed %s: %w (without network, use `spartan db import FILE`)", url, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		if !havePrev {
			return UpdateResult{}, fmt.Errorf("tracker feed %s: server answered 304 Not Modified to an unconditional request", url)
		}
		return UpdateResult{NotModified: true, Meta: prev}, nil
	case http.StatusOK:
	default:
		return UpdateResult{}, fmt.Errorf("download tracker feed %s: %s", url, resp.Status)
	}
	meta, err := ImportTracker(dbPath, resp.Body, Meta{
		URL: url, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
	}, now())
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%w; the database was left unchanged", err)
	}
	return UpdateResult{Meta: meta}, nil
}

func previousMeta(dbPath string) (Meta, bool, error) {
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		return Meta{}, false, nil
	}
	db, err := Open(dbPath)
	if err != nil {
		return Meta{}, false, err
	}
	defer db.Close()
	return db.MetaFor(SourceTracker)
}
