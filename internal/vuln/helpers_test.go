package vuln

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// feedServer serves a tracker feed like the real server: ETag and Last-Modified, 304 for
// matching conditional requests.
type feedServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	etag     string
	modified time.Time
	status   int
	inm, ims string
}

func newFeedServer(t *testing.T, body []byte) *feedServer {
	s := &feedServer{modified: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	s.set(body)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *feedServer) set(body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
	s.etag = fmt.Sprintf("%q", sha256hex(body)[:16])
	s.modified = s.modified.Add(time.Hour)
}

func (s *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inm, s.ims = r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if s.status != 0 {
		http.Error(w, "broken", s.status)
		return
	}
	if r.URL.Path != "/tracker/data/json" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Last-Modified", s.modified.Format(http.TimeFormat))
	if s.inm == s.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.body)
}

func (s *feedServer) lastIfNoneMatch() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inm
}

func (s *feedServer) lastIfModifiedSince() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ims
}
