package sbom

import (
	"bufio"
	"bytes"
	"sort"
	"strings"
)

// NoAssertion is SPDX's "we did not determine this": used for copyright files that are not
// machine-readable and for packages without one.
const NoAssertion = "NOASSERTION"

// License is a package's declared license, read from its Debian copyright file.
type License struct {
	// Expression is an SPDX license expression, or NoAssertion.
	Expression string
	// Refs maps every LicenseRef-… in Expression to the text the copyright file gives for it
	// (or, without one, a note naming the Debian short name).
	Refs map[string]string
}

// debianToSPDX maps Debian's short license names (DEP-5 §7.2 and common practice), lower-cased
// since DEP-5 names are case-insensitive, to SPDX license list identifiers.
var debianToSPDX = map[string]string{
	"apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0", "apache-1.1": "Apache-1.1",
	"artistic": "Artistic-1.0-Perl", "artistic-1.0": "Artistic-1.0", "artistic-2.0": "Artistic-2.0",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause",
	"bsl-1.0": "BSL-1.0", "boost-1.0": "BSL-1.0",
	"cc0": "CC0-1.0", "cc0-1.0": "CC0-1.0", "cc-by-4.0": "CC-BY-4.0", "cc-by-sa-4.0": "CC-BY-SA-4.0",
	"curl": "curl", "expat": "MIT", "mit": "MIT", "ftl": "FTL", "isc": "ISC", "icu": "ICU",
	"gfdl-1.2": "GFDL-1.2-only", "gfdl-1.2+": "GFDL-1.2-or-later",
	"gfdl-1.3": "GFDL-1.3-only", "gfdl-1.3+": "GFDL-1.3-or-later",
	"gfdl-niv-1.3": "GFDL-1.3-no-invariants-only", "gfdl-niv-1.3+": "GFDL-1.3-no-invariants-or-later",
	"gpl-1": "GPL-1.0-only", "gpl-1+": "GPL-1.0-or-later",
	"gpl-2": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later",
	"gpl-3": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later",
	"agpl-3": "AGPL-3.0-only", "agpl-3+": "AGPL-3.0-or-later",
	"lgpl-2": "LGPL-2.0-only", "lgpl-2+": "LGPL-2.0-or-later",
	"lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later",
	"lgpl-3": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later",
	"ijg": "IJG", "libpng": "Libpng", "libpng-2.0": "libpng-2.0",
	"mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0", "ms-pl": "MS-PL",
	"ofl-1.1": "OFL-1.1", "openssl": "OpenSSL", "sleepycat": "Sleepycat",
	"psf-2": "PSF-2.0", "psf-2.0": "PSF-2.0", "python-2.0": "Python-2.0",
	"tcl": "TCL", "unicode-dfs-2016": "Unicode-DFS-2016", "unlicense": "Unlicense",
	"wtfpl": "WTFPL", "x11": "X11", "zlib": "Zlib", "zpl-2.1": "ZPL-2.1", "0bsd": "0BSD",
	"bzip2-1.0.6": "bzip2-1.0.6",
}

// spdxIDs are the SPDX identifiers the table maps to, lower-cased, so that copyright files
// that already use SPDX names ("GPL-2.0-or-later") are understood too.
var spdxIDs = func() map[string]string {
	m := map[string]string{}
	for _, id := range debianToSPDX {
		m[strings.ToLower(id)] = id
	}
	return m
}()

// spdxID translates a Debian short name or an SPDX identifier.
func spdxID(name string) (string, bool) {
	n := strings.ToLower(name)
	if id, ok := debianToSPDX[n]; ok {
		return id, true
	}
	id, ok := spdxIDs[n]
	return id, ok
}

// exceptionToSPDX maps the "with <X> exception" names Debian uses to SPDX exception ids.
var exceptionToSPDX = map[string]string{
	"gcc-exception-3.1": "GCC-exception-3.1", "gcc-exception-2.0": "GCC-exception-2.0",
	"autoconf-exception-3.0": "Autoconf-exception-3.0", "autoconf-exception-2.0": "Autoconf-exception-2.0",
	"autoconf": "Autoconf-exception-2.0", "bison-exception-2.2": "Bison-exception-2.2",
	"classpath-exception-2.0": "Classpath-exception-2.0", "font-exception-2.0": "Font-exception-2.0",
	"libtool-exception": "Libtool-exception", "libtool": "Libtool-exception",
}

// ParseCopyright reads a Debian copyright file. Machine-readable ones (DEP-5) yield the AND
// of the distinct License expressions of their Files paragraphs; anything else yields
// NoAssertion, because free-form text cannot be read reliably.
func ParseCopyright(data []byte) License {
	paras := splitParagraphs(data)
	if len(paras) == 0 || !machineReadable(paras[0]) {
		return License{Expression: NoAssertion}
	}
	texts := map[string]string{} // lower-cased short name → text of a stand-alone License paragraph
	for _, p := range paras {
		if _, ok := p["files"]; ok {
			continue
		}
		if l, ok := p["license"]; ok {
			name, text, _ := strings.Cut(l, "\n")
			if strings.TrimSpace(text) != "" {
				texts[strings.ToLower(strings.TrimSpace(name))] = text
			}
		}
	}
	refs := map[string]string{}
	exprs := map[string]bool{}
	for i, p := range paras {
		l, ok := p["license"]
		if !ok {
			continue
		}
		if _, files := p["files"]; !files && i > 0 {
			continue // a stand-alone License paragraph only gives a text
		}
		first, text, _ := strings.Cut(l, "\n")
		for _, c := range conjuncts(spdxExpression(first, texts, text, refs)) {
			exprs[c] = true
		}
	}
	if len(exprs) == 0 {
		return License{Expression: NoAssertion}
	}
	list := make([]string, 0, len(exprs))
	for e := range exprs {
		if len(exprs) > 1 && topLevel(e, " OR ") {
			e = "(" + e + ")"
		}
		list = append(list, e)
	}
	sort.Strings(list)
	lic := License{Expression: strings.Join(list, " AND ")}
	if len(refs) > 0 {
		lic.Refs = refs
	}
	return lic
}

// conjuncts splits an expression at its top-level ANDs, so that the same license coming
// from several Files paragraphs is listed once.
func conjuncts(e string) []string {
	if topLevel(e, " OR ") {
		return []string{e} // OR binds loosest: the whole is one conjunct
	}
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(e); i++ {
		switch e[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ' ':
			if depth == 0 && strings.HasPrefix(e[i:], " AND ") {
				out = append(out, unparen(e[start:i]))
				start = i + len(" AND ")
				i = start - 1
			}
		}
	}
	if rest := strings.TrimSpace(e[start:]); rest != "" {
		out = append(out, unparen(rest))
	}
	return out
}

// topLevel says whether op occurs in e outside parentheses.
func topLevel(e, op string) bool {
	depth := 0
	for i := 0; i < len(e); i++ {
		switch e[i] {
		case '(':
			depth++
		case ')':
			depth--
		default:
			if depth == 0 && strings.HasPrefix(e[i:], op) {
				return true
			}
		}
	}
	return false
}

// unparen drops parentheses around a whole expression: "(A OR B)" → "A OR B".
func unparen(e string) string {
	if !strings.HasPrefix(e, "(") || !strings.HasSuffix(e, ")") {
		return e
	}
	depth := 0
	for i := 0; i < len(e)-1; i++ {
		switch e[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 {
			return e // the first '(' closes before the end: "(A) OR (B)"
		}
	}
	return e[1 : len(e)-1]
}

// paragraph maps lower-cased field names to values (continuation lines joined by "\n").
type paragraph map[string]string

// splitParagraphs is a tolerant deb822 reader: copyright files are written by hand and a
// stray line must not lose the whole file's licenses.
func splitParagraphs(data []byte) []paragraph {
	var out []paragraph
	cur := paragraph{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur, last = paragraph{}, ""
			}
		case strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += "\n" + strings.TrimSpace(line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok || strings.ContainsAny(name, " \t") {
				last = ""
				continue
			}
			last = strings.ToLower(name)
			cur[last] = strings.TrimSpace(value)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func machineReadable(header paragraph) bool {
	f := header["format"]
	if f == "" {
		f = header["format-specification"]
	}
	return strings.Contains(f, "copyright-format") || strings.Contains(strings.ToLower(f), "dep5") ||
		strings.Contains(f, "dep-5")
}

// spdxExpression translates a DEP-5 license line ("GPL-2+ or Artistic, and BSD-3-clause")
// into SPDX syntax. In DEP-5 "and" binds tighter than "or", as in SPDX, and a comma groups
// what precedes it, which becomes parentheses. Unknown names become LicenseRef-<name>, added
// to refs with their text.
func spdxExpression(line string, texts map[string]string, inline string, refs map[string]string) string {
	segments := strings.Split(line, ",")
	var parts []string
	for i, seg := range segments {
		words := strings.Fields(seg)
		op := ""
		if i > 0 && len(words) > 0 {
			if w := strings.ToLower(words[0]); w == "and" || w == "or" {
				op, words = strings.ToUpper(w), words[1:]
			} else {
				op = "AND" // "A, B" lists licenses that all apply
			}
		}
		e, n := segmentExpression(words, texts, inline, refs)
		if e == "" {
			continue
		}
		if n > 1 && len(segments) > 1 {
			e = "(" + e + ")"
		}
		if len(parts) > 0 && op != "" {
			parts = append(parts, op)
		}
		parts = append(parts, e)
	}
	return strings.Join(parts, " ")
}

// segmentExpression translates words without commas; n counts its terms.
func segmentExpression(words []string, texts map[string]string, inline string, refs map[string]string) (string, int) {
	var out []string
	var term []string
	n := 0
	flush := func() {
		if len(term) > 0 {
			out = append(out, licenseTerm(term, texts, inline, refs))
			term = nil
			n++
		}
	}
	for _, w := range words {
		switch lw := strings.ToLower(w); lw {
		case "and", "or":
			flush()
			if len(out) > 0 && out[len(out)-1] != "AND" && out[len(out)-1] != "OR" {
				out = append(out, strings.ToUpper(lw))
			}
		default:
			term = append(term, w)
		}
	}
	flush()
	if len(out) > 0 && (out[len(out)-1] == "AND" || out[len(out)-1] == "OR") {
		out = out[:len(out)-1]
	}
	return strings.Join(out, " "), n
}

// licenseTerm translates one license, possibly "<name> with <exception> exception".
func licenseTerm(words []string, texts map[string]string, inline string, refs map[string]string) string {
	whole := strings.Join(words, " ")
	if len(words) == 1 {
		if id, ok := spdxID(words[0]); ok {
			return id
		}
	}
	if len(words) >= 3 && strings.EqualFold(words[1], "with") {
		id, okL := spdxID(words[0])
		// SPDX syntax, which newer copyright files use: "GPL-3.0-or-later WITH Autoconf-exception-macro".
		if len(words) == 3 && okL && strings.Contains(strings.ToLower(words[2]), "exception") {
			if e, ok := exceptionToSPDX[strings.ToLower(words[2])]; ok {
				return id + " WITH " + e
			}
			return id + " WITH " + words[2]
		}
		// DEP-5 syntax: "GPL-2+ with OpenSSL exception".
		exc := strings.ToLower(strings.Join(words[2:], "-"))
		exc = strings.TrimSuffix(strings.TrimSuffix(exc, "-exception"), "exception")
		e, okE := exceptionToSPDX[exc]
		if !okE {
			e, okE = exceptionToSPDX[exc+"-exception"]
		}
		if okL && okE {
			return id + " WITH " + e
		}
	}
	ref := "LicenseRef-" + sanitizeID(whole)
	if _, ok := refs[ref]; !ok {
		text := texts[strings.ToLower(whole)]
		if text == "" && strings.TrimSpace(inline) != "" {
			text = inline
		}
		if text == "" {
			text = "Debian copyright file license short name: " + whole
		}
		refs[ref] = text
	}
	return ref
}

// sanitizeID keeps what SPDX identifiers allow (letters, digits, '.', '-'): '+' is spelt
// "plus" so that "GPL-2+" and "GPL-2" stay apart, anything else becomes one '-'.
func sanitizeID(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.':
			b.WriteRune(r)
			dash = false
		case r == '+':
			b.WriteString("plus")
			dash = false
		default:
			if !dash {
				b.WriteByte('-')
			}
			dash = true
		}
	}
	return b.String()
}
