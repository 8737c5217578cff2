package deflate

import (
	"bytes"
	"testing"
)

// FuzzRoundTrip checks that every input survives both the raw and the gzip
// encodings, never grows past stored-block overhead, and encodes the same
// way twice.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a"))
	f.Add([]byte("abcabcabcabd"))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := Deflate(data)
		if got := inflate(t, raw); !bytes.Equal(got, data) {
			t.Fatalf("deflate round trip differs")
		}
		if len(raw) > storedBound(len(data)) {
			t.Fatalf("%d bytes grew to %d", len(data), len(raw))
		}
		gz := Gzip(data)
		if got := gunzip(t, gz); !bytes.Equal(got, data) {
			t.Fatalf("gzip round trip differs")
		}
		if !bytes.Equal(gz[10:len(gz)-8], raw) {
			t.Fatalf("not deterministic")
		}
	})
}
