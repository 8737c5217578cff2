// Package control reads and writes deb822 control paragraphs: the format of Debian's Release
// files, Packages indexes, .deb control files and dpkg status records.
package control

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Field is one "Name: value" entry. Multi-line values keep their continuation lines joined with
// "\n" and their leading space, exactly as deb822 carries them, so that a paragraph written back
// out is byte-identical to what scanners expect.
type Field struct {
	Name, Value string
}

// Paragraph is an ordered list of fields; order matters when the stanza is copied into an image
// for scanners, so it is not a map.
type Paragraph struct {
	Fields []Field
}

// Get returns the value of the named field, matched case-insensitively as deb822 requires.
func (p Paragraph) Get(name string) string {
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether the field is present, even with an empty value.
func (p Paragraph) Has(name string) bool {
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Set replaces the named field's value, or appends the field when absent.
func (p *Paragraph) Set(name, value string) {
	for i, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			p.Fields[i].Value = value
			return
		}
	}
	p.Fields = append(p.Fields, Field{Name: name, Value: value})
}

// Delete removes the named field if present.
func (p *Paragraph) Delete(name string) {
	out := p.Fields[:0]
	for _, f := range p.Fields {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	p.Fields = out
}

// String renders the paragraph as deb822 text, each field on its line, ending in "\n" without
// the blank separator line.
func (p Paragraph) String() string {
	var b strings.Builder
	for _, f := range p.Fields {
		b.WriteString(f.Name)
		b.WriteString(":")
		if f.Value != "" && !strings.HasPrefix(f.Value, "\n") {
			b.WriteString(" ")
		}
		b.WriteString(f.Value)
		b.WriteString("\n")
	}
	return b.String()
}

// Reader reads paragraphs one at a time, so a 60 MB Packages index is never held as text.
type Reader struct {
	sc   *bufio.Scanner
	line int
	done bool
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	// Some Description fields and Release hash lists run long; 16 MiB bounds memory on hostile
	// input while leaving plenty of room for real files.
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	return &Reader{sc: sc}
}

// Line returns the number of the last line read, for callers' error messages.
func (r *Reader) Line() int { return r.line }

// Next returns the next paragraph, or io.EOF when the input holds no more.
func (r *Reader) Next() (Paragraph, error) {
	var p Paragraph
	if r.done {
		return p, io.EOF
	}
	for r.sc.Scan() {
		r.line++
		text := strings.TrimSuffix(r.sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			if len(p.Fields) > 0 {
				return p, nil
			}
			continue
		}
		if text[0] == '#' && len(p.Fields) == 0 {
			continue // comment lines before a paragraph (allowed in deb822 files such as .sources)
		}
		if text[0] == ' ' || text[0] == '\t' {
			if len(p.Fields) == 0 {
				return p, fmt.Errorf("line %d: continuation line before any field", r.line)
			}
			last := &p.Fields[len(p.Fields)-1]
			last.Value += "\n" + text
			continue
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok {
			return p, fmt.Errorf("line %d: expected \"Field: value\", got %q", r.line, truncate(text))
		}
		if name == "" || strings.ContainsAny(name, " \t") {
			return p, fmt.Errorf("line %d: invalid field name %q", r.line, truncate(name))
		}
		p.Fields = append(p.Fields, Field{Name: name, Value: strings.TrimSpace(value)})
	}
	r.done = true
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return p, fmt.Errorf("line %d: line longer than 16 MiB", r.line+1)
		}
		return p, fmt.Errorf("line %d: %w", r.line, err)
	}
	if len(p.Fields) > 0 {
		return p, nil
	}
	return p, io.EOF
}

// ParseAll reads every paragraph of r.
func ParseAll(r io.Reader) ([]Paragraph, error) {
	cr := NewReader(r)
	var out []Paragraph
	for {
		p, err := cr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
}

// Parse reads exactly one paragraph, as found in a .deb's control file.
func Parse(s string) (Paragraph, error) {
	ps, err := ParseAll(strings.NewReader(s))
	if err != nil {
		return Paragraph{}, err
	}
	if len(ps) != 1 {
		return Paragraph{}, fmt.Errorf("expected one paragraph, found %d", len(ps))
	}
	return ps[0], nil
}

// Lines splits a multi-line field (such as the SHA256 list of a Release file) into its
// non-empty, trimmed lines.
func Lines(value string) []string {
	var out []string
	for _, l := range strings.Split(value, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
