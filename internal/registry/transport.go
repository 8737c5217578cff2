package registry

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// Stats counts what a push really sent. ggcr's progress callback also counts blobs the
// registry already had, so the numbers come from the HTTP exchanges themselves.
type Stats struct {
	UploadedBytes int64 // request body bytes sent to blob upload endpoints
	UploadedBlobs int64 // blob uploads completed (PUT …?digest=)
	PresentBlobs  int64 // blobs of the pushed artifacts that were already there (set by Push)
	Manifests     int64 // manifests written
}

type counter struct {
	bytes, blobs, manifests atomic.Int64
}

func (c *counter) stats() Stats {
	return Stats{
		UploadedBytes: c.bytes.Load(),
		UploadedBlobs: c.blobs.Load(),
		Manifests:     c.manifests.Load(),
	}
}

// countingTransport classifies registry API calls by method and path (distribution spec
// endpoints) and counts them.
type countingTransport struct {
	next http.RoundTripper
	c    *counter
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	path := req.URL.Path
	upload := strings.Contains(path, "/blobs/uploads/")
	if upload && req.Body != nil && (req.Method == http.MethodPatch || req.Method == http.MethodPut) {
		req.Body = &countingBody{ReadCloser: req.Body, n: &t.c.bytes}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case !ok:
	case upload && req.Method == http.MethodPut && req.URL.Query().Get("digest") != "":
		t.c.blobs.Add(1)
	case req.Method == http.MethodPut && strings.Contains(path, "/manifests/"):
		t.c.manifests.Add(1)
	}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
