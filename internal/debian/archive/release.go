package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/debian/control"
)

// parseRelease reads the signed text of an InRelease file. Only Source, SHA256 and URL are left
// for the caller to fill in.
func parseRelease(text []byte) (*Release, error) {
	cr := control.NewReader(bytes.NewReader(text))
	p, err := cr.Next()
	if err == io.EOF {
		return nil, errors.New("release is empty")
	}
	if err != nil {
		return nil, err
	}
	// A second paragraph would be data the parser ignores; refuse rather than guess which one
	// the signer meant.
	if _, err := cr.Next(); err != io.EOF {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("line %d: release has more than one paragraph", cr.Line())
	}

	r := &Release{
		Origin:        p.Get("Origin"),
		Label:         p.Get("Label"),
		Suite:         p.Get("Suite"),
		Codename:      p.Get("Codename"),
		Version:       p.Get("Version"),
		Architectures: strings.Fields(p.Get("Architectures")),
		Components:    strings.Fields(p.Get("Components")),
		AcquireByHash: strings.EqualFold(p.Get("Acquire-By-Hash"), "yes"),
	}
	if r.Suite == "" && r.Codename == "" {
		return nil, errors.New("release has neither Suite nor Codename")
	}
	if !p.Has("Date") {
		return nil, errors.New("release has no Date field")
	}
	if r.Date, err = parseDate(p.Get("Date")); err != nil {
		return nil, fmt.Errorf("field Date: %w", err)
	}
	if p.Has("Valid-Until") {
		if r.ValidUntil, err = parseDate(p.Get("Valid-Until")); err != nil {
			return nil, fmt.Errorf("field Valid-Until: %w", err)
		}
	}
	if r.Files, err = parseSHA256(p.Get("SHA256")); err != nil {
		return nil, fmt.Errorf("field SHA256: %w", err)
	}
	return r, nil
}

// parseSHA256 reads the "<hex> <size> <path>" lines Debian lists its index files under.
func parseSHA256(value string) (map[string]FileHash, error) {
	lines := control.Lines(value)
	if len(lines) == 0 {
		// MD5Sum-only releases are not trusted: every index must be checked by SHA-256.
		return nil, errors.New("missing or empty; the repository must list its indexes with SHA-256 sums")
	}
	files := make(map[string]FileHash, len(lines))
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 {
			return nil, fmt.Errorf("line %q: want \"<sha256> <size> <path>\"", shorten(l))
		}
		sum, sizeStr, name := strings.ToLower(f[0]), f[1], f[2]
		if !isSHA256(sum) {
			return nil, fmt.Errorf("line %q: %q is not a SHA-256 hex digest", shorten(l), shorten(f[0]))
		}
		size, err := strconv.ParseInt(sizeStr, 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("line %q: invalid size %q", shorten(l), shorten(sizeStr))
		}
		if name == "" || strings.HasPrefix(name, "/") || containsDotDot(name) {
			return nil, fmt.Errorf("line %q: unsafe path %q", shorten(l), shorten(name))
		}
		if old, ok := files[name]; ok && old != (FileHash{SHA256: sum, Size: size}) {
			return nil, fmt.Errorf("%s is listed twice with different sums", shorten(name))
		}
		files[name] = FileHash{SHA256: sum, Size: size}
	}
	return files, nil
}

func containsDotDot(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Debian writes "Sat, 21 Nov 2026 09:15:44 UTC"; other archive tools write a numeric zone or a
// one-digit day. Named zones other than UTC/GMT are refused: Go would read them as a zero
// offset, silently shifting Valid-Until by hours.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
}

func parseDate(s string) (time.Time, error) {
	s = strings.Join(strings.Fields(s), " ")
	named := strings.HasSuffix(s, " UTC") || strings.HasSuffix(s, " GMT")
	for _, layout := range dateLayouts {
		if strings.HasSuffix(layout, "MST") != named {
			continue
		}
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date %q: want RFC 1123 like \"Sat, 21 Nov 2026 09:15:44 UTC\"", shorten(s))
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
