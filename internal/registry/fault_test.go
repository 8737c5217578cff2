package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// faulty is a registry behind a proxy that answers request n (counted from 1) as fault says:
// 0 passes it to the registry, a status code answers with it, cut closes the connection
// without an answer.
type faulty struct {
	host  string
	reg   http.Handler
	n     atomic.Int64
	fault atomic.Pointer[faultFunc] // read by the server's goroutines: set it with setFault
	mu    sync.Mutex
	log   []string // method and path of each request passed through
}

type faultFunc func(n int64, r *http.Request) int

// setFault makes fn decide the requests from now on; nil passes them all.
func (f *faulty) setFault(fn faultFunc) {
	if fn == nil {
		f.fault.Store(nil)
		return
	}
	f.fault.Store(&fn)
}

// requests returns the method and path of each request passed through so far.
func (f *faulty) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

const cut = -1

func newFaulty(t *testing.T) *faulty {
	t.Helper()
	f := &faulty{reg: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.n.Add(1)
		code := 0
		if fn := f.fault.Load(); fn != nil {
			code = (*fn)(n, r)
		}
		switch code {
		case 0:
			f.mu.Lock()
			f.log = append(f.log, r.Method+" "+r.URL.Path)
			f.mu.Unlock()
			f.reg.ServeHTTP(w, r)
		case cut:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		default:
			http.Error(w, "injected fault", code)
		}
	}))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

// fastRetry waits 5+10+20+40+80 ms between six tries: DefaultRetry in miniature.
var fastRetry = remote.Backoff{Duration: 5 * time.Millisecond, Factor: 2, Steps: 6}

func signedIndex(t *testing.T) (v1.ImageIndex, map[string]v1.Image) {
	t.Helper()
	img1, _ := random.Image(3000, 2)
	img2, _ := random.Image(3000, 2)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img1, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: img2, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	sig, _ := random.Image(500, 1)
	d, _ := idx.Digest()
	return idx, map[string]v1.Image{"sha256-" + d.Hex + ".sig": sig}
}

// TestPushRetries: a registry failing for a while (500s, 503s, cut connections) is retried
// with backoff and the push completes; one that keeps failing fails the push, naming the
// request and the status.
func TestPushRetries(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(n int64, r *http.Request) int
		wantErr string
	}{
		{"first requests 500", func(n int64, _ *http.Request) int {
			if n <= 4 {
				return http.StatusInternalServerError
			}
			return 0
		}, ""},
		{"500 for the first 100 ms", func() func(int64, *http.Request) int {
			var start time.Time
			var once sync.Once
			return func(int64, *http.Request) int {
				once.Do(func() { start = time.Now() })
				if time.Since(start) < 100*time.Millisecond {
					return http.StatusInternalServerError
				}
				return 0
			}
		}(), ""},
		{"every other request 503", func(n int64, _ *http.Request) int {
			if n%2 == 0 && n < 40 {
				return http.StatusServiceUnavailable
			}
			return 0
		}, ""},
		{"blob uploads cut", func(n int64, r *http.Request) int {
			if strings.Contains(r.URL.Path, "/blobs/uploads/") && n < 30 && n%3 == 0 {
				return cut
			}
			return 0
		}, ""},
		{"manifest PUTs 502 three times", func() func(int64, *http.Request) int {
			var m atomic.Int64
			return func(_ int64, r *http.Request) int {
				if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && m.Add(1) <= 3 {
					return http.StatusBadGateway
				}
				return 0
			}
		}(), ""},
		{"always 500", func(int64, *http.Request) int { return http.StatusInternalServerError }, "500 Internal Server Error"},
		{"not retried: 400", func(n int64, r *http.Request) int {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
				return http.StatusBadRequest
			}
			return 0
		}, "400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFaulty(t)
			f.setFault(tt.fault)
			idx, atts := signedIndex(t)
			ref, _ := ParseReference(f.host + "/spartan/test:key-1")
			c := New("test")
			c.Retry = fastRetry
			_, _, err := c.Push(ctx, &Source{Artifact: idx, Attachments: atts}, ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "spartan/test") {
					t.Fatalf("err = %v, want one naming the repository and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("push through faults: %v", err)
			}
			f.setFault(nil)
			want, _ := idx.Digest()
			p, err := c.Check(ctx, ref)
			if err != nil || !p.Complete() || p.Digest != want.String() {
				t.Fatalf("after push: %+v, %v; want %s complete", p, err, want)
			}
		})
	}
}

// TestPushTagsLast kills a push at every request in turn (its context is cancelled and the
// request it was making dropped, as when a CI runner SIGKILLs a job mid-push) and checks that
// the tag is then either absent or on a complete index whose images, blobs and signature are
// all there; a second push finishes the job.
func TestPushTagsLast(t *testing.T) {
	idx, atts := signedIndex(t)
	want, _ := idx.Digest()
	var sig string
	for tag := range atts {
		sig = tag
	}
	// A clean push counts the requests and shows the order: the tag's manifest PUT is last.
	f := newFaulty(t)
	ref, _ := ParseReference(f.host + "/spartan/test:key-1")
	c := New("test")
	if _, _, err := c.Push(context.Background(), &Source{Artifact: idx, Attachments: atts}, ref); err != nil {
		t.Fatal(err)
	}
	total := f.n.Load()
	if reqs := f.requests(); reqs[len(reqs)-1] != "PUT /v2/spartan/test/manifests/key-1" {
		t.Fatalf("last request %q, want the tag's manifest PUT", reqs[len(reqs)-1])
	}
	for k := int64(1); k <= total; k++ {
		f := newFaulty(t)
		ref, _ := ParseReference(f.host + "/spartan/test:key-1")
		ctx, cancel := context.WithCancel(context.Background())
		f.setFault(func(n int64, _ *http.Request) int {
			if n >= k {
				cancel()
				return cut
			}
			return 0
		})
		c := New("test")
		c.Retry = fastRetry
		_, _, err := c.Push(ctx, &Source{Artifact: idx, Attachments: atts}, ref)
		cancel()
		if err == nil {
			t.Fatalf("killed at request %d of %d: the push succeeded", k, total)
		}
		f.setFault(nil)
		check := New("test")
		p, err := check.Check(context.Background(), ref)
		if err != nil {
			t.Fatalf("killed at request %d: %v", k, err)
		}
		if p.Digest != "" {
			if !p.Complete() || p.Digest != want.String() {
				t.Fatalf("killed at request %d: the tag names an incomplete index: %+v", k, p)
			}
			if s, _ := check.Check(context.Background(), ref.Context().Tag(sig)); !s.Complete() {
				t.Fatalf("killed at request %d: tagged without its signature", k)
			}
		}
		if _, _, err := check.Push(context.Background(), &Source{Artifact: idx, Attachments: atts}, ref); err != nil {
			t.Fatalf("killed at request %d, pushing again: %v", k, err)
		}
		if p, err := check.Check(context.Background(), ref); err != nil || !p.Complete() || p.Digest != want.String() {
			t.Fatalf("killed at request %d, pushed again: %+v, %v", k, p, err)
		}
	}
}

// TestCheck: a tag whose blob was deleted behind the registry's back is not complete, and
// says what is missing; an absent tag is no error.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	f := newFaulty(t)
	c := New("test")
	img, _ := random.Image(1000, 2)
	ref, _ := ParseReference(f.host + "/spartan/test:key-2")
	if p, err := c.Check(ctx, ref); err != nil || p.Digest != "" || p.Complete() {
		t.Fatalf("absent tag: %+v, %v", p, err)
	}
	if _, _, err := c.Push(ctx, &Source{Artifact: img}, ref); err != nil {
		t.Fatal(err)
	}
	p, err := c.Check(ctx, ref)
	if err != nil || !p.Complete() {
		t.Fatalf("pushed: %+v, %v", p, err)
	}
	layers, _ := img.Layers()
	gone, _ := layers[1].Digest()
	req, _ := http.NewRequest(http.MethodDelete, "http://"+f.host+"/v2/spartan/test/blobs/"+gone.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete blob: %v %v", resp, err)
	}
	p, err = c.Check(ctx, ref)
	if err != nil || p.Complete() || p.Digest == "" || len(p.MissingBlobs) != 1 || p.MissingBlobs[0] != gone || len(p.MissingManifests) != 0 {
		t.Fatalf("blob deleted: %+v, %v; want it missing", p, err)
	}
	// Pushing again puts it back.
	if _, _, err := c.Push(ctx, &Source{Artifact: img}, ref); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Check(ctx, ref); err != nil || !p.Complete() {
		t.Fatalf("pushed again: %+v, %v", p, err)
	}
	// A registry that fails is an error, not "absent".
	f.setFault(func(int64, *http.Request) int { return http.StatusInternalServerError })
	c.Retry = fastRetry
	if _, err := c.Check(ctx, ref); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("failing registry: %v", err)
	}
}

// TestConcurrentPushes: workers that run the same unit at once (a CI job retried while the
// first attempt still runs, two pipelines on one commit) push the same bytes to the same key
// tag, through a registry that is also failing now and then, and one of them may be killed
// halfway. Whatever the interleaving, the tag ends on the one complete, signed index, with
// its per-architecture tags, and every worker that finished reports its digest.
func TestConcurrentPushes(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		fault   func(n int64, r *http.Request) int
		killed  string // this worker's requests are cut and its context cancelled after its 5th
	}{
		{"two workers", 2, nil, ""},
		{"four workers, registry 503 now and then", 4, func(n int64, _ *http.Request) int {
			if n%5 == 0 {
				return http.StatusServiceUnavailable
			}
			return 0
		}, ""},
		{"three workers, one killed halfway", 3, nil, "worker-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, atts := signedIndex(t)
			want, _ := idx.Digest()
			f := newFaulty(t)
			ref, _ := ParseReference(f.host + "/spartan/test:key-1")
			cancels := map[string]context.CancelFunc{}
			ctxs := map[string]context.Context{}
			for i := range tt.workers {
				ua := fmt.Sprintf("worker-%d", i)
				ctxs[ua], cancels[ua] = context.WithCancel(context.Background())
				defer cancels[ua]()
			}
			var killedAt atomic.Int64
			f.setFault(func(n int64, r *http.Request) int {
				if strings.HasPrefix(r.UserAgent(), "observer") {
					return 0
				}
				// Each request waits a little, so the workers' requests interleave.
				time.Sleep(time.Millisecond)
				if tt.killed != "" && strings.HasPrefix(r.UserAgent(), tt.killed) && killedAt.Add(1) > 5 {
					cancels[tt.killed]()
					return cut
				}
				if tt.fault != nil {
					return tt.fault(n, r)
				}
				return 0
			})
			// An observer looks at the tag while the workers push: whenever it is there, it is
			// on the complete index, and the signature is there too (pushed before the tag).
			done := make(chan struct{})
			observed := make(chan []string)
			go func() {
				var bad []string
				defer func() { observed <- bad }()
				o := New("observer")
				for {
					select {
					case <-done:
						return
					default:
					}
					p, err := o.Check(context.Background(), ref)
					if err != nil {
						bad = append(bad, err.Error())
						continue
					}
					if p.Digest == "" {
						continue
					}
					if !p.Complete() || p.Digest != want.String() {
						bad = append(bad, fmt.Sprintf("tag on %+v", p))
					}
					for tag := range atts {
						if s, err := o.Check(context.Background(), ref.Context().Tag(tag)); err != nil || !s.Complete() {
							bad = append(bad, fmt.Sprintf("tagged before its signature: %+v, %v", s, err))
						}
					}
				}
			}()
			digests := make([]string, tt.workers)
			errs := make([]error, tt.workers)
			var wg sync.WaitGroup
			for i := range tt.workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ua := fmt.Sprintf("worker-%d", i)
					c := New(ua)
					c.Retry = fastRetry
					digests[i], _, errs[i] = c.Push(ctxs[ua], &Source{Artifact: idx, Attachments: atts}, ref)
				}()
			}
			wg.Wait()
			close(done)
			if bad := <-observed; len(bad) > 0 {
				t.Errorf("the observer saw %d bad states, the first: %s", len(bad), bad[0])
			}
			for i := range tt.workers {
				ua := fmt.Sprintf("worker-%d", i)
				if ua == tt.killed {
					if errs[i] == nil {
						t.Errorf("%s was killed and still succeeded", ua)
					}
					continue
				}
				if errs[i] != nil || digests[i] != want.String() {
					t.Errorf("%s: %s, %v; want %s", ua, digests[i], errs[i], want)
				}
			}
			f.setFault(nil)
			c := New("check")
			check := func(ref name.Reference) {
				t.Helper()
				p, err := c.Check(context.Background(), ref)
				if err != nil || !p.Complete() {
					t.Errorf("%s: %+v, %v; want it complete", ref, p, err)
				}
			}
			p, err := c.Check(context.Background(), ref)
			if err != nil || !p.Complete() || p.Digest != want.String() {
				t.Fatalf("%s: %+v, %v; want %s complete", ref, p, err, want)
			}
			for tag := range atts {
				check(ref.Context().Tag(tag))
			}
			for _, arch := range []string{"amd64", "arm64"} {
				check(ref.Context().Tag("key-1-" + arch))
			}
			// The killed worker, run again, finds everything there and agrees.
			if tt.killed != "" {
				d, st, err := New(tt.killed).Push(context.Background(), &Source{Artifact: idx, Attachments: atts}, ref)
				if err != nil || d != want.String() {
					t.Fatalf("%s again: %s, %v", tt.killed, d, err)
				}
				if st.UploadedBlobs != 0 {
					t.Errorf("%s again uploaded %d blobs; the others had pushed them all", tt.killed, st.UploadedBlobs)
				}
			}
		})
	}
}
