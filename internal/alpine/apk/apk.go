// Package apk reads Alpine packages (.apk v2) as a stream: the signature segment, the control
// segment (.PKGINFO and install scripts), whose signature and index checksum are checked
// before .PKGINFO is believed, and the data segment, whose entries are handed to the caller
// with each file's APK-TOOLS.checksum.SHA1 checked and the whole segment's SHA-256 compared
// with .PKGINFO's datahash at the end.
//
// Because datahash can only be known once the last byte has been read, a caller that writes
// entries somewhere must treat any error from Read as "discard everything written".
package apk

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha1" //nolint:gosec // APK-TOOLS.checksum.SHA1 is defined as SHA-1.
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/alpine/segment"
	"github.com/spartan-images/spartan/internal/alpine/version"

	"github.com/spartan-images/spartan/internal/tarpath"
)

// Limits: real control segments are a few KiB; the largest Alpine packages are a few GiB.
const (
	maxControl    = 16 << 20
	maxCompressed = 8 << 30
	maxPadding    = 1 << 20 // zero blocks after the data tar's end marker
)

// Info is what a package says about itself, plus what verified it.
type Info struct {
	Name, Version, Arch       string
	Description, URL, License string
	Origin, Maintainer        string
	Commit                    string
	BuildTime                 time.Time
	InstalledSize             int64
	Depends, Provides         []string
	InstallIf, Replaces       []string
	Triggers                  []string
	ProviderPriority          int
	HasPriority               bool
	DataHash                  []byte            // SHA-256 of the data segment, as .PKGINFO states and Read checked
	Scripts                   map[string][]byte // ".pre-install" … as shipped; Spartan never runs them
	PkgInfo                   []byte            // .PKGINFO as shipped

	SignedBy string            // key that verified the control segment
	Checksum apkindex.Checksum // Q1 of the control segment: what an index's C: names
}

// DataFunc receives each data entry in archive order. body yields a regular file's content
// and need not be read. An error it returns stops Read and is returned unchanged.
type DataFunc func(hdr *tar.Header, body io.Reader) error

// Options say what the package must be.
type Options struct {
	Keys keyring.Keyring
	// Expect, when set, is the verified index record this file was fetched for: the control
	// segment's hash must equal its C:, and name and version must agree.
	Expect *apkindex.Package
	// What names the file in errors (its path or URL).
	What string
}

// Read verifies and streams the .apk read from r. See the package comment for what is
// checked when.
func Read(r io.Reader, opt Options, data DataFunc) (*Info, error) {
	what := opt.What
	if what == "" {
		what = "apk"
	}
	info, err := read(r, opt, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return info, nil
}

func read(r io.Reader, opt Options, data DataFunc) (*Info, error) {
	seg := segment.NewReader(r, maxCompressed)
	sigs, err := keyring.ReadSignatures(seg)
	if err != nil {
		return nil, err
	}
	files, err := readControl(seg)
	if err != nil {
		return nil, err
	}
	s1, s256 := seg.Sums()
	signer, err := opt.Keys.Verify("control segment", sigs, keyring.Digests{SHA1: s1, SHA256: s256})
	if err != nil {
		return nil, err
	}
	sum := apkindex.Checksum{Sum: s1}
	if e := opt.Expect; e != nil {
		if e.Checksum.Sum == nil || !e.Checksum.Matches(s1, s256) {
			return nil, fmt.Errorf("checksum mismatch: the index says %s for %s %s, the file's control segment is %s; the file is not the one the signed index names",
				e.Checksum, e.Name, e.Version, sum)
		}
		if e.Checksum.SHA256 {
			sum = apkindex.Checksum{SHA256: true, Sum: s256}
		}
	}
	pkginfo, ok := files[".PKGINFO"]
	if !ok {
		return nil, errors.New("control segment has no .PKGINFO")
	}
	info, err := parsePkgInfo(pkginfo)
	if err != nil {
		return nil, err
	}
	if e := opt.Expect; e != nil && (e.Name != info.Name || e.Version != info.Version) {
		return nil, fmt.Errorf(".PKGINFO names %s %s, the index %s %s", info.Name, info.Version, e.Name, e.Version)
	}
	info.SignedBy, info.Checksum, info.PkgInfo = signer, sum, pkginfo
	info.Scripts = map[string][]byte{}
	for name, b := range files {
		if name != ".PKGINFO" {
			info.Scripts[name] = b
		}
	}
	if err := readData(seg, info.DataHash, data); err != nil {
		return nil, err
	}
	return info, nil
}

// readControl reads the control segment into memory; nothing in it is acted on before the
// signature over it has been checked.
func readControl(seg *segment.Reader) (map[string][]byte, error) {
	body, err := seg.Next()
	if errors.Is(err, segment.ErrNoMore) {
		return nil, errors.New("truncated: no control segment after the signature")
	}
	if err != nil {
		return nil, fmt.Errorf("control segment: %w", err)
	}
	lim := &io.LimitedReader{R: body, N: maxControl + 1}
	tr := tar.NewReader(lim)
	files := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("control segment: %w", err)
		}
		if !strings.HasPrefix(hdr.Name, ".") || strings.Contains(hdr.Name, "/") {
			return nil, fmt.Errorf("control segment: unexpected entry %q (want .PKGINFO and .pre-install-style scripts)", clip(hdr.Name))
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("control segment: %s is not a regular file", clip(hdr.Name))
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("control segment %s: %w", hdr.Name, err)
		}
		files[hdr.Name] = b
	}
	if _, err := io.Copy(io.Discard, lim); err != nil {
		return nil, fmt.Errorf("control segment: %w", err)
	}
	if lim.N <= 0 {
		return nil, fmt.Errorf("control segment: more than %d bytes", maxControl)
	}
	return files, nil
}

func readData(seg *segment.Reader, want []byte, data DataFunc) error {
	body, err := seg.Next()
	if errors.Is(err, segment.ErrNoMore) {
		return errors.New("truncated: no data segment after the control segment")
	}
	if err != nil {
		return fmt.Errorf("data segment: %w", err)
	}
	tr := tar.NewReader(body)
	sha := sha1.New() //nolint:gosec // see import
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("data segment: %w", err)
		}
		if err := checkEntry(hdr); err != nil {
			return err
		}
		if err := deliver(hdr, tr, sha, data); err != nil {
			return err
		}
	}
	n, err := io.Copy(io.Discard, io.LimitReader(body, maxPadding+1))
	if err != nil {
		return fmt.Errorf("data segment: %w", err)
	}
	if n > maxPadding {
		return errors.New("data segment: more than 1 MiB after the end of the archive")
	}
	_, got := seg.Sums()
	if !bytes.Equal(got, want) {
		return fmt.Errorf("data segment SHA-256 is %x, .PKGINFO's datahash says %x: the package's files were altered", got, want)
	}
	if _, err := seg.Next(); !errors.Is(err, segment.ErrNoMore) {
		return errors.New("unexpected data after the data segment")
	}
	return nil
}

// deliver hands one entry to data and checks its APK-TOOLS.checksum.SHA1, reading whatever
// data left unread.
func deliver(hdr *tar.Header, tr *tar.Reader, sha hash.Hash, data DataFunc) error {
	sum, hasSum := hdr.PAXRecords["APK-TOOLS.checksum.SHA1"]
	switch hdr.Typeflag {
	case tar.TypeReg:
		if !hasSum {
			return fmt.Errorf("%s: no APK-TOOLS.checksum.SHA1 record; refusing an unchecked file", clip(hdr.Name))
		}
	case tar.TypeSymlink:
		if hasSum {
			sha.Reset()
			sha.Write([]byte(hdr.Linkname))
			if hex.EncodeToString(sha.Sum(nil)) != strings.ToLower(sum) {
				return fmt.Errorf("%s: symlink target does not match its APK-TOOLS.checksum.SHA1", clip(hdr.Name))
			}
		}
		hasSum = false
	default:
		hasSum = false
	}
	sha.Reset()
	body := io.Reader(tr)
	if hasSum {
		body = io.TeeReader(tr, sha)
	}
	if data != nil {
		if err := data(hdr, body); err != nil {
			return err
		}
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return fmt.Errorf("data segment %s: %w", clip(hdr.Name), err)
	}
	if hasSum && hex.EncodeToString(sha.Sum(nil)) != strings.ToLower(sum) {
		return fmt.Errorf("%s: content does not match its APK-TOOLS.checksum.SHA1 %s: the file was altered", clip(hdr.Name), clip(sum))
	}
	return nil
}

// checkEntry refuses names that could land outside the root: absolute paths, ".."
// components, and hard links pointing likewise. Symlink targets may be absolute: they are
// resolved inside the image root, never followed while writing.
func checkEntry(hdr *tar.Header) error {
	if err := safePath(hdr.Name); err != nil {
		return fmt.Errorf("data entry %q: %w", clip(hdr.Name), err)
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return fmt.Errorf("data entry %q: unsupported type %q", clip(hdr.Name), hdr.Typeflag)
	}
	if hdr.Typeflag == tar.TypeLink {
		if err := safePath(hdr.Linkname); err != nil {
			return fmt.Errorf("hard link %q -> %q: %w", clip(hdr.Name), clip(hdr.Linkname), err)
		}
	}
	return nil
}

// safePath applies tarpath's rule; the root itself is no entry a package may write.
func safePath(p string) error {
	c, err := tarpath.Clean(p)
	if err != nil {
		return err
	}
	if c == "" {
		return errors.New("empty entry name or the root itself")
	}
	return nil
}

// parsePkgInfo reads "key = value" lines; repeated keys (depend, provides …) accumulate.
func parsePkgInfo(b []byte) (*Info, error) {
	info := &Info{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), maxControl)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, v, ok := strings.Cut(text, " = ")
		if !ok {
			return nil, fmt.Errorf(".PKGINFO line %d: %q is not \"key = value\"", line, clip(text))
		}
		var err error
		switch k {
		case "pkgname":
			info.Name = v
		case "pkgver":
			info.Version = v
		case "arch":
			info.Arch = v
		case "pkgdesc":
			info.Description = v
		case "url":
			info.URL = v
		case "license":
			info.License = v
		case "origin":
			info.Origin = v
		case "maintainer":
			info.Maintainer = v
		case "commit":
			info.Commit = v
		case "builddate":
			var n int64
			n, err = strconv.ParseInt(v, 10, 64)
			info.BuildTime = time.Unix(n, 0).UTC()
		case "size":
			info.InstalledSize, err = strconv.ParseInt(v, 10, 64)
		case "depend":
			info.Depends = append(info.Depends, strings.Fields(v)...)
		case "provides":
			info.Provides = append(info.Provides, strings.Fields(v)...)
		case "install_if":
			info.InstallIf = append(info.InstallIf, strings.Fields(v)...)
		case "replaces":
			info.Replaces = append(info.Replaces, strings.Fields(v)...)
		case "triggers":
			info.Triggers = append(info.Triggers, strings.Fields(v)...)
		case "provider_priority":
			info.ProviderPriority, err = strconv.Atoi(v)
			info.HasPriority = true
		case "datahash":
			info.DataHash, err = hex.DecodeString(v)
			if err == nil && len(info.DataHash) != 32 {
				err = errors.New("want 64 hex digits")
			}
		}
		if err != nil {
			return nil, fmt.Errorf(".PKGINFO line %d (%s): %w", line, k, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf(".PKGINFO: %w", err)
	}
	switch {
	case !apkindex.ValidName(info.Name):
		return nil, fmt.Errorf(".PKGINFO: pkgname %q is missing or not a valid name", clip(info.Name))
	case !version.Valid(info.Version):
		return nil, fmt.Errorf(".PKGINFO: pkgver %q is missing or not a valid apk version", clip(info.Version))
	case info.DataHash == nil:
		return nil, errors.New(".PKGINFO has no datahash; the files could not be verified")
	}
	return info, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
