package assemble

import (
	"path"
	"strings"
)

// trimmed reports whether the entry at p is dropped under tr. Directories in a trimmed area
// are not dropped but lose their ownership, so they appear only above a file that stays (the
// copyright files).
func trimmed(p string, k kind, tr Trim) bool {
	under := func(dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	if tr.Docs {
		if rest, ok := strings.CutPrefix(p, "usr/share/doc/"); ok {
			parts := strings.Split(rest, "/")
			switch {
			case len(parts) == 1 && k == kindSymlink:
				return false // usr/share/doc/libfoo → libfoo-common: where its copyright lives
			case len(parts) == 2 && parts[1] == "copyright":
				return false
			}
			return true
		}
		if under("usr/share/doc") || under("usr/share/doc-base") || under("usr/share/lintian") || under("usr/share/bug") {
			return true
		}
	}
	if tr.Man && under("usr/share/man") {
		return true
	}
	if tr.Info && under("usr/share/info") {
		return true
	}
	if tr.Locales {
		if p == "usr/share/locale" {
			return true
		}
		if rest, ok := strings.CutPrefix(p, "usr/share/locale/"); ok {
			lang, _, nested := strings.Cut(rest, "/")
			if !nested && k != kindDir {
				return false // locale.alias and friends: tiny, read by glibc
			}
			return !keepLocale(lang, tr.KeepLocales)
		}
	}
	if k != kindDir && !strings.HasSuffix(p, "/copyright") {
		for _, pat := range tr.Paths {
			if matchTrim(strings.TrimPrefix(pat, "/"), p) {
				return true
			}
		}
	}
	return false
}

// matchTrim matches a spec trim pattern (without its leading slash) against an image path.
func matchTrim(pat, p string) bool {
	if dir, ok := strings.CutSuffix(pat, "/**"); ok {
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if ok, _ := path.Match(dir, d); ok {
				return true
			}
		}
		return false
	}
	ok, _ := path.Match(pat, p)
	return ok
}

// keepLocale matches a locale directory against the kept names; "pt" keeps "pt_BR" and
// "sr@latin", and case does not matter ("C.UTF-8" keeps "C.utf8"'s spelling variants too).
func keepLocale(dir string, keep []string) bool {
	for _, k := range keep {
		if strings.EqualFold(dir, k) {
			return true
		}
		if len(dir) > len(k) && strings.EqualFold(dir[:len(k)], k) && strings.ContainsRune("_.@", rune(dir[len(k)])) {
			return true
		}
	}
	return false
}

// TrimMatch tells whether a spec trim pattern ("/usr/lib/python3.13/test/**") matches an
// image path, for other distributions' assemblers; copyright files never match.
func TrimMatch(pattern, p string) bool {
	p = strings.TrimPrefix(p, "/")
	return !strings.HasSuffix(p, "/copyright") && matchTrim(strings.TrimPrefix(pattern, "/"), p)
}
