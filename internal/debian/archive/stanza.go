package archive

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Field numbers for fillPackage's single pass over a stanza.
const (
	fPackage = iota
	fVersion
	fArchitecture
	fSource
	fFilename
	fSHA256
	fSize
	fInstalledSize
	fDepends
	fPreDepends
	fProvides
	fEssential
	fPriority
	fSection
	fMultiArch
	numFields
)

var fieldNames = [numFields]string{"Package", "Version", "Architecture", "Source", "Filename", "SHA256", "Size",
	"Installed-Size", "Depends", "Pre-Depends", "Provides", "Essential", "Priority", "Section", "Multi-Arch"}

// fieldID maps a field name to its number, or -1. Debian writes the canonical spelling; the
// case-insensitive fallback honors deb822 without costing the common case.
func fieldID(name string) int {
	for i, n := range fieldNames {
		if n == name {
			return i
		}
	}
	for i, n := range fieldNames {
		if len(n) == len(name) && strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// fillPackage sets pkg's typed fields from the values of its index stanza's fields (v is indexed
// by field number) and checks them. It is the one place an index's values become a Package:
// the index scanner and the parsed-index cache both go through it, so a cached index can never
// be more lenient than a freshly read one.
func fillPackage(pkg *Package, v *[numFields]string) error {
	name := v[fPackage]
	if name == "" {
		return errors.New("no Package field")
	}
	for _, req := range []int{fVersion, fArchitecture, fFilename, fSHA256, fSize} {
		if v[req] == "" {
			return fmt.Errorf("package %s: no %s field", name, fieldNames[req])
		}
	}
	*pkg = Package{
		Name:          name,
		Version:       v[fVersion],
		Architecture:  v[fArchitecture],
		Filename:      v[fFilename],
		SHA256:        strings.ToLower(v[fSHA256]),
		Depends:       v[fDepends],
		PreDepends:    v[fPreDepends],
		Provides:      v[fProvides],
		Essential:     strings.EqualFold(v[fEssential], "yes"),
		Priority:      v[fPriority],
		Section:       v[fSection],
		MultiArch:     v[fMultiArch],
		Origin:        pkg.Origin,
		Source:        name,
		SourceVersion: v[fVersion],
	}
	if !isSHA256(pkg.SHA256) {
		return fmt.Errorf("package %s: SHA256 %q is not a SHA-256 hex digest", name, shorten(v[fSHA256]))
	}
	// Filename is joined to the mirror URL; a "../" would fetch from outside the archive.
	if !safeFilename(pkg.Filename) {
		return fmt.Errorf("package %s: unsafe Filename %q", name, shorten(pkg.Filename))
	}
	var err error
	if pkg.Size, err = strconv.ParseInt(v[fSize], 10, 64); err != nil || pkg.Size < 0 {
		return fmt.Errorf("package %s: invalid Size %q", name, shorten(v[fSize]))
	}
	if s := v[fInstalledSize]; s != "" {
		if pkg.InstalledSize, err = strconv.ParseInt(s, 10, 64); err != nil || pkg.InstalledSize < 0 {
			return fmt.Errorf("package %s: invalid Installed-Size %q", name, shorten(s))
		}
	}
	// "Source: name" or "Source: name (version)" when the binary's version differs.
	if s := strings.TrimSpace(v[fSource]); s != "" {
		src, ver, hasVer := strings.Cut(s, "(")
		pkg.Source = strings.TrimSpace(src)
		if hasVer {
			ver, ok := strings.CutSuffix(strings.TrimSpace(ver), ")")
			if !ok || strings.TrimSpace(ver) == "" || pkg.Source == "" {
				return fmt.Errorf("package %s: invalid Source %q; want \"name\" or \"name (version)\"", name, shorten(s))
			}
			pkg.SourceVersion = strings.TrimSpace(ver)
		}
	}
	return nil
}

// safeFilename accepts a relative pool path that stays a plain URL path: no "..", no query or
// fragment, no whitespace or control characters. Odd but harmless characters pass, so one
// package with a strange name cannot make a whole index unreadable.
func safeFilename(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#\\") {
		return false
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
