package resolve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/version"
)

// ParseRelations parses a relationship field (Depends, Pre-Depends, Provides...): a
// comma-separated AND of "|"-separated OR groups. An empty or blank field yields no groups.
// Errors quote the field so a bad stanza can be found in the index.
func ParseRelations(field string) ([][]Relation, error) {
	if strings.TrimSpace(field) == "" {
		return nil, nil
	}
	groups := make([][]Relation, 0, strings.Count(field, ",")+1)
	for rest := field; ; {
		part, tail, more := strings.Cut(rest, ",")
		g, err := parseGroup(part)
		if err != nil {
			return nil, fmt.Errorf("relations %q: %w", clip(field), err)
		}
		groups = append(groups, g)
		if !more {
			break
		}
		rest = tail
	}
	return groups, nil
}

// appendRelations appends every alternative of every group of field to dst: what
// ParseRelations gives, flattened, without a slice per group (the Provides index parses
// 13,000 fields on every cold build). On error dst holds a part of field and must be dropped.
func appendRelations(dst []Relation, field string) ([]Relation, error) {
	if strings.TrimSpace(field) == "" {
		return dst, nil
	}
	for rest := field; ; {
		part, tail, more := strings.Cut(rest, ",")
		if strings.TrimSpace(part) == "" {
			return dst, fmt.Errorf("relations %q: empty relation between commas", clip(field))
		}
		for alt := part; ; {
			a, next, or := strings.Cut(alt, "|")
			r, err := parseRelation(a)
			if err != nil {
				return dst, fmt.Errorf("relations %q: %w", clip(field), err)
			}
			dst = append(dst, r)
			if !or {
				break
			}
			alt = next
		}
		if !more {
			return dst, nil
		}
		rest = tail
	}
}

func parseGroup(s string) ([]Relation, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty relation between commas")
	}
	g := make([]Relation, 0, strings.Count(s, "|")+1)
	for rest := s; ; {
		part, tail, more := strings.Cut(rest, "|")
		r, err := parseRelation(part)
		if err != nil {
			return nil, err
		}
		g = append(g, r)
		if !more {
			break
		}
		rest = tail
	}
	return g, nil
}

// parseRelation parses one alternative. It is a hand-written scanner rather than a regexp
// because every Depends line of a 60k-package universe may pass through it.
func parseRelation(s string) (Relation, error) {
	var r Relation
	orig := strings.TrimSpace(s)
	s = orig
	if s == "" {
		return r, errors.New("empty alternative around '|'")
	}
	i := 0
	for i < len(s) && !endsName(s[i]) {
		i++
	}
	r.Name, s = s[:i], s[i:]
	if err := checkName(r.Name); err != nil {
		return r, fmt.Errorf("%q: %w", orig, err)
	}
	if strings.HasPrefix(s, ":") {
		i = 1
		for i < len(s) && (s[i] == ':' || !endsName(s[i])) {
			i++
		}
		r.Arch, s = s[1:i], s[i:]
		if !isArchName(r.Arch) {
			return r, fmt.Errorf("%q: invalid architecture qualifier %q", orig, r.Arch)
		}
	}
	s = strings.TrimLeft(s, " \t\r\n")
	if strings.HasPrefix(s, "(") {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return r, fmt.Errorf("%q: missing ')'", orig)
		}
		op, ver, err := parseConstraint(s[1:end])
		if err != nil {
			return r, fmt.Errorf("%q: %w", orig, err)
		}
		r.Op, r.Version, s = op, ver, s[end+1:]
	}
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return r, nil
		}
		switch s[0] {
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return r, fmt.Errorf("%q: missing ']'", orig)
			}
			if r.Arches != nil {
				return r, fmt.Errorf("%q: more than one architecture list", orig)
			}
			arches, err := parseArchList(s[1:end])
			if err != nil {
				return r, fmt.Errorf("%q: %w", orig, err)
			}
			r.Arches, s = arches, s[end+1:]
		case '<':
			// Build profiles only matter when building source packages; the formula is
			// checked for shape and otherwise ignored.
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return r, fmt.Errorf("%q: missing '>'", orig)
			}
			terms := strings.Fields(s[1:end])
			if len(terms) == 0 {
				return r, fmt.Errorf("%q: empty build-profile restriction", orig)
			}
			for _, t := range terms {
				if !isProfileName(strings.TrimPrefix(t, "!")) {
					return r, fmt.Errorf("%q: invalid build profile %q", orig, t)
				}
			}
			s = s[end+1:]
		default:
			return r, fmt.Errorf("%q: unexpected %q", orig, s)
		}
	}
}

// endsName reports whether c ends a package name in a relation: a space, or the start of an
// architecture qualifier, a version, an architecture list or a build profile. A switch, not
// strings.ContainsRune: this runs for every byte of every relation of the universe.
func endsName(c byte) bool {
	switch c {
	case ':', '(', '[', '<':
		return true
	}
	return isSpace(c)
}

func parseConstraint(s string) (op, ver string, err error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "<<"), strings.HasPrefix(s, "<="),
		strings.HasPrefix(s, ">="), strings.HasPrefix(s, ">>"):
		op, s = s[:2], s[2:]
	case strings.HasPrefix(s, "="):
		op, s = "=", s[1:]
	case strings.HasPrefix(s, "<"):
		op, s = "<=", s[1:]
	case strings.HasPrefix(s, ">"):
		op, s = ">=", s[1:]
	default:
		return "", "", fmt.Errorf("version constraint %q: missing operator (<<, <=, =, >=, >>)", s)
	}
	ver = strings.TrimSpace(s)
	if _, err := version.Parse(ver); err != nil {
		return "", "", fmt.Errorf("version constraint %q: %w", op+" "+ver, err)
	}
	return op, ver, nil
}

func parseArchList(s string) ([]string, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, errors.New("empty architecture list")
	}
	negated := strings.HasPrefix(fields[0], "!")
	for _, f := range fields {
		if strings.HasPrefix(f, "!") != negated {
			return nil, fmt.Errorf("architecture list [%s] mixes negated and plain entries", s)
		}
		if !isArchName(strings.TrimPrefix(f, "!")) {
			return nil, fmt.Errorf("invalid architecture %q in [%s]", f, s)
		}
	}
	return fields, nil
}

// checkName accepts Debian package names (policy 5.6.1) with a little slack: upper case and
// one-letter names appear in third-party repositories and are harmless here.
func checkName(n string) error {
	if n == "" {
		return errors.New("missing package name")
	}
	if !isAlnum(n[0]) {
		return fmt.Errorf("package name %q must start with a letter or digit", n)
	}
	for i := 1; i < len(n); i++ {
		if c := n[i]; !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return fmt.Errorf("invalid character %q in package name %q", c, n)
		}
	}
	return nil
}

func isArchName(a string) bool {
	if a == "" {
		return false
	}
	for i := 0; i < len(a); i++ {
		if c := a[i]; !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

func isProfileName(p string) bool {
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; !isAlnum(c) && c != '-' && c != '.' && c != '+' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// clip keeps error messages readable when a field is huge or hostile.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
