// Package segment splits the concatenated gzip streams apk-tools builds indexes and packages
// from (signature, control, data), hashing each stream's compressed bytes as they are read:
// signatures and the index checksum cover those bytes, not the decompressed tar.
package segment

import (
	"bufio"
	"compress/gzip"
	"crypto/sha1" //nolint:gosec // apk's checksums and RSA signatures are defined over SHA-1.
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Reader yields one gzip stream at a time. It consumes exactly the bytes of each stream, so
// the next one starts where the previous ended, and hashes them with SHA-1 and SHA-256.
type Reader struct {
	src     *bufio.Reader
	max     int64 // compressed bytes allowed in total
	n       int64
	sha1    hash.Hash
	sha256  hash.Hash
	pending []byte
	z       *gzip.Reader
	index   int
}

// NewReader reads segments from r, refusing more than max compressed bytes in total.
func NewReader(r io.Reader, max int64) *Reader {
	return &Reader{src: bufio.NewReaderSize(r, 64<<10), max: max, sha1: sha1.New(), sha256: sha256.New()} //nolint:gosec // see import
}

// ErrNoMore is returned by Next when the input ends where a segment could start.
var ErrNoMore = errors.New("no further gzip segment")

// Next starts the next segment and returns its decompressed content; the hashes restart here.
// The caller reads the content to io.EOF before calling Sum or Next.
func (r *Reader) Next() (io.Reader, error) {
	r.flush()
	r.sha1.Reset()
	r.sha256.Reset()
	if _, err := r.src.Peek(1); err == io.EOF {
		return nil, ErrNoMore
	} else if err != nil {
		return nil, err
	}
	r.index++
	var err error
	if r.z == nil {
		r.z, err = gzip.NewReader(byteReader{r})
	} else {
		err = r.z.Reset(byteReader{r})
	}
	if err != nil {
		return nil, fmt.Errorf("gzip segment %d: %w", r.index, describe(err))
	}
	r.z.Multistream(false)
	return segmentReader{r}, nil
}

// Index is the 1-based number of the current segment, for messages.
func (r *Reader) Index() int { return r.index }

// Sums returns the SHA-1 and SHA-256 of the compressed bytes of the current segment read so
// far (all of them once its content reached io.EOF).
func (r *Reader) Sums() (sha1Sum, sha256Sum []byte) {
	r.flush()
	return r.sha1.Sum(nil), r.sha256.Sum(nil)
}

// Offset is how many compressed bytes have been consumed.
func (r *Reader) Offset() int64 { return r.n }

func (r *Reader) flush() {
	if len(r.pending) > 0 {
		r.sha1.Write(r.pending)
		r.sha256.Write(r.pending)
		r.pending = r.pending[:0]
	}
}

func (r *Reader) consumed(b []byte) error {
	r.n += int64(len(b))
	if r.n > r.max {
		return fmt.Errorf("more than %d compressed bytes: refusing oversized input", r.max)
	}
	r.pending = append(r.pending, b...)
	if len(r.pending) >= 32<<10 {
		r.flush()
	}
	return nil
}

// byteReader gives gzip an io.ByteReader so that it reads no byte past the stream's end.
type byteReader struct{ r *Reader }

func (b byteReader) ReadByte() (byte, error) {
	c, err := b.r.src.ReadByte()
	if err != nil {
		return 0, err
	}
	return c, b.r.consumed([]byte{c})
}

func (b byteReader) Read(p []byte) (int, error) {
	n, err := b.r.src.Read(p)
	if cerr := b.r.consumed(p[:n]); cerr != nil {
		return n, cerr
	}
	return n, err
}

type segmentReader struct{ r *Reader }

func (s segmentReader) Read(p []byte) (int, error) {
	n, err := s.r.z.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("gzip segment %d: %w", s.r.index, describe(err))
	}
	return n, err
}

// describe turns the decompressor's terse errors into what they mean for an apk file.
func describe(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("truncated: the file ends inside a gzip stream (%w)", io.ErrUnexpectedEOF)
	case errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("gzip checksum mismatch: the file is corrupt (%w)", err)
	case errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("not gzip data: %w", err)
	}
	return err
}
