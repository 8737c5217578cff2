package testkit

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server serves a Repo like a Debian mirror. The tamper knobs may be set by
// the test between requests (not while one is in flight).
type Server struct {
	URL string // repository root, no trailing slash

	BadSignature  bool            // InRelease and Release.gpg signed by a key not in Keyring
	CorruptPath   string          // URL path ("/dists/…") whose body gets one byte flipped
	TruncatePath  string          // URL path whose body stops halfway, after a full Content-Length
	TruncateTimes int             // >0: truncate only the first N requests to TruncatePath
	FailTimes     map[string]int  // URL path → answer 503 that many times, then succeed
	Missing       map[string]bool // URL path → 404

	repo      *Repo
	mu        sync.Mutex
	site      *site
	total     int
	per       map[string]int
	failed    map[string]int
	truncated int
}

// Serve publishes the repository on an httptest server closed at test cleanup.
func (r *Repo) Serve(t testing.TB) *Server {
	t.Helper()
	s := &Server{repo: r, per: map[string]int{}, failed: map[string]int{}}
	if err := s.Publish(); err != nil {
		t.Fatalf("testkit: %v", err)
	}
	ts := httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Publish rebuilds the served files from the Repo, for tests that change
// suites after Serve (a new version lands on the mirror).
func (s *Server) Publish() error {
	site, err := s.repo.build()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.site = site
	s.mu.Unlock()
	return nil
}

// Body returns what the server holds for a URL path ("/pool/…"), untampered.
func (s *Server) Body(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.site.files[strings.TrimPrefix(path, "/")]
	return b, ok
}

// Requests counts every request received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// RequestsFor counts requests for one URL path.
func (s *Server) RequestsFor(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.per[path]
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	s.mu.Lock()
	s.total++
	s.per[p]++
	fail := s.failed[p] < s.FailTimes[p]
	if fail {
		s.failed[p]++
	}
	body, ok := s.site.files[strings.TrimPrefix(p, "/")]
	if forged, isSig := s.site.forged[strings.TrimPrefix(p, "/")]; isSig && s.BadSignature {
		body = forged
	}
	missing, corrupt := !ok || s.Missing[p], p == s.CorruptPath
	truncate := p == s.TruncatePath && (s.TruncateTimes <= 0 || s.truncated < s.TruncateTimes)
	if truncate && !fail && !missing {
		s.truncated++
	}
	s.mu.Unlock()

	switch {
	case fail:
		http.Error(w, "testkit: injected failure", http.StatusServiceUnavailable)
		return
	case missing:
		http.NotFound(w, r)
		return
	}
	if corrupt {
		body = append([]byte(nil), body...)
		if len(body) == 0 {
			body = []byte{0}
		} else {
			body[len(body)/2] ^= 0xff
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if truncate {
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		// Aborting drops the connection, so the client sees an unexpected EOF.
		panic(http.ErrAbortHandler)
	}
	w.Write(body)
}
