package apkindex

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/alpine/segment"
	"github.com/spartan-images/spartan/internal/alpine/version"
)

// Limits: real indexes are a few MiB (main x86_64 is ~2 MiB compressed, community ~8 MiB).
const (
	maxIndexFile = 256 << 20
	maxIndexText = 1 << 30
	maxLine      = 1 << 20
)

// Index is a verified, parsed APKINDEX.
type Index struct {
	Description string // DESCRIPTION, e.g. "v3.16.3-27-g1df93f7a7c"
	SignedBy    string // the key that verified it
	Packages    []*Package
}

// Read verifies and parses an APKINDEX.tar.gz. what names it in errors (its URL or path).
// Nothing of the signed part is decompressed before its signature verifies against keys.
func Read(r io.Reader, keys keyring.Keyring, what string) (*Index, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxIndexFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if len(data) > maxIndexFile {
		return nil, fmt.Errorf("%s: more than %d bytes; refusing oversized index", what, maxIndexFile)
	}
	seg := segment.NewReader(bytes.NewReader(data), maxIndexFile)
	sigs, err := keyring.ReadSignatures(seg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	// The signature covers every byte after the signature segment.
	signed := data[seg.Offset():]
	if len(signed) == 0 {
		return nil, fmt.Errorf("%s: nothing after the signature: truncated index", what)
	}
	signer, err := keys.Verify(what, sigs, keyring.Digest(signed))
	if err != nil {
		return nil, err
	}
	idx, err := parseSigned(signed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	idx.SignedBy = signer
	return idx, nil
}

// parseSigned reads the verified tar.gz holding DESCRIPTION and APKINDEX.
func parseSigned(signed []byte) (*Index, error) {
	zr, err := gzip.NewReader(bytes.NewReader(signed))
	if err != nil {
		return nil, fmt.Errorf("index segment: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(zr, maxIndexText))
	idx := &Index{}
	found := false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("index segment: %w", err)
		}
		switch hdr.Name {
		case "DESCRIPTION":
			b, err := io.ReadAll(io.LimitReader(tr, 4096))
			if err != nil {
				return nil, fmt.Errorf("DESCRIPTION: %w", err)
			}
			idx.Description = strings.TrimSpace(string(b))
		case "APKINDEX":
			pkgs, err := Parse(tr)
			if err != nil {
				return nil, err
			}
			idx.Packages, found = pkgs, true
		}
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("index segment: %w", err)
	}
	if !found {
		return nil, errors.New("no APKINDEX entry in the signed archive")
	}
	return idx, nil
}

// Parse reads the text of an APKINDEX (or an installed database, which uses the same
// records): "X:value" lines, records separated by blank lines.
func Parse(r io.Reader) ([]*Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var pkgs []*Package
	var cur *Package
	start, line := 0, 0
	finish := func() error {
		if cur == nil {
			return nil
		}
		if err := check(cur); err != nil {
			return fmt.Errorf("APKINDEX record at line %d: %w", start, err)
		}
		pkgs = append(pkgs, cur)
		cur = nil
		return nil
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" {
			if err := finish(); err != nil {
				return nil, err
			}
			continue
		}
		if cur == nil {
			cur, start = &Package{}, line
		}
		if len(text) < 2 || text[1] != ':' {
			return nil, fmt.Errorf("APKINDEX line %d: %q is not a \"X:value\" field", line, clip(text))
		}
		if err := setField(cur, text[0], text[2:]); err != nil {
			return nil, fmt.Errorf("APKINDEX line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("APKINDEX line %d: %w", line+1, err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return pkgs, nil
}

func setField(p *Package, key byte, v string) error {
	var err error
	switch key {
	case 'C':
		p.Checksum, err = ParseChecksum(v)
	case 'P':
		p.Name = v
	case 'V':
		p.Version = v
	case 'A':
		p.Arch = v
	case 'S':
		p.Size, err = parseSize("S", v)
	case 'I':
		p.InstalledSize, err = parseSize("I", v)
	case 'T':
		p.Description = v
	case 'U':
		p.URL = v
	case 'L':
		p.License = v
	case 'o':
		p.Origin = v
	case 'm':
		p.Maintainer = v
	case 't':
		var n int64
		if n, err = parseSize("t", v); err == nil {
			p.BuildTime = time.Unix(n, 0).UTC()
		}
	case 'c':
		p.Commit = v
	case 'D':
		p.Depends = strings.Fields(v)
	case 'p':
		p.Provides = strings.Fields(v)
	case 'i':
		p.InstallIf = strings.Fields(v)
	case 'r':
		p.Replaces = strings.Fields(v)
	case 'k':
		p.ProviderPriority, err = strconv.Atoi(v)
		if err != nil || p.ProviderPriority < 0 {
			err = fmt.Errorf("k:%q: provider_priority must be a non-negative integer", clip(v))
		}
		p.HasPriority = true
	}
	// Other fields (F/M/R/Z/a of installed databases, q: replaces_priority …) do not steer
	// resolution and are ignored, as apk ignores unknown ones.
	return err
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func parseSize(field, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s:%q: must be a non-negative integer", field, clip(v))
	}
	return n, nil
}

// check refuses records that would be unsafe or meaningless to act on.
func check(p *Package) error {
	if p.Name == "" {
		return errors.New("no P: (package name)")
	}
	if !ValidName(p.Name) {
		return fmt.Errorf("package name %q has characters apk does not allow", clip(p.Name))
	}
	if p.Version == "" {
		return fmt.Errorf("%s: no V: (version)", p.Name)
	}
	if _, err := version.Parse(p.Version); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	if p.Arch != "" && !ValidName(p.Arch) {
		return fmt.Errorf("%s: architecture %q is not a plain name", p.Name, clip(p.Arch))
	}
	if p.Checksum.Sum == nil {
		return fmt.Errorf("%s %s: no C: checksum; its .apk could not be verified", p.Name, p.Version)
	}
	return nil
}

// ValidName reports whether s can be a package name: it ends up in file names and URLs, so
// no separators, no "..", nothing outside the characters Alpine uses.
func ValidName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 || strings.Contains(s, "..") {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+-._", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
