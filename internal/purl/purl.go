// Package purl writes and parses package URLs (github.com/package-url/purl-spec):
// pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH. SBOMs and VEX documents name packages
// with them and scanners match on them, so every purl Spartan writes or reads goes through
// here: one escaping rule, one qualifier order.
package purl

import (
	"fmt"
	"sort"
	"strings"
)

// Types Spartan writes: Debian and Alpine packages, and the image itself.
const (
	TypeDeb = "deb"
	TypeAPK = "apk"
	TypeOCI = "oci"
)

// PURL is a parsed package URL. Fields hold decoded text.
type PURL struct {
	Type      string // lower case: "deb", "apk", "oci"
	Namespace string // "debian", "alpine"; segments joined by '/'
	Name      string
	Version   string
	// Qualifiers such as arch and distro; written sorted by key, empty values left out.
	Qualifiers map[string]string
	Subpath    string
}

// Deb is the purl of a Debian package: distro is the release qualifier ("debian-13",
// "debian-forky"); empty version, arch or distro are left out.
func Deb(name, version, arch, distro string) PURL {
	return PURL{Type: TypeDeb, Namespace: "debian", Name: name, Version: version,
		Qualifiers: map[string]string{"arch": arch, "distro": distro}}
}

// APK is the purl of an Alpine package (distro "alpine-3.22").
func APK(name, version, arch, distro string) PURL {
	return PURL{Type: TypeAPK, Namespace: "alpine", Name: name, Version: version,
		Qualifiers: map[string]string{"arch": arch, "distro": distro}}
}

// Qualifier returns a qualifier's value, "" when absent.
func (p PURL) Qualifier(key string) string { return p.Qualifiers[key] }

// String writes the purl canonically: type lower case, every component percent-encoded but
// RFC 3986's unreserved characters (an epoch's ':' becomes %3A, '+' becomes %2B, as scanners
// expect), namespace segments encoded one by one, qualifiers sorted by key.
func (p PURL) String() string {
	var b strings.Builder
	b.WriteString("pkg:" + strings.ToLower(p.Type) + "/")
	if p.Namespace != "" {
		for _, seg := range strings.Split(p.Namespace, "/") {
			if seg != "" {
				b.WriteString(escape(seg) + "/")
			}
		}
	}
	b.WriteString(escape(p.Name))
	if p.Version != "" {
		b.WriteString("@" + escape(p.Version))
	}
	keys := make([]string, 0, len(p.Qualifiers))
	for k, v := range p.Qualifiers {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(strings.ToLower(k) + "=" + escape(p.Qualifiers[k]))
	}
	if sub := strings.Trim(p.Subpath, "/"); sub != "" {
		b.WriteByte('#')
		for i, seg := range strings.Split(sub, "/") {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(escape(seg))
		}
	}
	return b.String()
}

// Parse reads a package URL as the spec's parsing rules say: subpath after the last '#',
// qualifiers after the first '?', version after the last '@' of the path, type first,
// name last, namespace between.
func Parse(s string) (PURL, error) {
	var p PURL
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		return p, fmt.Errorf("purl %q: does not start with pkg:", s)
	}
	if i := strings.LastIndexByte(rest, '#'); i >= 0 {
		var segs []string
		for _, seg := range strings.Split(rest[i+1:], "/") {
			d, err := unescape(seg)
			if err != nil {
				return PURL{}, fmt.Errorf("purl %q: subpath: %w", s, err)
			}
			if strings.Contains(d, "/") {
				return PURL{}, fmt.Errorf("purl %q: subpath segment %q holds an encoded '/'", s, seg)
			}
			if d != "" && d != "." && d != ".." {
				segs = append(segs, d)
			}
		}
		p.Subpath, rest = strings.Join(segs, "/"), rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		q, err := parseQualifiers(rest[i+1:])
		if err != nil {
			return PURL{}, fmt.Errorf("purl %q: %w", s, err)
		}
		p.Qualifiers, rest = q, rest[:i]
	}
	rest = strings.Trim(rest, "/")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 && strings.LastIndexByte(rest, '/') < i {
		v, err := unescape(rest[i+1:])
		if err != nil {
			return PURL{}, fmt.Errorf("purl %q: version: %w", s, err)
		}
		p.Version, rest = v, rest[:i]
	}
	typ, path, ok := strings.Cut(rest, "/")
	if !ok {
		return PURL{}, fmt.Errorf("purl %q: want pkg:TYPE/NAME", s)
	}
	if !validType(typ) {
		return PURL{}, fmt.Errorf("purl %q: type %q: want letters, digits, '.', '+' or '-', not starting with a digit", s, typ)
	}
	p.Type = strings.ToLower(typ)
	var segs []string
	for _, seg := range strings.Split(path, "/") {
		if seg == "" {
			continue
		}
		d, err := unescape(seg)
		if err != nil {
			return PURL{}, fmt.Errorf("purl %q: %w", s, err)
		}
		if strings.Contains(d, "/") {
			return PURL{}, fmt.Errorf("purl %q: segment %q holds an encoded '/'", s, seg)
		}
		segs = append(segs, d)
	}
	if len(segs) == 0 || segs[len(segs)-1] == "" {
		return PURL{}, fmt.Errorf("purl %q: no name", s)
	}
	p.Name = segs[len(segs)-1]
	p.Namespace = strings.Join(segs[:len(segs)-1], "/")
	return p, nil
}

func parseQualifiers(q string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(q, "&") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("qualifier %q: want key=value", kv)
		}
		k = strings.ToLower(k)
		if !validKey(k) {
			return nil, fmt.Errorf("qualifier key %q: want letters, digits, '.', '_' or '-'", k)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("qualifier %q given twice", k)
		}
		d, err := unescape(v)
		if err != nil {
			return nil, fmt.Errorf("qualifier %s: %w", k, err)
		}
		if d != "" {
			out[k] = d
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func validType(t string) bool {
	if t == "" || t[0] >= '0' && t[0] <= '9' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func validKey(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// escape percent-encodes everything but the unreserved characters of RFC 3986.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// unescape decodes percent-escapes; unlike a query decoder it leaves '+' alone (a Debian
// version's '+' may arrive unencoded).
func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", fmt.Errorf("bad percent-escape in %q", s)
		}
		b.WriteByte(byte(unhex(s[i+1])<<4 | unhex(s[i+2])))
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
