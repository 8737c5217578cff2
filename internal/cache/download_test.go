package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// payload is deterministic content large enough to arrive in several reads.
func payload(seed string, n int) []byte {
	b := bytes.Repeat([]byte(seed), n/len(seed)+1)
	return b[:n]
}

// serve starts a server whose handler also gets the 1-based request number.
func serve(t testing.TB, h func(w http.ResponseWriter, r *http.Request, n int)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var count atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r, int(count.Add(1)))
	}))
	t.Cleanup(srv.Close)
	return srv, &count
}

// truncate announces the full length, sends keep bytes and drops the
// connection, as a failing proxy or a reset link would.
func truncate(t testing.TB, w http.ResponseWriter, content []byte, keep int) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(content))
	buf.Write(content[:keep])
	buf.Flush()
}

func newDownloader(t testing.TB) *Downloader {
	return &Downloader{Cache: newCache(t), Backoff: time.Millisecond}
}

// assertClean checks that no temp file is left and that every blob is intact.
func assertClean(t testing.TB, c *Cache) {
	t.Helper()
	if left := files(t, filepath.Join(c.Dir, "tmp")); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
	for _, f := range files(t, filepath.Join(c.Dir, "blobs", "sha256")) {
		got, _, _, err := hashFile(filepath.Join(c.Dir, "blobs", "sha256", f))
		if err != nil || got != f {
			t.Errorf("blob %s holds %s (%v)", f, got, err)
		}
	}
}

func TestFetchCacheHitMakesNoRequest(t *testing.T) {
	data := payload("deb", 5000)
	srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { w.Write(data) })
	d := newDownloader(t)
	want, err := d.Cache.Put(sum(data), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Fetch(context.Background(), Item{Name: "libc6", URL: srv.URL + "/libc6.deb", SHA256: sum(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if p != want || count.Load() != 0 {
		t.Errorf("path %s, requests %d; want %s, 0", p, count.Load(), want)
	}
	if d.Hits() != 1 || d.Downloaded() != 0 {
		t.Errorf("hits %d, downloaded %d", d.Hits(), d.Downloaded())
	}
}

func TestFetchDownloadsAndCounts(t *testing.T) {
	data := payload("pkg", 100_000)
	var ua atomic.Value
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		ua.Store(r.Header.Get("User-Agent"))
		w.Write(data)
	})
	d := newDownloader(t)
	d.UserAgent = "spartan/1.2.3"
	p, err := d.FetchURL(context.Background(), srv.URL+"/pool/p.deb", strings.ToUpper(sum(data)), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Fatal("stored content differs")
	}
	if d.Downloaded() != int64(len(data)) || d.Hits() != 0 {
		t.Errorf("downloaded %d, hits %d", d.Downloaded(), d.Hits())
	}
	if ua.Load() != "spartan/1.2.3" {
		t.Errorf("User-Agent %q", ua.Load())
	}
	// Second time round it is a hit.
	if _, err := d.FetchURL(context.Background(), srv.URL+"/pool/p.deb", sum(data), int64(len(data))); err != nil || d.Hits() != 1 {
		t.Errorf("second fetch: %v, hits %d", err, d.Hits())
	}
	assertClean(t, d.Cache)
}

func TestFetchHashMismatch(t *testing.T) {
	data := payload("good", 4096)
	evil := payload("evil", 4096)
	srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { w.Write(evil) })
	d := newDownloader(t)
	url := srv.URL + "/pool/main/b/bash/bash.deb"
	_, err := d.Fetch(context.Background(), Item{Name: "bash", URL: url, SHA256: sum(data), Size: int64(len(data))})
	if err == nil {
		t.Fatal("mismatch accepted")
	}
	for _, want := range []string{"bash", url, sum(data), sum(evil), "--mirror"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	var de *DigestError
	if !errors.As(err, &de) {
		t.Errorf("error is not a *DigestError: %v", err)
	}
	if count.Load() != 1 {
		t.Errorf("%d requests; a mismatch must not be retried", count.Load())
	}
	if left := files(t, d.Cache.Dir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

func TestFetchTruncated(t *testing.T) {
	data := payload("truncate-me", 200_000)
	tests := []struct {
		name     string
		bad      int // requests that fail before the server behaves; -1: always
		short    func(t testing.TB, w http.ResponseWriter)
		wantReqs int32
		wantErr  string
	}{
		{
			name:     "connection dropped twice",
			bad:      2,
			short:    func(t testing.TB, w http.ResponseWriter) { truncate(t, w, data, 1000) },
			wantReqs: 3,
		},
		{
			name:     "connection always dropped",
			bad:      -1,
			short:    func(t testing.TB, w http.ResponseWriter) { truncate(t, w, data, 70_000) },
			wantReqs: 5,
			wantErr:  "giving up after 5 attempts: body truncated after 70000 of 200000 bytes",
		},
		{
			name: "short Content-Length",
			bad:  1,
			short: func(t testing.TB, w http.ResponseWriter) {
				w.Header().Set("Content-Length", "10")
				w.Write(data[:10])
			},
			wantReqs: 2,
		},
		{
			name: "chunked body shorter than index size",
			bad:  1,
			short: func(t testing.TB, w http.ResponseWriter) {
				w.Write(data[:100])
				w.(http.Flusher).Flush() // forces chunked encoding
				w.Write(data[100:5000])
			},
			wantReqs: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.bad < 0 || n <= tt.bad {
					tt.short(t, w)
					return
				}
				w.Write(data)
			})
			d := newDownloader(t)
			it := Item{Name: "big", URL: srv.URL + "/big.deb", SHA256: sum(data), Size: int64(len(data))}
			p, err := d.Fetch(context.Background(), it)
			if count.Load() != tt.wantReqs {
				t.Errorf("%d requests, want %d", count.Load(), tt.wantReqs)
			}
			assertClean(t, d.Cache)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), it.URL) {
					t.Fatalf("err = %v, want %q naming the URL", err, tt.wantErr)
				}
				if d.Cache.Has(it.SHA256) {
					t.Error("blob stored despite failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
				t.Fatal("stored content differs")
			}
			if d.Downloaded() != int64(len(data)) {
				t.Errorf("Downloaded %d counts failed attempts", d.Downloaded())
			}
		})
	}
}

func TestFetchStatus(t *testing.T) {
	data := payload("status", 1000)
	tests := []struct {
		name     string
		codes    []int // responses before 200; the last repeats forever
		always   bool
		retries  int
		wantReqs int32
		wantErr  []string
		notFound bool
	}{
		{name: "503 twice then 200", codes: []int{503, 503}, wantReqs: 3},
		{name: "429 then 200", codes: []int{429}, wantReqs: 2},
		{name: "502 then 200", codes: []int{502}, wantReqs: 2},
		{name: "500 forever", codes: []int{500}, always: true, wantReqs: 5, wantErr: []string{"giving up after 5 attempts", "500"}},
		{name: "500 forever, 1 retry", codes: []int{500}, always: true, retries: 1, wantReqs: 2, wantErr: []string{"giving up after 2 attempts"}},
		{name: "503, retries disabled", codes: []int{503}, always: true, retries: -1, wantReqs: 1, wantErr: []string{"giving up after 1 attempts"}},
		{name: "404 not retried", codes: []int{404}, wantReqs: 1, wantErr: []string{"404", "--mirror"}, notFound: true},
		{name: "410 not retried", codes: []int{410}, wantReqs: 1, wantErr: []string{"410"}, notFound: true},
		{name: "403 not retried", codes: []int{403}, wantReqs: 1, wantErr: []string{"403 Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= len(tt.codes) || tt.always {
					code := tt.codes[min(n, len(tt.codes))-1]
					if code == 429 {
						w.Header().Set("Retry-After", "0")
					}
					http.Error(w, "nope", code)
					return
				}
				w.Write(data)
			})
			d := newDownloader(t)
			d.Retries = tt.retries
			it := Item{Name: "pkg", URL: srv.URL + "/pool/pkg.deb", SHA256: sum(data), Size: int64(len(data))}
			_, err := d.Fetch(context.Background(), it)
			if count.Load() != tt.wantReqs {
				t.Errorf("%d requests, want %d", count.Load(), tt.wantReqs)
			}
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tt.wantErr, it.URL, "pkg") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if IsNotFound(err) != tt.notFound {
				t.Errorf("IsNotFound = %v", !tt.notFound)
			}
			assertClean(t, d.Cache)
		})
	}
}

func TestFetchOversizeNotRetried(t *testing.T) {
	data := payload("size", 1000)
	srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Write(append(data, "trailing junk"...))
	})
	d := newDownloader(t)
	_, err := d.Fetch(context.Background(), Item{Name: "pkg", URL: srv.URL + "/p", SHA256: sum(data), Size: int64(len(data))})
	if err == nil || !strings.Contains(err.Error(), "size mismatch") {
		t.Fatalf("err = %v", err)
	}
	if count.Load() != 1 {
		t.Errorf("%d requests", count.Load())
	}
	assertClean(t, d.Cache)
}

func TestFetchRedownloadsWrongSizeBlob(t *testing.T) {
	data := payload("resize", 3000)
	srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { w.Write(data) })
	d := newDownloader(t)
	p, _ := d.Cache.Put(sum(data), bytes.NewReader(data))
	if err := os.Truncate(p, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Fetch(context.Background(), Item{URL: srv.URL + "/p", SHA256: sum(data), Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if count.Load() != 1 || d.Hits() != 0 {
		t.Errorf("requests %d, hits %d", count.Load(), d.Hits())
	}
	assertClean(t, d.Cache)
}

func TestFetchRejectsBadInput(t *testing.T) {
	srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {})
	h := sum([]byte("x"))
	tests := []struct {
		name string
		it   Item
		want string
	}{
		{"bad digest", Item{URL: srv.URL + "/x", SHA256: "xyz"}, "invalid sha256"},
		{"no scheme", Item{URL: "/just/a/path", SHA256: h}, "invalid URL"},
		{"ftp", Item{URL: "ftp://host/x", SHA256: h}, "invalid URL"},
	}
	d := newDownloader(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := d.Fetch(context.Background(), tt.it); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if count.Load() != 0 {
		t.Errorf("%d requests for bad input", count.Load())
	}
	if _, err := (&Downloader{}).Fetch(context.Background(), Item{URL: srv.URL, SHA256: h}); err == nil {
		t.Error("Fetch without a cache succeeded")
	}
}

func TestFetchConnectionRefusedIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/gone"
	srv.Close() // nothing listens on the port any more
	d := newDownloader(t)
	d.Retries = 2
	_, err := d.Fetch(context.Background(), Item{URL: url, SHA256: sum([]byte("x"))})
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("err = %v", err)
	}
}

func TestFetchStalledConnectionIsRetried(t *testing.T) {
	data := payload("stall", 10_000)
	srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.Write(data[:100])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // hang until the client gives up
			return
		}
		w.Write(data)
	})
	d := newDownloader(t)
	d.stall = 50 * time.Millisecond
	if _, err := d.Fetch(context.Background(), Item{URL: srv.URL + "/s", SHA256: sum(data), Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if count.Load() != 2 {
		t.Errorf("%d requests", count.Load())
	}
	assertClean(t, d.Cache)
}

func TestFetchContextCancel(t *testing.T) {
	tests := []struct {
		name    string
		backoff time.Duration
		handler func(w http.ResponseWriter, r *http.Request, started chan<- struct{})
	}{
		{
			name:    "during the request",
			backoff: time.Millisecond,
			handler: func(w http.ResponseWriter, r *http.Request, started chan<- struct{}) {
				w.Header().Set("Content-Length", "100000")
				w.Write(make([]byte, 10))
				w.(http.Flusher).Flush()
				started <- struct{}{}
				<-r.Context().Done()
			},
		},
		{
			name:    "during backoff",
			backoff: time.Hour,
			handler: func(w http.ResponseWriter, r *http.Request, started chan<- struct{}) {
				http.Error(w, "busy", 503)
				started <- struct{}{}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := make(chan struct{}, 10)
			srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.handler(w, r, started) })
			d := newDownloader(t)
			d.Backoff = tt.backoff
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := d.Fetch(ctx, Item{URL: srv.URL + "/x", SHA256: sum([]byte("x")), Size: 100000})
				done <- err
			}()
			<-started
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Fetch ignored cancellation")
			}
			assertClean(t, d.Cache)
		})
	}
}

func TestFetchAll(t *testing.T) {
	contents := map[string][]byte{}
	var items []Item
	for i := range 6 {
		name := fmt.Sprintf("pkg%d", i)
		contents["/"+name] = payload(name, 20_000+i)
		items = append(items, Item{Name: name, URL: "/" + name, SHA256: sum(contents["/"+name]), Size: int64(20_000 + i)})
	}
	var inflight, peak atomic.Int32
	srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		cur := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond) // let requests overlap
		w.Write(contents[r.URL.Path])
	})
	for i := range items {
		items[i].URL = srv.URL + items[i].URL
	}
	d := newDownloader(t)
	d.Parallel = 2
	var progress bytes.Buffer
	d.Progress = &progress
	// One already cached, one listed twice.
	d.Cache.Put(items[0].SHA256, bytes.NewReader(contents["/pkg0"]))
	all := append(items, items[3])

	got, err := d.FetchAll(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(items) {
		t.Fatalf("%d results, want %d", len(got), len(items))
	}
	for _, it := range items {
		if got[it.SHA256] != d.Cache.Path(it.SHA256) {
			t.Errorf("%s: path %q", it.Name, got[it.SHA256])
		}
	}
	if count.Load() != 5 || d.Hits() != 1 {
		t.Errorf("requests %d, hits %d; want 5, 1", count.Load(), d.Hits())
	}
	var want int64
	for _, it := range items[1:] {
		want += it.Size
	}
	if d.Downloaded() != want {
		t.Errorf("downloaded %d, want %d", d.Downloaded(), want)
	}
	if peak.Load() > 2 {
		t.Errorf("%d concurrent requests with Parallel 2", peak.Load())
	}
	if !strings.Contains(progress.String(), "fetching 5 files") {
		t.Errorf("progress output %q", progress.String())
	}
	assertClean(t, d.Cache)

	// All cached now: no requests, no progress bar.
	progress.Reset()
	if _, err := d.FetchAll(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	if count.Load() != 5 || progress.Len() != 0 {
		t.Errorf("warm run: requests %d, progress %q", count.Load(), progress.String())
	}
}

func TestFetchAllFailsOnOneBadItem(t *testing.T) {
	good := payload("good", 1000)
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write(good)
	})
	d := newDownloader(t)
	items := []Item{
		{Name: "good", URL: srv.URL + "/good", SHA256: sum(good)},
		{Name: "missing", URL: srv.URL + "/missing", SHA256: sum([]byte("m"))},
	}
	got, err := d.FetchAll(context.Background(), items)
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "404") || got != nil {
		t.Fatalf("got %v, err %v", got, err)
	}
	if _, err := d.FetchAll(context.Background(), []Item{{Name: "bad", SHA256: "zz"}}); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("invalid digest: err = %v", err)
	}
}

// Two builds in two processes share a cache directory; separate Cache values
// and Downloaders stand in for the processes.
func TestConcurrentDownloadersShareDir(t *testing.T) {
	dir := t.TempDir()
	var items []Item
	contents := map[string][]byte{}
	for i := range 8 {
		name := fmt.Sprintf("/p%d", i)
		contents[name] = payload(name, 50_000+1000*i)
		items = append(items, Item{Name: name, URL: name, SHA256: sum(contents[name]), Size: int64(len(contents[name]))})
	}
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		// Drip the body so the two downloads of a blob overlap.
		c := contents[r.URL.Path]
		w.Header().Set("Content-Length", fmt.Sprint(len(c)))
		for i := 0; i < len(c); i += 16_384 {
			w.Write(c[i:min(i+16_384, len(c))])
			w.(http.Flusher).Flush()
			time.Sleep(time.Millisecond)
		}
	})
	for i := range items {
		items[i].URL = srv.URL + items[i].URL
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	results := make([]map[string]string, 2)
	for i := range 2 {
		c, err := New(dir)
		if err != nil {
			t.Fatal(err)
		}
		d := &Downloader{Cache: c, Backoff: time.Millisecond, Parallel: 3}
		wg.Go(func() { results[i], errs[i] = d.FetchAll(context.Background(), items) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("downloader %d: %v", i, err)
		}
	}
	for _, it := range items {
		for i := range 2 {
			got, err := os.ReadFile(results[i][it.SHA256])
			if err != nil || !bytes.Equal(got, contents[it.Name]) {
				t.Errorf("downloader %d: %s damaged (%v)", i, it.Name, err)
			}
		}
	}
	c, _ := New(dir)
	assertClean(t, c)
}

func TestGet(t *testing.T) {
	data := payload("InRelease", 30_000)
	tests := []struct {
		name     string
		handler  func(w http.ResponseWriter, r *http.Request, n int)
		wantReqs int32
		wantErr  string
	}{
		{"ok", func(w http.ResponseWriter, r *http.Request, n int) { w.Write(data) }, 1, ""},
		{"503 then ok", func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				http.Error(w, "", 503)
				return
			}
			w.Write(data)
		}, 2, ""},
		{"truncated then ok", func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				truncate(t, w, data, 5)
				return
			}
			w.Write(data)
		}, 2, ""},
		{"404", func(w http.ResponseWriter, r *http.Request, n int) { http.NotFound(w, r) }, 1, "HTTP 404"},
		{"too large", func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Length", fmt.Sprint(maxGetBytes+1))
		}, 1, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, count := serve(t, tt.handler)
			d := &Downloader{Backoff: time.Millisecond}
			url := srv.URL + "/dists/stable/InRelease"
			got, err := d.Get(context.Background(), url)
			if count.Load() != tt.wantReqs {
				t.Errorf("%d requests, want %d", count.Load(), tt.wantReqs)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), url) {
					t.Fatalf("err = %v, want %q naming the URL", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Get = %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestDelay(t *testing.T) {
	d := &Downloader{Backoff: 500 * time.Millisecond}
	tests := []struct {
		attempt  int
		asked    time.Duration
		min, max time.Duration
	}{
		{0, 0, 250 * time.Millisecond, 500 * time.Millisecond},
		{1, 0, 500 * time.Millisecond, time.Second},
		{3, 0, 2 * time.Second, 4 * time.Second},
		{10, 0, 4 * time.Second, 8 * time.Second},
		{62, 0, 4 * time.Second, 8 * time.Second}, // no overflow
		{0, 3 * time.Second, 3 * time.Second, 3 * time.Second},
		{0, time.Hour, 8 * time.Second, 8 * time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			if got := d.delay(tt.attempt, tt.asked); got < tt.min || got > tt.max {
				t.Fatalf("delay(%d, %s) = %s, want in [%s, %s]", tt.attempt, tt.asked, got, tt.min, tt.max)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"7", 7 * time.Second},
		{"junk", 0},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	future := time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)
	if got := parseRetryAfter(future); got < 50*time.Second || got > time.Minute {
		t.Errorf("parseRetryAfter(date in a minute) = %s", got)
	}
}

var _ io.Reader = (*body)(nil)
