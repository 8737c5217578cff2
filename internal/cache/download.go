package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Defaults for the zero values of Downloader's fields.
const (
	DefaultParallel = 4
	DefaultRetries  = 4
	DefaultBackoff  = 500 * time.Millisecond

	maxBackoff   = 8 * time.Second
	defaultStall = 60 * time.Second
	maxGetBytes  = 256 << 20 // Get is for index files; anything bigger belongs in Fetch
)

// Item is one file to download, named by its expected SHA-256 (from a signed
// index). Size is the expected length in bytes, 0 if unknown.
type Item struct {
	Name, URL, SHA256 string
	Size              int64
}

func (it Item) label() string {
	if it.Name != "" {
		return it.Name
	}
	if u, err := url.Parse(it.URL); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	return it.URL
}

// Downloader fetches items into a Cache, several at a time, retrying transient
// failures. Zero-valued fields take the defaults above. A Downloader holds
// counters, so use it through a pointer and do not copy it.
type Downloader struct {
	HTTP      *http.Client  // nil: http.DefaultClient
	Cache     *Cache        // required for Fetch and FetchAll
	Parallel  int           // concurrent downloads in FetchAll; 0: DefaultParallel
	Retries   int           // retries after the first attempt; 0: DefaultRetries, <0: none
	Backoff   time.Duration // first retry delay, doubled each time up to 8s, jittered; 0: DefaultBackoff
	Progress  io.Writer     // aggregate progress bar for FetchAll; nil: quiet
	Log       *slog.Logger  // nil: no logging
	UserAgent string        // e.g. "spartan/1.2.3"; "": "spartan"

	// stall aborts an attempt that receives nothing for this long; 0:
	// defaultStall. A field so tests need not wait a minute.
	stall time.Duration

	downloaded atomic.Int64
	hits       atomic.Int64
}

// Downloaded is the number of bytes downloaded into the cache so far.
func (d *Downloader) Downloaded() int64 { return d.downloaded.Load() }

// Hits is the number of Fetch requests served from the cache without network.
func (d *Downloader) Hits() int { return int(d.hits.Load()) }

// Fetch returns the path of the blob for it, downloading and verifying it
// unless the cache already has it.
func (d *Downloader) Fetch(ctx context.Context, it Item) (string, error) {
	return d.fetch(ctx, it, nil)
}

// FetchURL is Fetch for a bare URL.
func (d *Downloader) FetchURL(ctx context.Context, rawURL, sha256hex string, size int64) (string, error) {
	return d.Fetch(ctx, Item{URL: rawURL, SHA256: sha256hex, Size: size})
}

// FetchAll fetches items in parallel and maps each SHA-256 (lower-case hex) to
// its path. Items with the same digest are fetched once. The first permanent
// failure cancels the rest and is returned.
func (d *Downloader) FetchAll(ctx context.Context, items []Item) (map[string]string, error) {
	out := make(map[string]string, len(items))
	var mu sync.Mutex
	err := d.FetchEach(ctx, items, func(i int, path string) {
		h, _ := normHex(items[i].SHA256) // FetchEach checked it
		mu.Lock()
		out[h] = path
		mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FetchEach is FetchAll that reports each item as soon as it is in the cache: done(i, path)
// for items[i], cache hits first, then downloads as they complete, from several goroutines,
// so that the caller can start on a file while the others still download. Items with the
// same digest are fetched once and each reported. On failure some items are never reported.
func (d *Downloader) FetchEach(ctx context.Context, items []Item, done func(i int, path string)) error {
	if d.Cache == nil {
		return errors.New("fetch: downloader has no cache")
	}
	var todo []Item
	same := make(map[string][]int, len(items)) // digest → the items that name it
	for i, it := range items {
		h, err := normHex(it.SHA256)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", it.label(), err)
		}
		if same[h] = append(same[h], i); len(same[h]) > 1 {
			continue
		}
		it.SHA256 = h
		todo = append(todo, it)
	}
	var missing []Item
	for _, it := range todo {
		p, ok, err := d.Cache.hit(it.SHA256, it.Size)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", it.label(), err)
		}
		if !ok {
			missing = append(missing, it)
			continue
		}
		d.hits.Add(1)
		for _, i := range same[it.SHA256] {
			done(i, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}

	bar := d.newBar(missing)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.parallel())
	for _, it := range missing {
		if gctx.Err() != nil {
			break // a download failed; do not start more
		}
		g.Go(func() error {
			p, err := d.fetch(gctx, it, bar)
			if err != nil {
				return err
			}
			for _, i := range same[it.SHA256] {
				done(i, p)
			}
			return nil
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err() // cancelled before any worker noticed
	}
	bar.done(err == nil)
	return err
}

// FetchStream is Fetch that also hands the content to consume while it downloads, so that
// reading a large file (inflating and scanning an index) overlaps its transfer instead of
// following it. consume runs once per attempt, on its own goroutine, and must read r to its
// end or return; a failed attempt ends r with an error and the retry calls consume afresh, so
// the caller keeps only what the last call produced. Nothing consume made is to be trusted
// unless FetchStream returns a path: only then did the bytes match it.SHA256. consume's error
// comes with that path; a failed download's comes without one, and consume's is dropped. On a
// cache hit consume reads the stored blob.
func (d *Downloader) FetchStream(ctx context.Context, it Item, consume func(r io.Reader) error) (string, error) {
	var consumed error
	p, err := d.fetchWith(ctx, it, nil, func(r io.Reader) error {
		consumed = consume(r)
		return consumed
	})
	if err != nil {
		return "", err
	}
	return p, consumed
}

func (d *Downloader) fetch(ctx context.Context, it Item, bar *bar) (string, error) {
	return d.fetchWith(ctx, it, bar, nil)
}

// fetchWith is fetch with an optional consumer of the content (FetchStream); its error is
// the caller's to read, never a reason to fail or retry the download.
func (d *Downloader) fetchWith(ctx context.Context, it Item, bar *bar, consume func(io.Reader) error) (string, error) {
	if d.Cache == nil {
		return "", fmt.Errorf("fetch %s: downloader has no cache", it.label())
	}
	h, err := normHex(it.SHA256)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", it.label(), err)
	}
	// Checked again in FetchAll's workers: another process may have stored
	// the blob while this one waited for a slot.
	if p, ok, err := d.Cache.hit(h, it.Size); err != nil {
		return "", fmt.Errorf("fetch %s: %w", it.label(), err)
	} else if ok {
		d.hits.Add(1)
		if consume != nil {
			consumeFile(p, consume)
		}
		return p, nil
	}
	if err := checkURL(it.URL); err != nil {
		return "", fmt.Errorf("fetch %s: %w", it.label(), err)
	}
	var p string
	err = d.retry(ctx, it.label(), it.URL, func() error {
		var err error
		p, err = d.download(ctx, it, h, bar, consume)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("fetch %s from %s: %w%s", it.label(), it.URL, err, hint(err))
	}
	d.log().Debug("downloaded", "name", it.label(), "url", it.URL, "bytes", it.Size)
	return p, nil
}

// download is one attempt: GET, stream through the digest check into the cache.
func (d *Downloader) download(ctx context.Context, it Item, h string, bar *bar, consume func(io.Reader) error) (string, error) {
	actx, kick, stop := d.watch(ctx)
	defer stop()
	resp, err := d.get(actx, it.URL)
	if err != nil {
		return "", d.attemptErr(ctx, actx, err)
	}
	defer resp.Body.Close()
	if cl := resp.ContentLength; it.Size > 0 && cl >= 0 && cl != it.Size {
		if cl > it.Size {
			return "", &oversizeError{got: cl, want: it.Size}
		}
		return "", &truncatedError{got: cl, want: it.Size, announced: true}
	}
	want := it.Size
	if want <= 0 && resp.ContentLength > 0 {
		want = resp.ContentLength
	}
	b := &body{r: resp.Body, limit: it.Size, want: want, kick: kick, bar: bar}
	var r io.Reader = b
	if consume != nil {
		t := startTee(b, consume)
		defer t.wait()
		r = t
	}
	p, err := d.Cache.Put(h, r)
	if err != nil {
		bar.add(-b.n) // the retry starts over
		var de *DigestError
		switch {
		case b.err != nil:
			return "", d.attemptErr(ctx, actx, b.err)
		case errors.As(err, &de):
			return "", de
		}
		return "", &storeError{dir: d.Cache.Dir, err: err}
	}
	d.downloaded.Add(b.n)
	return p, nil
}

// Get downloads a small file (an InRelease, an index) into memory, with the
// same retries as Fetch but no cache and no digest check: the caller verifies.
func (d *Downloader) Get(ctx context.Context, rawURL string) ([]byte, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	var data []byte
	err := d.retry(ctx, rawURL, rawURL, func() error {
		actx, kick, stop := d.watch(ctx)
		defer stop()
		resp, err := d.get(actx, rawURL)
		if err != nil {
			return d.attemptErr(ctx, actx, err)
		}
		defer resp.Body.Close()
		if resp.ContentLength > maxGetBytes {
			return &oversizeError{got: resp.ContentLength, want: maxGetBytes, limit: true}
		}
		b := &body{r: resp.Body, limit: maxGetBytes, capped: true, want: resp.ContentLength, kick: kick}
		buf, err := io.ReadAll(b)
		if err != nil {
			if b.err != nil {
				err = b.err
			}
			return d.attemptErr(ctx, actx, err)
		}
		data = buf
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w%s", rawURL, err, hint(err))
	}
	return data, nil
}

// get sends one GET and turns any status but 200 into an *HTTPError.
func (d *Downloader) get(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	ua := d.UserAgent
	if ua == "" {
		ua = "spartan"
	}
	req.Header.Set("User-Agent", ua)
	client := d.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused for the retry.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, &HTTPError{
			StatusCode: resp.StatusCode,
			Status:     resp.Status,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After")),
		}
	}
	return resp, nil
}

// attemptErr classifies the error of one attempt. Errors of our own types pass
// through; anything else came from the network.
func (d *Downloader) attemptErr(ctx, actx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var st *stallError
	if errors.As(context.Cause(actx), &st) {
		return st
	}
	var (
		he *HTTPError
		tr *truncatedError
		oe *oversizeError
	)
	if errors.As(err, &he) || errors.As(err, &tr) || errors.As(err, &oe) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &truncatedError{} // length unknown here; body records it when it can
	}
	return &transportError{err: err}
}

// watch gives an attempt its own context, cancelled when no data has arrived
// for the stall timeout: a connection that hangs without closing would
// otherwise block a build forever. kick records progress.
func (d *Downloader) watch(ctx context.Context) (actx context.Context, kick, stop func()) {
	stall := d.stall
	if stall <= 0 {
		stall = defaultStall
	}
	actx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(stall, func() { cancel(&stallError{after: stall}) })
	return actx, func() { t.Reset(stall) }, func() { t.Stop(); cancel(nil) }
}

func checkURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid URL %q: want http:// or https:// with a host", rawURL)
	}
	return nil
}

func (d *Downloader) parallel() int {
	if d.Parallel > 0 {
		return d.Parallel
	}
	return DefaultParallel
}

func (d *Downloader) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}
