package cache

import (
	"errors"
	"io"
	"os"
)

// tee passes what is read through it on to a consumer reading the other end of a pipe, on
// its own goroutine. The consumer may stop early (an error, or done before the end): from then
// on its share is dropped, so the download itself always completes or fails on its own terms.
type tee struct {
	r    io.Reader
	pw   *io.PipeWriter
	dead bool // the consumer stopped reading
	done chan struct{}
}

// errConsumerStopped ends the pipe's reading side once the consumer returned, so that a write
// after that fails at once instead of waiting for a reader that is gone.
var errConsumerStopped = errors.New("consumer stopped")

func startTee(r io.Reader, consume func(io.Reader) error) *tee {
	pr, pw := io.Pipe()
	t := &tee{r: r, pw: pw, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		_ = consume(pr) // the caller keeps the result; see FetchStream
		pr.CloseWithError(errConsumerStopped)
	}()
	return t
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 && !t.dead {
		if _, werr := t.pw.Write(p[:n]); werr != nil {
			t.dead = true
		}
	}
	if err != nil {
		// io.EOF ends the consumer's input cleanly; any other error ends it with that error,
		// so a consumer never takes a cut-off download for a whole one.
		t.pw.CloseWithError(err)
	}
	return n, err
}

// wait ends the consumer's input (with an error if the attempt stopped before the end) and
// waits for the consumer to return.
func (t *tee) wait() {
	t.pw.CloseWithError(io.ErrUnexpectedEOF) // no-op after the EOF above
	<-t.done
}

// consumeFile hands a stored blob to consume; a file that cannot be opened reaches consume as
// a reader that fails with that error.
func consumeFile(path string, consume func(io.Reader) error) {
	f, err := os.Open(path)
	if err != nil {
		_ = consume(errReader{err})
		return
	}
	defer f.Close()
	_ = consume(f)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
