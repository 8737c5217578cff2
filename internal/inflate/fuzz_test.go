package inflate

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/spartan-images/spartan/internal/deflate"
)

// FuzzInflate reads arbitrary input with both this package and compress/gzip (the oracle):
// whatever one accepts the other must accept with the same bytes, and this package must never
// panic or accept a stream the oracle finds damaged. Seeds: valid members from several
// encoders, and damaged copies of them (testdata/fuzz/FuzzInflate).
func FuzzInflate(f *testing.F) {
	for _, data := range [][]byte{nil, []byte("a"), []byte("hello, hello, hello"), bytes.Repeat([]byte{0, 1, 2}, 400)} {
		for _, enc := range encoders {
			f.Add(enc(data))
		}
	}
	f.Add(append(stdGzip([]byte("one"), 6), deflate.Gzip([]byte("two"))...))
	f.Fuzz(func(t *testing.T, in []byte) {
		want, werr := oracle(in)
		z, err := NewReader(bytes.NewReader(in))
		var got []byte
		if err == nil {
			got, err = io.ReadAll(z)
		}
		switch {
		case werr == nil && err != nil:
			t.Fatalf("oracle reads %d bytes, this package fails: %v", len(want), err)
		case werr != nil && err == nil:
			t.Fatalf("oracle fails (%v), this package reads %d bytes", werr, len(got))
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("different bytes: %d vs the oracle's %d", len(got), len(want))
		}
	})
}

func oracle(in []byte) ([]byte, error) {
	z, err := gzip.NewReader(bytes.NewReader(in))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}
