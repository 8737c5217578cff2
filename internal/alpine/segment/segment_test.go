package segment

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1" //nolint:gosec // the hashes apk uses
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Each segment yields its own content and the hashes of exactly its compressed bytes.
func TestSegments(t *testing.T) {
	parts := [][]byte{gz(t, "signature"), gz(t, strings.Repeat("control ", 5000)), gz(t, "data")}
	r := NewReader(bytes.NewReader(bytes.Join(parts, nil)), 1<<20)
	for i, want := range []string{"signature", strings.Repeat("control ", 5000), "data"} {
		body, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body)
		if err != nil || string(got) != want {
			t.Fatalf("segment %d: %q, %v", i+1, got[:min(20, len(got))], err)
		}
		s1, s256 := r.Sums()
		w1, w256 := sha1.Sum(parts[i]), sha256.Sum256(parts[i]) //nolint:gosec // see import
		if !bytes.Equal(s1, w1[:]) || !bytes.Equal(s256, w256[:]) {
			t.Errorf("segment %d: hashes are not those of its compressed bytes", i+1)
		}
	}
	if _, err := r.Next(); !errors.Is(err, ErrNoMore) {
		t.Errorf("after the last segment: %v", err)
	}
}

func TestSegmentErrors(t *testing.T) {
	whole := gz(t, strings.Repeat("x", 10000))
	r := NewReader(bytes.NewReader(whole[:len(whole)-5]), 1<<20)
	body, err := r.Next()
	if err == nil {
		_, err = io.ReadAll(body)
	}
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated segment: %v", err)
	}
	r = NewReader(bytes.NewReader([]byte("not gzip at all")), 1<<20)
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "not gzip") {
		t.Errorf("garbage: %v", err)
	}
	r = NewReader(bytes.NewReader(gz(t, strings.Repeat("y", 100000))), 64)
	body, err = r.Next()
	if err == nil {
		_, err = io.ReadAll(body)
	}
	if err == nil || !strings.Contains(err.Error(), "oversized") {
		t.Errorf("over the cap: %v", err)
	}
}
