package deb

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/spartan-images/spartan/internal/inflate"
	"github.com/spartan-images/spartan/internal/xz"
)

// maxZstdWindow bounds the memory a zstd frame may ask for. dpkg and Ubuntu's archive use far
// smaller windows; a frame asking for more is hostile or corrupt.
const maxZstdWindow = 128 << 20

// decompressor returns how to open a member named prefix+ext ("data.tar.xz"), or an error
// saying which compressions are accepted.
func decompressor(prefix, name string) (func(io.Reader) (io.ReadCloser, error), error) {
	ext := strings.TrimPrefix(name, prefix)
	switch ext {
	case "":
		return func(r io.Reader) (io.ReadCloser, error) { return io.NopCloser(r), nil }, nil
	case ".gz":
		return func(r io.Reader) (io.ReadCloser, error) {
			zr, err := inflate.NewReader(r)
			if err != nil {
				return nil, err
			}
			return io.NopCloser(zr), nil
		}, nil
	case ".xz":
		return func(r io.Reader) (io.ReadCloser, error) {
			// internal/xz verifies every check of the format, refuses dictionaries over
			// 128 MiB and grows its window with the output, so a block declaring a huge
			// dictionary costs nothing before it is refused; it decodes about twice as fast as
			// ulikunitz/xz (docs/BENCHMARKS.md).
			zr, err := xz.NewReader(r)
			if err != nil {
				return nil, err
			}
			return io.NopCloser(zr), nil
		}, nil
	case ".zst":
		return func(r io.Reader) (io.ReadCloser, error) {
			zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
			if err != nil {
				return nil, err
			}
			return zr.IOReadCloser(), nil
		}, nil
	case ".bz2", ".lzma":
		return nil, fmt.Errorf("%s: %s compression is not supported (only none, gzip, xz and zstd); rebuild the package with dpkg-deb -Zxz", name, ext[1:])
	}
	return nil, fmt.Errorf("unexpected member %q: want %s, %s.gz, %s.xz or %s.zst", name, prefix, prefix, prefix, prefix)
}

// errTooLarge marks a decompressed stream that exceeded its budget.
var errTooLarge = errors.New("decompressed size exceeds the limit")

// cappedReader fails, rather than silently stopping, once more than max bytes were read, so a
// decompression bomb is reported instead of truncated.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// Probe one byte: a stream of exactly max bytes is fine.
		var b [1]byte
		n, err := c.r.Read(b[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
