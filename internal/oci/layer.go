package oci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/spartan-images/spartan/internal/deflate"
	"github.com/spartan-images/spartan/internal/inflate"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is one filesystem layer as internal/assemble produces it.
type Layer struct {
	// Name identifies the layer in errors and in the default history entry.
	Name string
	// Tar is the uncompressed tar stream; it must already be deterministic
	// (sorted entries, fixed mtimes and owners) because it is hashed as is.
	Tar []byte
	// Gzip, Digest and DiffID, when Gzip is set, are a layer compressed earlier (a build
	// cache hit): used as they are, Tar may then be empty.
	Gzip           []byte
	Digest, DiffID v1.Hash
}

// Layers are compressed by internal/deflate, a zlib-grade encoder (3-byte matches, lazy
// matching, per-block Huffman choice) with a fixed header (no name, no comment, MTIME 0,
// OS 255): the bytes depend on the tar alone. Go's own encoders never emit matches shorter
// than 4 bytes and lose 3-8 % on our layers (binaries, UTF-16 ICU data); see
// docs/BENCHMARKS.md, "Layer compression". Changing the encoder changes every layer digest.

// gzipLayer is a v1.Layer whose compressed form was made here, so that
// go-containerregistry never recompresses it (which would make the digest
// depend on its gzip settings) and the DiffID is the hash of the tar we got.
type gzipLayer struct {
	name   string
	tar    []byte
	gz     []byte
	digest v1.Hash // sha256 of gz
	diffID v1.Hash // sha256 of tar
}

var _ v1.Layer = (*gzipLayer)(nil)

func (l *gzipLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *gzipLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *gzipLayer) Size() (int64, error)                { return int64(len(l.gz)), nil }
func (l *gzipLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

func (l *gzipLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}

func (l *gzipLayer) Uncompressed() (io.ReadCloser, error) {
	if l.tar == nil {
		zr, err := inflate.NewReader(bytes.NewReader(l.gz))
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", l.name, err)
		}
		return io.NopCloser(zr), nil
	}
	return io.NopCloser(bytes.NewReader(l.tar)), nil
}

// compressLayer gzips one layer with a header that carries nothing about the
// host or the time: no name, no comment, mtime 0, fixed OS byte.
func compressLayer(l Layer) (*gzipLayer, error) {
	if l.Gzip != nil {
		if l.Digest.Hex == "" || l.DiffID.Hex == "" {
			return nil, fmt.Errorf("layer %q: precompressed without digest and diff id", l.Name)
		}
		return &gzipLayer{name: l.Name, tar: l.Tar, gz: l.Gzip, digest: l.Digest, diffID: l.DiffID}, nil
	}
	if len(l.Tar) == 0 {
		return nil, fmt.Errorf("layer %q: tar is empty (even an empty tar has 1024 bytes); the assembler produced nothing", l.Name)
	}
	// Hash before compressing: if the tar changed while it was being compressed (a caller
	// still writing into a buffer it handed over), the read-back check below can tell that
	// apart from an encoder bug.
	diffID := sha256Hash(l.Tar)
	gz := deflate.Gzip(l.Tar)
	// The encoder is ours: prove on every layer that what we publish inflates to the tar
	// whose digest we announce, rather than let a pull find out.
	if err := checkGzip(gz, l.Tar); err != nil {
		if now := sha256Hash(l.Tar); now != diffID {
			return nil, fmt.Errorf("layer %q: the tar changed while it was being compressed (sha256 %s before, %s after): the caller reused the buffer, please report it: %w", l.Name, diffID.Hex, now.Hex, err)
		}
		return nil, fmt.Errorf("layer %q (%d bytes): %w", l.Name, len(l.Tar), err)
	}
	return &gzipLayer{
		name:   l.Name,
		tar:    l.Tar,
		gz:     gz,
		digest: sha256Hash(gz),
		diffID: diffID,
	}, nil
}

// checkGzip inflates gz and compares the result with tar byte for byte, so that a failure
// says where the streams part (the gzip trailer's CRC only says that they do).
func checkGzip(gz, tar []byte) error {
	zr, err := inflate.NewReader(bytes.NewReader(gz))
	if err != nil {
		return fmt.Errorf("compressed layer does not read back: %w", err)
	}
	cw := &compareWriter{want: tar, diff: -1}
	_, err = io.Copy(cw, zr)
	switch {
	case cw.diff >= 0:
		return fmt.Errorf("compressed layer inflates to bytes that differ from the tar's at offset %d of %d: a compressor bug, please report it", cw.diff, len(tar))
	case err != nil:
		return fmt.Errorf("compressed layer does not read back after %d of %d bytes: %w", cw.n, len(tar), err)
	case cw.n != len(tar):
		return fmt.Errorf("compressed layer inflates to %d bytes, not the tar's %d: a compressor bug, please report it", cw.n, len(tar))
	}
	return nil
}

// compareWriter checks what is written to it against want.
type compareWriter struct {
	want []byte
	n    int // bytes written so far
	diff int // offset of the first difference, or -1
}

func (c *compareWriter) Write(p []byte) (int, error) {
	if c.diff < 0 {
		rest := c.want[min(c.n, len(c.want)):]
		if len(p) > len(rest) || !bytes.Equal(p, rest[:len(p)]) {
			i := 0
			for i < len(p) && i < len(rest) && p[i] == rest[i] {
				i++
			}
			c.diff = c.n + i
		}
	}
	c.n += len(p)
	return len(p), nil
}

// compressLayers compresses all layers, one goroutine per CPU. A large layer
// is itself compressed in pieces in parallel (internal/deflate), at offsets
// fixed by its length, so the output does not depend on the degree of
// parallelism either way.
func compressLayers(layers []Layer) ([]*gzipLayer, error) {
	out := make([]*gzipLayer, len(layers))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, l := range layers {
		g.Go(func() error {
			gl, err := compressLayer(l)
			if err != nil {
				return err
			}
			out[i] = gl
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func sha256Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}
