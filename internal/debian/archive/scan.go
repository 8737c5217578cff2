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
	var (
		out    = make([]*Package, 0, len(text)/1024+1)
		slab   []Package
		v      [numFields]string
		seen   uint32
		last   = -1 // field whose continuation lines extend its value, or -1
		fields = 0  // fields in the current stanza
		line   = 0
	)
	emit := func() error {
		if len(slab) == 0 {
			slab = make([]Package, packageSlab)
		}
		pkg := &slab[0]
		slab = slab[1:]
		pkg.Origin = rel
		if err := fillPackage(pkg, &v); err != nil {
			return fmt.Errorf("stanza ending at line %d: %w", line, err)
		}
		out = append(out, pkg)
		v = [numFields]string{}
		seen, last, fields = 0, -1, 0
		return nil
	}
	for pos := 0; pos < len(text); {
		var raw string
		if n := strings.IndexByte(text[pos:], '\n'); n >= 0 {
			raw = text[pos : pos+n]
			pos += n + 1
			if n+1 > maxIndexLine {
				return nil, fmt.Errorf("line %d: line longer than 16 MiB", line+1)
			}
		} else {
			raw = text[pos:]
			pos = len(text)
			if len(raw) >= maxIndexLine {
				return nil, fmt.Errorf("line %d: line longer than 16 MiB", line+1)
			}
		}
		line++
		// bufio.ScanLines drops one trailing CR and control.Reader another.
		raw = strings.TrimSuffix(strings.TrimSuffix(raw, "\r"), "\r")
		if blank(raw) {
			if fields > 0 {
				if err := emit(); err != nil {
					return nil, err
				}
			}
			continue
		}
		c := raw[0]
		if c == '#' && fields == 0 {
			continue
		}
		if c == ' ' || c == '\t' {
			if fields == 0 {
				return nil, fmt.Errorf("line %d: continuation line before any field", line)
			}
			if last >= 0 {
				v[last] += "\n" + raw
			}
			continue
		}
		colon := strings.IndexByte(raw, ':')
		if colon < 0 {
			return nil, fmt.Errorf("line %d: expected \"Field: value\", got %q", line, shorten(raw))
		}
		name := raw[:colon]
		if name == "" || hasBlank(name) {
			return nil, fmt.Errorf("line %d: invalid field name %q", line, shorten(name))
		}
		fields++
		last = -1
		if id := fieldID(name); id >= 0 && seen&(1<<id) == 0 {
			seen |= 1 << id
			v[id] = strings.TrimSpace(raw[colon+1:])
			last = id
		}
	}
	if fields > 0 {
		if err := emit(); err != nil {
			return nil, err
		}
	}
	return out, nil
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
