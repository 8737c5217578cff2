package cache

import (
	"errors"
	"io"
)

// body wraps a response body to count bytes, feed the progress bar and the
// stall watchdog, and turn a short or long body into a classified error. The
// first such error is kept in err, because whoever reads through it (Put,
// io.ReadAll) wraps errors in its own words.
type body struct {
	r      io.Reader
	limit  int64 // more than this is an error; 0: no limit
	capped bool  // limit is our own cap rather than the expected size
	want   int64 // expected length; ending before it is a truncation; <=0: unknown
	n      int64
	err    error
	kick   func()
	bar    *bar
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if n > 0 {
		if b.kick != nil {
			b.kick()
		}
		b.bar.add(int64(n))
	}
	switch {
	case b.limit > 0 && b.n > b.limit:
		b.err = &oversizeError{got: b.n, want: b.limit, limit: b.capped}
	case err == io.EOF && b.want > 0 && b.n < b.want,
		errors.Is(err, io.ErrUnexpectedEOF):
		b.err = &truncatedError{got: b.n, want: b.want}
	case err != nil && err != io.EOF:
		b.err = err
	default:
		return n, err
	}
	return n, b.err
}
