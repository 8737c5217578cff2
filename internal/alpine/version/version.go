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

// Token kinds, in apk's order: where two versions agree up to a point and then continue with
// different kinds of token, the kind earlier in this list wins (1.0.1 > 1.0a > 1.0_p1 >
// 1.0-r1 > 1.0), except that a pre-release suffix loses to anything (1.0_rc1 < 1.0).
type kind uint8

const (
	digits kind = iota
	letter
	suffix
	suffixNumber
	commitHash
	revision
	end
)

type token struct {
	kind   kind
	text   string
	dotted bool // digits after a '.', compared as a fraction when they start with '0'
}

// Version is a parsed apk version.
type Version struct {
	text   string
	tokens []token
}

// Parse checks s against apk's grammar: digits{.digits}{letter{digits}}...{_suffix{digits}}...
// {~hash}{-rN}, e.g. 1.2.3, 0.99f7, 1.0_rc1_p2, 2.0~1a2b-r3.
func Parse(s string) (Version, error) {
	fail := func(why string) (Version, error) {
		return Version{}, fmt.Errorf("apk version %q: %s", clip(s), why)
	}
	if s == "" {
		return fail("empty")
	}
	var toks []token
	i := 0
	run := func(ok func(byte) bool) string {
		j := i
		for i < len(s) && ok(s[i]) {
			i++
		}
		return s[j:i]
	}
	if d := run(isDigit); d != "" {
		toks = append(toks, token{kind: digits, text: d})
	} else {
		return fail("must start with a digit")
	}
	for i < len(s) {
		last := toks[len(toks)-1].kind
		c := s[i]
		switch {
		case c == '.' && last == digits:
			i++
			d := run(isDigit)
			if d == "" {
				return fail("'.' must be followed by digits")
			}
			toks = append(toks, token{kind: digits, text: d, dotted: true})
		case isLower(c) && last == digits:
			i++
			toks = append(toks, token{kind: letter, text: string(c)})
		case isDigit(c) && last == letter:
			toks = append(toks, token{kind: digits, text: run(isDigit)})
		case c == '_' && last < commitHash:
			i++
			name := run(isLower)
			if _, ok := suffixRank[name]; !ok {
				return fail(fmt.Sprintf("unknown suffix _%s (want alpha, beta, pre, rc, cvs, svn, git, hg or p)", clip(name)))
			}
			toks = append(toks, token{kind: suffix, text: name})
			if d := run(isDigit); d != "" {
				toks = append(toks, token{kind: suffixNumber, text: d})
			}
		case c == '~' && last < commitHash:
			i++
			h := run(func(b byte) bool { return isDigit(b) || b >= 'a' && b <= 'f' })
			if h == "" {
				return fail("commit hash after ~ must be lowercase hex")
			}
			toks = append(toks, token{kind: commitHash, text: h})
		case c == '-' && last < revision && strings.HasPrefix(s[i:], "-r"):
			i += 2
			d := run(isDigit)
			if d == "" {
				return fail("revision after -r must be digits")
			}
			toks = append(toks, token{kind: revision, text: d})
		default:
			return fail(fmt.Sprintf("unexpected %q at offset %d", c, i))
		}
	}
	return Version{text: s, tokens: toks}, nil
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

// String is the version as written.
func (v Version) String() string { return v.text }

// Compare orders two versions the way apk does: -1 when a < b, 0 when equal, 1 when a > b.
// Tokens are compared left to right; digits numerically, except that digits after a '.'
// starting with '0' compare as decimal fractions (1.05 < 1.5), as apk does. The commit hash
// names a build, not a point in time, so only its presence counts.
func Compare(a, b Version) int {
	for i := 0; ; i++ {
		ta, tb := at(a.tokens, i), at(b.tokens, i)
		if ta.kind != tb.kind {
			switch {
			case ta.kind == suffix && suffixRank[ta.text] < 0:
				return -1
			case tb.kind == suffix && suffixRank[tb.text] < 0:
				return 1
			case ta.kind < tb.kind:
				return 1
			}
			return -1
		}
		var c int
		switch ta.kind {
		case end:
			return 0
		case digits:
			c = compareNumber(ta.text, tb.text, ta.dotted || tb.dotted)
		case letter:
			c = strings.Compare(ta.text, tb.text)
		case suffix:
			c = cmpInt(suffixRank[ta.text], suffixRank[tb.text])
		case suffixNumber, revision:
			c = compareNumber(ta.text, tb.text, false)
		}
		if c != 0 {
			return c
		}
	}
}

func at(toks []token, i int) token {
	if i < len(toks) {
		return toks[i]
	}
	return token{kind: end}
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

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

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

// fuzzy matches when want's tokens are a prefix of have's.
func fuzzy(have, want Version) bool {
	if len(want.tokens) > len(have.tokens) {
		return false
	}
	for i, w := range want.tokens {
		h := have.tokens[i]
		if h.kind != w.kind {
			return false
		}
		switch w.kind {
		case digits:
			if compareNumber(h.text, w.text, h.dotted || w.dotted) != 0 {
				return false
			}
		case suffixNumber, revision:
			if compareNumber(h.text, w.text, false) != 0 {
				return false
			}
		case commitHash:
		default:
			if h.text != w.text {
				return false
			}
		}
	}
	return true
}
