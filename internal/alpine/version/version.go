// Package version implements Alpine's package version syntax and ordering (the rules of
// apk-tools): digit{.digit}...{letter}{_suffix{number}}...{~hash}{-rN}. Every choice between
// two candidate packages and every secdb "fixed in" check rests on it.
package version

import (
	"fmt"
	"strings"
)

// Suffix kinds in their order. Pre-release suffixes sort before the bare version, post-release
// suffixes after it: 1.0_alpha < 1.0_rc1 < 1.0 < 1.0_p1.
var suffixRank = map[string]int{
	"alpha": -4, "beta": -3, "pre": -2, "rc": -1,
	"cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5,
}

// Suffix is one _name{number} part.
type Suffix struct {
	Name   string
	Number string // digits, "" when absent (compares as 0)
}

// Version is a parsed apk version.
type Version struct {
	Numbers  []string // dot-separated digit runs, as written
	Letter   byte     // 0 when absent
	Suffixes []Suffix
	Hash     string // after '~', "" when absent
	Revision string // digits after "-r", "" when absent
	HasRev   bool
}

// Parse checks s against apk's grammar.
func Parse(s string) (Version, error) {
	var v Version
	orig := s
	fail := func(why string) (Version, error) {
		return Version{}, fmt.Errorf("apk version %q: %s", clip(orig), why)
	}
	if s == "" {
		return fail("empty")
	}
	if i := strings.LastIndex(s, "-r"); i >= 0 {
		rev := s[i+2:]
		if !allDigits(rev) {
			return fail("revision after -r must be digits")
		}
		v.Revision, v.HasRev, s = rev, true, s[:i]
	}
	if i := strings.IndexByte(s, '~'); i >= 0 {
		h := s[i+1:]
		if h == "" || strings.Trim(h, "0123456789abcdef") != "" {
			return fail("commit hash after ~ must be lowercase hex")
		}
		v.Hash, s = h, s[:i]
	}
	parts := strings.Split(s, "_")
	head := parts[0]
	if n := len(head); n > 0 && head[n-1] >= 'a' && head[n-1] <= 'z' {
		v.Letter, head = head[n-1], head[:n-1]
	}
	for _, d := range strings.Split(head, ".") {
		if !allDigits(d) {
			return fail("must start with dot-separated numbers (1.2.3), then an optional letter")
		}
		v.Numbers = append(v.Numbers, d)
	}
	for _, p := range parts[1:] {
		name := strings.TrimRight(p, "0123456789")
		if _, ok := suffixRank[name]; !ok {
			return fail(fmt.Sprintf("unknown suffix _%s (want alpha, beta, pre, rc, cvs, svn, git, hg or p)", clip(name)))
		}
		v.Suffixes = append(v.Suffixes, Suffix{Name: name, Number: p[len(name):]})
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

// Valid reports whether s is a well-formed apk version.
func Valid(s string) bool { _, err := Parse(s); return err == nil }

// String writes v back in apk's syntax.
func (v Version) String() string {
	var b strings.Builder
	b.WriteString(strings.Join(v.Numbers, "."))
	if v.Letter != 0 {
		b.WriteByte(v.Letter)
	}
	for _, s := range v.Suffixes {
		b.WriteString("_" + s.Name + s.Number)
	}
	if v.Hash != "" {
		b.WriteString("~" + v.Hash)
	}
	if v.HasRev {
		b.WriteString("-r" + v.Revision)
	}
	return b.String()
}

// Compare orders two versions the way apk does: -1 when a < b, 0 when equal, 1 when a > b.
// Components are compared left to right; where one version has a component the other lacks,
// a further number wins over anything, a letter over no letter, a post-release suffix over
// none while a pre-release suffix loses, a commit hash over none and -rN over no revision.
// Numbers after the first that start with '0' compare as decimal fractions (1.05 < 1.5), as
// in apk.
func Compare(a, b Version) int {
	for i := 0; i < len(a.Numbers) || i < len(b.Numbers); i++ {
		switch {
		case i >= len(a.Numbers):
			return -1
		case i >= len(b.Numbers):
			return 1
		}
		if c := compareNumber(a.Numbers[i], b.Numbers[i], i > 0); c != 0 {
			return c
		}
	}
	if c := cmpInt(int(a.Letter), int(b.Letter)); c != 0 {
		return c
	}
	for i := 0; i < len(a.Suffixes) || i < len(b.Suffixes); i++ {
		switch {
		case i >= len(a.Suffixes):
			return -sign(suffixRank[b.Suffixes[i].Name])
		case i >= len(b.Suffixes):
			return sign(suffixRank[a.Suffixes[i].Name])
		}
		sa, sb := a.Suffixes[i], b.Suffixes[i]
		if c := cmpInt(suffixRank[sa.Name], suffixRank[sb.Name]); c != 0 {
			return c
		}
		if c := compareNumber(sa.Number, sb.Number, false); c != 0 {
			return c
		}
	}
	// The commit hash names a build, not a position in time: only its presence orders.
	if c := cmpBool(a.Hash != "", b.Hash != ""); c != 0 {
		return c
	}
	if c := cmpBool(a.HasRev, b.HasRev); c != 0 {
		return c
	}
	return compareNumber(a.Revision, b.Revision, false)
}

// CompareStrings parses and compares; a malformed version sorts before every valid one and
// malformed versions compare by their text, so sorting never fails on bad input.
func CompareStrings(a, b string) int {
	va, ea := Parse(a)
	vb, eb := Parse(b)
	switch {
	case ea != nil && eb != nil:
		return strings.Compare(a, b)
	case ea != nil:
		return -1
	case eb != nil:
		return 1
	}
	return Compare(va, vb)
}

// compareNumber compares digit strings of any length without overflow. When fraction is set
// and either starts with '0', they compare as the digits after a decimal point.
func compareNumber(a, b string, fraction bool) int {
	if fraction && (strings.HasPrefix(a, "0") || strings.HasPrefix(b, "0")) {
		a, b = strings.TrimRight(a, "0"), strings.TrimRight(b, "0")
		return strings.Compare(a, b)
	}
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if c := cmpInt(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func sign(x int) int { return cmpInt(x, 0) }

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Satisfies reports whether have meets the constraint "op want" of an apk dependency:
// =, <, >, <=, >= compare; ~ (also written =~) matches when want's components are a prefix of
// have's (~1.2 matches 1.2.3 and 1.2a but not 1.20), as apk's fuzzy match does.
func Satisfies(have Version, op string, want Version) (bool, error) {
	c := Compare(have, want)
	switch op {
	case "=":
		return c == 0, nil
	case "<":
		return c < 0, nil
	case ">":
		return c > 0, nil
	case "<=":
		return c <= 0, nil
	case ">=":
		return c >= 0, nil
	case "~", "=~":
		return fuzzy(have, want), nil
	}
	return false, fmt.Errorf("apk constraint operator %q: want one of = < > <= >= ~", op)
}

// fuzzy compares only as many components as want spells out.
func fuzzy(have, want Version) bool {
	if len(have.Numbers) < len(want.Numbers) {
		return false
	}
	for i, n := range want.Numbers {
		if compareNumber(have.Numbers[i], n, i > 0) != 0 {
			return false
		}
	}
	if len(have.Numbers) > len(want.Numbers) {
		return want.Letter == 0 && len(want.Suffixes) == 0 && !want.HasRev
	}
	if want.Letter != 0 && have.Letter != want.Letter {
		return false
	}
	if len(have.Suffixes) < len(want.Suffixes) {
		return false
	}
	for i, s := range want.Suffixes {
		h := have.Suffixes[i]
		if h.Name != s.Name || compareNumber(h.Number, s.Number, false) != 0 {
			return false
		}
	}
	if want.HasRev {
		return have.HasRev && compareNumber(have.Revision, want.Revision, false) == 0
	}
	return true
}
