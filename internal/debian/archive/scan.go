package archive

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxIndexLine matches control.Reader's line limit, so the scanner refuses exactly the indexes
// the paragraph parser refuses.
const maxIndexLine = 16 << 20

// packageSlab is how many Packages are allocated at once: a 65,000-stanza index becomes a few
// dozen allocations instead of one per package.
const packageSlab = 1024

// scanIndex reads a whole decompressed Packages index in one pass. It finds the stanza
// boundaries and picks out only the fields a Package carries; every other field (Description,
// MD5sum, Tag, Maintainer, … — most of the index's bytes) is checked for well-formedness and
// skipped, never copied. Values are substrings of text, so a stanza costs no allocation beyond
// its Package. It accepts and rejects exactly what control.Reader followed by fillPackage does
// (FuzzScanIndex holds it to that), including the line numbers in its errors.
func scanIndex(text string, rel *Release) ([]*Package, error) {
	s := newIndexScanner(rel, len(text)/1024+1)
	if err := s.scan(text); err != nil {
		return nil, err
	}
	return s.finish()
}

// indexScanner is scanIndex fed in pieces, so scanning can overlap decompression: each piece
// must end at a line end (the last one may end without a newline). Stanzas may span pieces.
type indexScanner struct {
	rel    *Release
	out    []*Package
	slab   []Package
	v      [numFields]string
	seen   uint32
	last   int // field whose continuation lines extend its value, or -1
	fields int // fields in the current stanza
	line   int
}

func newIndexScanner(rel *Release, sizeHint int) *indexScanner {
	return &indexScanner{rel: rel, out: make([]*Package, 0, sizeHint), last: -1}
}

func (s *indexScanner) emit() error {
	if len(s.slab) == 0 {
		s.slab = make([]Package, packageSlab)
	}
	pkg := &s.slab[0]
	s.slab = s.slab[1:]
	pkg.Origin = s.rel
	if err := fillPackage(pkg, &s.v); err != nil {
		return fmt.Errorf("stanza ending at line %d: %w", s.line, err)
	}
	s.out = append(s.out, pkg)
	s.v = [numFields]string{}
	s.seen, s.last, s.fields = 0, -1, 0
	return nil
}

// finish ends the last stanza and returns the packages.
func (s *indexScanner) finish() ([]*Package, error) {
	if s.fields > 0 {
		if err := s.emit(); err != nil {
			return nil, err
		}
	}
	return s.out, nil
}

// scan reads the lines of text, a piece of the index that ends at a line end or at the end
// of the index.
func (s *indexScanner) scan(text string) error {
	for pos := 0; pos < len(text); {
		var raw string
		if n := strings.IndexByte(text[pos:], '\n'); n >= 0 {
			raw = text[pos : pos+n]
			pos += n + 1
			if n+1 > maxIndexLine {
				return fmt.Errorf("line %d: line longer than 16 MiB", s.line+1)
			}
		} else {
			raw = text[pos:]
			pos = len(text)
			if len(raw) >= maxIndexLine {
				return fmt.Errorf("line %d: line longer than 16 MiB", s.line+1)
			}
		}
		s.line++
		// bufio.ScanLines drops one trailing CR and control.Reader another.
		raw = strings.TrimSuffix(strings.TrimSuffix(raw, "\r"), "\r")
		if blank(raw) {
			if s.fields > 0 {
				if err := s.emit(); err != nil {
					return err
				}
			}
			continue
		}
		c := raw[0]
		if c == '#' && s.fields == 0 {
			continue
		}
		if c == ' ' || c == '\t' {
			if s.fields == 0 {
				return fmt.Errorf("line %d: continuation line before any field", s.line)
			}
			if s.last >= 0 {
				s.v[s.last] += "\n" + raw
			}
			continue
		}
		colon := strings.IndexByte(raw, ':')
		if colon < 0 {
			return fmt.Errorf("line %d: expected \"Field: value\", got %q", s.line, shorten(raw))
		}
		name := raw[:colon]
		if name == "" || hasBlank(name) {
			return fmt.Errorf("line %d: invalid field name %q", s.line, shorten(name))
		}
		s.fields++
		s.last = -1
		if id := fieldID(name); id >= 0 && s.seen&(1<<id) == 0 {
			s.seen |= 1 << id
			s.v[id] = strings.TrimSpace(raw[colon+1:])
			s.last = id
		}
	}
	return nil
}

// blank reports whether a line separates stanzas: empty or only white space, as
// strings.TrimSpace sees it. Most lines start with a letter and are decided by one byte.
func blank(s string) bool {
	if s == "" {
		return true
	}
	if c := s[0]; c < utf8.RuneSelf && c != ' ' && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' {
		return false
	}
	return strings.TrimSpace(s) == ""
}

// hasBlank is strings.ContainsAny(s, " \t") without building a character set per call: it runs
// for every field of the index.
func hasBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			return true
		}
	}
	return false
}
