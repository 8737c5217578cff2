// Package deb reads Debian binary packages as a stream: the ar container, the control
// information and every entry of the data archive, without writing anything to disk and
// without trusting the sizes an archive claims.
package deb

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/control"
)

// Limits on what a .deb may make us read. Real packages stay far below them; anything larger
// is corrupt or hostile and is refused before it can exhaust memory.
const (
	maxDebianBinary = 1 << 10  // "2.0\n"
	maxControl      = 64 << 20 // control.tar member, compressed and decompressed
	maxData         = 8 << 30  // data.tar member as stored
	maxTrailer      = 1 << 20  // decompressed bytes after the end-of-tar marker we still verify
)

// Info is a package's control information.
type Info struct {
	Control   control.Paragraph // ./control
	MD5Sums   []byte            // ./md5sums as shipped ("<md5>  <path>\n"), nil when absent
	Conffiles []string          // absolute paths from ./conffiles, flags such as remove-on-upgrade dropped
}

// DataFunc receives each data.tar entry in archive order. body yields the entry's content and
// need not be read. An error it returns stops Read and is returned unchanged.
type DataFunc func(hdr *tar.Header, body io.Reader) error

var formatVersion = regexp.MustCompile(`^2\.[0-9]+$`)

// Read parses the .deb streamed by r: debian-binary, then control.tar[.gz|.xz|.zst], then
// data.tar[.gz|.xz|.zst], whose entries are passed to data in order (data may be nil). Members
// whose name starts with "_" are skipped, as dpkg does. Errors name the member at fault.
func Read(r io.Reader, data DataFunc) (*Info, error) {
	ar, err := newArReader(r)
	if err != nil {
		return nil, err
	}
	m, body, err := ar.Next()
	if err == io.EOF {
		return nil, errors.New("empty ar archive: no debian-binary member")
	}
	if err != nil {
		return nil, err
	}
	if m.Name != "debian-binary" {
		return nil, fmt.Errorf("first member is %q, want debian-binary: not a Debian binary package", printable([]byte(m.Name)))
	}
	if m.Size > maxDebianBinary {
		return nil, fmt.Errorf("debian-binary: %d bytes, more than %d", m.Size, maxDebianBinary)
	}
	vb, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("debian-binary: %w", describe(err))
	}
	if v := strings.TrimSpace(string(vb)); !formatVersion.MatchString(v) {
		return nil, fmt.Errorf("debian-binary: format version %q is not supported (want 2.x)", printable([]byte(v)))
	}

	m, body, err = nextMember(ar, "control.tar")
	if err != nil {
		return nil, err
	}
	if m.Size > maxControl {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d MiB a control archive may have", m.Name, m.Size, maxControl>>20)
	}
	info, err := readControl(m.Name, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}

	m, body, err = nextMember(ar, "data.tar")
	if err != nil {
		return nil, err
	}
	if m.Size > maxData {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d GiB a data archive may have", m.Name, m.Size, maxData>>30)
	}
	if err := readData(m.Name, body, data); err != nil {
		return nil, err
	}
	return info, nil
}

// nextMember returns the next member, which must be prefix[.ext]; "_"-members are skipped.
func nextMember(ar *arReader, prefix string) (arMember, io.Reader, error) {
	for {
		m, body, err := ar.Next()
		if err == io.EOF {
			return m, nil, fmt.Errorf("archive ends before its %s member: truncated package", prefix)
		}
		if err != nil {
			return m, nil, fmt.Errorf("reading the %s member: %w", prefix, err)
		}
		if strings.HasPrefix(m.Name, "_") {
			continue
		}
		if !strings.HasPrefix(m.Name, prefix) {
			return m, nil, fmt.Errorf("unexpected member %q where %s was expected", printable([]byte(m.Name)), prefix)
		}
		return m, body, nil
	}
}

func readControl(name string, body io.Reader) (*Info, error) {
	open, err := decompressor("control.tar", name)
	if err != nil {
		return nil, err
	}
	zr, err := open(body)
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", unexpected(err))
	}
	defer zr.Close()
	tr := tar.NewReader(&cappedReader{r: zr, left: maxControl})
	info := &Info{}
	var sawControl bool
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, describe(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		file := strings.TrimPrefix(strings.TrimPrefix(hdr.Name, "./"), "/")
		switch file {
		case "control", "md5sums", "conffiles":
		default:
			continue // maintainer scripts, triggers, shlibs…: never run, not needed
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("./%s: %w", file, describe(err))
		}
		switch file {
		case "control":
			p, err := control.Parse(string(content))
			if err != nil {
				return nil, fmt.Errorf("./control: %w", err)
			}
			if p.Get("Package") == "" {
				return nil, errors.New("./control: no Package field")
			}
			info.Control, sawControl = p, true
		case "md5sums":
			info.MD5Sums = content
		case "conffiles":
			info.Conffiles = parseConffiles(content)
		}
	}
	if !sawControl {
		return nil, errors.New("no ./control file")
	}
	return info, drain(zr)
}

func readData(name string, body io.Reader, data DataFunc) error {
	open, err := decompressor("data.tar", name)
	if err != nil {
		return err
	}
	zr, err := open(body)
	if err != nil {
		return fmt.Errorf("%s: decompress: %w", name, unexpected(err))
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, describe(err))
		}
		if data == nil {
			continue
		}
		if err := data(hdr, &entryReader{r: tr, where: name + ": " + hdr.Name}); err != nil {
			return err
		}
	}
	if err := drain(zr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// drain reads what follows the end-of-tar marker so the compressor's checksum is verified and
// a truncated stream is noticed; beyond maxTrailer the rest is not our concern.
func drain(r io.Reader) error {
	if _, err := io.Copy(io.Discard, io.LimitReader(r, maxTrailer)); err != nil {
		return describe(err)
	}
	return nil
}

// describe turns low-level read failures into messages a user can act on.
func describe(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated: %w (the download is incomplete; delete it and fetch again)", err)
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("%w (%d MiB)", err, maxControl>>20)
	}
	return fmt.Errorf("corrupt: %w", err)
}

func parseConffiles(b []byte) []string {
	var out []string
	for _, line := range strings.Split(string(bytes.TrimSpace(b)), "\n") {
		line = strings.TrimSpace(line)
		// dpkg ≥ 1.20 prefixes flags ("remove-on-upgrade /etc/x"); paths always start with "/".
		if i := strings.Index(line, "/"); i > 0 {
			line = line[i:]
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// entryReader makes a failure while the callback reads an entry's body say where it happened,
// since the callback returns it unchanged.
type entryReader struct {
	r     io.Reader
	where string
}

func (e *entryReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", e.where, describe(err))
	}
	return n, err
}
