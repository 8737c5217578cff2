package deb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	arMagic      = "!<arch>\n"
	arHeaderSize = 60
)

// arReader walks the members of a common-format ar archive (the only one dpkg writes) without
// seeking, so a .deb can be read straight from a download or a file.
type arReader struct {
	r   io.Reader
	cur *memberReader // unread rest of the current member, drained before the next header
	pad bool          // the current member has an odd size: one padding byte follows it
}

type arMember struct {
	Name string
	Size int64
}

func newArReader(r io.Reader) (*arReader, error) {
	var magic [len(arMagic)]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("ar header: %w", unexpected(err))
	}
	if string(magic[:]) != arMagic {
		return nil, errors.New("not a Debian package: missing the \"!<arch>\" ar header")
	}
	return &arReader{r: r}, nil
}

// Next returns the next member's header and a reader bounded to its size; io.EOF when no
// member follows.
func (a *arReader) Next() (arMember, io.Reader, error) {
	if a.cur != nil {
		if _, err := io.Copy(io.Discard, a.cur); err != nil {
			return arMember{}, nil, err
		}
		if a.pad {
			var b [1]byte
			if _, err := io.ReadFull(a.r, b[:]); err != nil && err != io.EOF {
				return arMember{}, nil, err
			}
		}
		a.cur = nil
	}
	var h [arHeaderSize]byte
	n, err := io.ReadFull(a.r, h[:])
	if err == io.EOF {
		return arMember{}, nil, io.EOF
	}
	if err != nil {
		return arMember{}, nil, fmt.Errorf("ar member header truncated after %d of %d bytes", n, arHeaderSize)
	}
	if h[58] != '`' || h[59] != '\n' {
		return arMember{}, nil, fmt.Errorf("corrupt ar member header %q", printable(h[:16]))
	}
	// GNU ar terminates names with "/"; dpkg accepts both spellings.
	name := strings.TrimSuffix(strings.TrimRight(string(h[0:16]), " "), "/")
	sizeField := strings.TrimRight(string(h[48:58]), " ")
	size, err := strconv.ParseInt(sizeField, 10, 64)
	if err != nil || size < 0 {
		return arMember{}, nil, fmt.Errorf("ar member %q: invalid size %q", printable([]byte(name)), printable([]byte(sizeField)))
	}
	a.cur = &memberReader{r: a.r, left: size}
	a.pad = size%2 == 1
	return arMember{Name: name, Size: size}, a.cur, nil
}

// memberReader yields exactly the member's bytes and reports a short archive as
// io.ErrUnexpectedEOF, which a plain io.LimitReader would hide as a clean EOF.
type memberReader struct {
	r    io.Reader
	left int64
}

func (m *memberReader) Read(p []byte) (int, error) {
	if m.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > m.left {
		p = p[:m.left]
	}
	n, err := m.r.Read(p)
	m.left -= int64(n)
	if err == io.EOF {
		if m.left > 0 {
			return n, io.ErrUnexpectedEOF
		}
		err = nil
	}
	return n, err
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// printable keeps hostile member names from garbling error messages.
func printable(b []byte) string {
	b = bytes.TrimRight(b, " ")
	out := make([]rune, 0, len(b))
	for _, c := range string(b) {
		if c < 0x20 || c == 0x7f || c == 0xfffd {
			c = '?'
		}
		out = append(out, c)
	}
	return string(out)
}
