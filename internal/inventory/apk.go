package inventory

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/purl"
	"github.com/spartan-images/spartan/internal/rootfs"
)

// apkDB reads Alpine's installed database, /lib/apk/db/installed: "X:value" lines, one
// record per package separated by blank lines; F: names a directory and the R: lines after
// it the files in it, each followed by its Z: checksum (Q1 + base64 SHA-1).
type apkDB struct{}

const apkInstalled = "/lib/apk/db/installed"

// SPDXExpression is a license field that is already an SPDX expression, as Alpine's L: is
// ("custom" when the aport has none).
const SPDXExpression LicenseFormat = "spdx-expression"

func (apkDB) Name() string { return "apk" }

func (apkDB) Wants(p string, _ Detail) bool { return p == apkInstalled }

func (apkDB) Present(fs *rootfs.FS) bool { return fs.Lookup(apkInstalled) != nil }

func (apkDB) Read(fs *rootfs.FS) ([]Package, []string, error) {
	b, ok := fs.Content(apkInstalled)
	if !ok {
		return nil, nil, nil
	}
	return parseAPKInstalled(b)
}

type apkRecord struct {
	pkg      Package
	depends  []string
	provides []string
}

func parseAPKInstalled(b []byte) ([]Package, []string, error) {
	var recs []*apkRecord
	var cur *apkRecord
	var dir string
	var warnings []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	finish := func() error {
		if cur == nil {
			return nil
		}
		if cur.pkg.Name == "" || cur.pkg.Version == "" {
			return fmt.Errorf("%s: record ending at line %d has no P: or V:", apkInstalled, line)
		}
		recs = append(recs, cur)
		cur, dir = nil, ""
		return nil
	}
	for sc.Scan() {
		line++
		t := sc.Text()
		if t == "" {
			if err := finish(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if len(t) < 2 || t[1] != ':' {
			return nil, nil, fmt.Errorf("%s line %d: %q is not a \"X:value\" field", apkInstalled, line, clipText(t))
		}
		if cur == nil {
			cur = &apkRecord{pkg: Package{Type: purl.TypeAPK, Namespace: "alpine", Record: apkInstalled}}
		}
		p, v := &cur.pkg, t[2:]
		switch t[0] {
		case 'P':
			p.Name = v
		case 'V':
			p.Version, p.SourceVersion = v, v
		case 'A':
			p.Arch = v
		case 'o':
			p.Source = v
		case 'm':
			p.Maintainer = v
		case 'U':
			p.Homepage = v
		case 'T':
			p.Summary = v
		case 'L':
			p.License = License{Format: SPDXExpression, Text: []byte(v)}
		case 'D':
			cur.depends = strings.Fields(v)
		case 'p':
			cur.provides = strings.Fields(v)
		case 'F':
			dir = "/" + strings.Trim(v, "/")
		case 'R':
			p.Files = append(p.Files, File{Path: strings.TrimSuffix(dir, "/") + "/" + v})
		case 'Z':
			if n := len(p.Files); n > 0 {
				d, err := apkDigest(v)
				if err != nil {
					warnings = append(warnings, fmt.Sprintf("%s line %d (%s): %v", apkInstalled, line, p.Name, err))
					continue
				}
				p.Files[n-1].Digest = d
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", apkInstalled, err)
	}
	if err := finish(); err != nil {
		return nil, nil, err
	}
	// Dependencies name packages, so: libraries, commands or paths: map each to the installed
	// package that is or provides it.
	byName := map[string]string{}
	for _, r := range recs {
		byName[r.pkg.Name] = r.pkg.Name
	}
	for _, r := range recs {
		for _, pv := range r.provides {
			n, _, _ := strings.Cut(pv, "=")
			if _, ok := byName[n]; !ok {
				byName[n] = r.pkg.Name
			}
		}
	}
	pkgs := make([]Package, 0, len(recs))
	for _, r := range recs {
		if r.pkg.Source == "" {
			r.pkg.Source = r.pkg.Name
		}
		seen := map[string]bool{}
		for _, d := range r.depends {
			if strings.HasPrefix(d, "!") {
				continue
			}
			name := d
			if i := strings.IndexAny(d, "<>=~"); i >= 0 {
				name = d[:i]
			}
			if to, ok := byName[name]; ok && to != r.pkg.Name && !seen[to] {
				seen[to] = true
				r.pkg.Depends = append(r.pkg.Depends, to)
			}
		}
		sort.Strings(r.pkg.Depends)
		pkgs = append(pkgs, r.pkg)
	}
	return pkgs, warnings, nil
}

// apkDigest turns "Q1<base64 sha1>" into "sha1:<hex>".
func apkDigest(z string) (string, error) {
	if !strings.HasPrefix(z, "Q1") {
		return "", fmt.Errorf("checksum %q is not Q1 (SHA-1)", clipText(z))
	}
	sum, err := base64.StdEncoding.DecodeString(z[2:])
	if err != nil || len(sum) != 20 {
		return "", fmt.Errorf("checksum %q is not base64 SHA-1", clipText(z))
	}
	return "sha1:" + hex.EncodeToString(sum), nil
}

func clipText(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
