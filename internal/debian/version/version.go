// Package version implements Debian's version syntax and ordering (deb-version(7)), the rules
// every choice between two candidate packages — and every CVE "fixed in" check — rests on.
package version

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed Debian version: [epoch:]upstream[-revision].
type Version struct {
	Epoch    int
	Upstream string
	Revision string
}

// Parse splits s into its parts and checks the characters each part may hold.
func Parse(s string) (Version, error) {
	var v Version
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return v, fmt.Errorf("version %q: empty", orig)
	}
	if e, rest, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.Atoi(e)
		if err != nil || n < 0 || e == "" || strings.ContainsAny(e, "+-") {
			return v, fmt.Errorf("version %q: epoch %q is not a non-negative integer", orig, e)
		}
		v.Epoch, s = n, rest
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v.Upstream, v.Revision = s[:i], s[i+1:]
		if v.Revision == "" {
			return v, fmt.Errorf("version %q: empty revision after '-'", orig)
		}
	} else {
		v.Upstream = s
	}
	if v.Upstream == "" {
		return v, fmt.Errorf("version %q: empty upstream version", orig)
	}
	if c := v.Upstream[0]; c < '0' || c > '9' {
		return v, fmt.Errorf("version %q: upstream version must start with a digit", orig)
	}
	for _, c := range v.Upstream {
		if !isAlnum(c) && !strings.ContainsRune(".+~-:", c) {
			return v, fmt.Errorf("version %q: invalid character %q in upstream version", orig, c)
		}
	}
	for _, c := range v.Revision {
		if !isAlnum(c) && !strings.ContainsRune(".+~", c) {
			return v, fmt.Errorf("version %q: invalid character %q in revision", orig, c)
		}
	}
	return v, nil
}

// MustParse is for literals in tests and tables, never for input.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String renders the version back in its canonical form.
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != 0 {
		b.WriteString(strconv.Itoa(v.Epoch))
		b.WriteByte(':')
	}
	b.WriteString(v.Upstream)
	if v.Revision != "" {
		b.WriteByte('-')
		b.WriteString(v.Revision)
	}
	return b.String()
}

// Compare returns -1, 0 or +1 as v sorts before, equal to or after o.
func (v Version) Compare(o Version) int {
	if v.Epoch != o.Epoch {
		if v.Epoch < o.Epoch {
			return -1
		}
		return 1
	}
	if c := compareFragment(v.Upstream, o.Upstream); c != 0 {
		return c
	}
	return compareFragment(v.Revision, o.Revision)
}

// Compare orders two version strings. It is total so it can sort anything: a string that does
// not parse sorts after every valid version, and invalid strings sort among themselves bytewise.
func Compare(a, b string) int {
	va, ea := Parse(a)
	vb, eb := Parse(b)
	switch {
	case ea == nil && eb == nil:
		return va.Compare(vb)
	case ea != nil && eb != nil:
		return strings.Compare(a, b)
	case ea != nil:
		return 1
	default:
		return -1
	}
}

// compareFragment is dpkg's verrevcmp: alternate non-digit and digit runs; in non-digit runs
// '~' sorts before everything (even the end), letters before non-letters.
func compareFragment(a, b string) int {
	for a != "" || b != "" {
		// Non-digit prefix.
		for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
			ac, bc := 0, 0
			if a != "" && !isDigit(a[0]) {
				ac = order(a[0])
			}
			if b != "" && !isDigit(b[0]) {
				bc = order(b[0])
			}
			if ac != bc {
				if ac < bc {
					return -1
				}
				return 1
			}
			if a != "" && !isDigit(a[0]) {
				a = a[1:]
			}
			if b != "" && !isDigit(b[0]) {
				b = b[1:]
			}
		}
		// Digit run, compared numerically without overflow: strip zeros, then length, then bytes.
		i := 0
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		j := 0
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		da, db := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
		a, b = a[i:], b[j:]
		if len(da) != len(db) {
			if len(da) < len(db) {
				return -1
			}
			return 1
		}
		if c := strings.Compare(da, db); c != 0 {
			return c
		}
	}
	return 0
}

func order(c byte) int {
	switch {
	case c == '~':
		return -1
	case isAlpha(c):
		return int(c)
	default:
		return int(c) + 256
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c rune) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
