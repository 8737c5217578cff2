// Package testkit builds .deb files in memory and serves them from a signed
// fake Debian repository over httptest, so tests of the archive client,
// resolver, downloader and assembler never touch the network.
//
// It deliberately imports no other internal package: it is the reference the
// other packages are tested against, so it must not share their bugs.
package testkit

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// DefaultDate is the fixed timestamp used for archive members, tar entries
// and suites without a Date, so every build of the same input is identical.
var DefaultDate = time.Date(2025, time.August, 9, 9, 15, 44, 0, time.UTC)

// DefaultMaintainer fills the Maintainer field unless Extra overrides it.
const DefaultMaintainer = "Spartan Test Kit <testkit@example.invalid>"

// File is one entry of a package's data.tar.
type File struct {
	Path     string // "./usr/bin/foo" or "/usr/bin/foo"; normalized to "./usr/bin/foo"
	Mode     int64  // permission bits incl. setuid; 0 → 0644 (0755 dirs, 0777 symlinks)
	Type     byte   // tar.TypeReg (default), TypeDir, TypeSymlink, TypeLink, TypeChar, TypeBlock, TypeFifo
	Body     string // content of regular files
	Link     string // symlink target (kept verbatim) or hard link target (normalized like Path)
	Uid, Gid int
	Raw      bool // keep Path and Link byte for byte, to build hostile archives ("../etc/passwd")
}

// Deb describes a binary package. Zero values get Debian-like defaults.
type Deb struct {
	Name, Version, Arch  string // Version default "1.0", Arch default "amd64"
	Source               string // optional, may be "src (ver)"
	Depends, PreDepends  string
	Provides, Recommends string
	Essential            bool
	Priority, Section    string
	MultiArch            string
	Extra                map[string]string // extra control fields; a known field's name overrides it
	Files                []File            // data.tar content, in this order
	AutoDirs             bool              // add "./" and missing parent directories before their children
	Compression          string            // "xz" (default), "zstd", "gzip" or "none", for both members
	Description          string            // synopsis, then optional long lines separated by "\n"
	ControlFiles         map[string]string // extra control.tar members: conffiles, postinst, triggers…
	Date                 time.Time         // mtime of the ar members and tar entries; zero → DefaultDate
}

func (d Deb) withDefaults() Deb {
	if d.Version == "" {
		d.Version = "1.0"
	}
	if d.Arch == "" {
		d.Arch = "amd64"
	}
	if d.Compression == "" {
		d.Compression = "xz"
	}
	if d.Date.IsZero() {
		d.Date = DefaultDate
	}
	if d.Description == "" {
		d.Description = d.Name + " package built by the spartan test kit"
	}
	return d
}

// Filename is the pool file name Debian would use: the epoch is not part of it.
func (d Deb) Filename() string {
	d = d.withDefaults()
	v := d.Version
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	return fmt.Sprintf("%s_%s_%s.deb", d.Name, v, d.Arch)
}

// fields returns the control fields in dpkg's usual order, Extra applied.
func (d Deb) fields() [][2]string {
	d = d.withDefaults()
	var fs [][2]string
	add := func(name, value string) { fs = append(fs, [2]string{name, value}) }
	add("Package", d.Name)
	add("Source", d.Source)
	add("Version", d.Version)
	add("Architecture", d.Arch)
	add("Maintainer", DefaultMaintainer)
	add("Installed-Size", fmt.Sprint(installedSize(d.Files)))
	add("Pre-Depends", d.PreDepends)
	add("Depends", d.Depends)
	add("Recommends", d.Recommends)
	add("Provides", d.Provides)
	if d.Essential {
		add("Essential", "yes")
	}
	add("Multi-Arch", d.MultiArch)
	add("Section", d.Section)
	add("Priority", d.Priority)
next:
	for _, k := range sortedKeys(d.Extra) {
		for i := range fs {
			if strings.EqualFold(fs[i][0], k) {
				fs[i][1] = d.Extra[k]
				continue next
			}
		}
		add(k, d.Extra[k])
	}
	add("Description", d.Description)
	return fs
}

// Control returns the control paragraph, ending in "\n".
func (d Deb) Control() string {
	return formatFields(d.fields())
}

func formatFields(fs [][2]string) string {
	var b strings.Builder
	for _, f := range fs {
		if f[1] == "" {
			continue // an empty value (e.g. via Extra) removes the field
		}
		lines := strings.Split(f[1], "\n")
		fmt.Fprintf(&b, "%s: %s\n", f[0], lines[0])
		for _, l := range lines[1:] {
			if strings.TrimSpace(l) == "" {
				l = "."
			}
			fmt.Fprintf(&b, " %s\n", l)
		}
	}
	return b.String()
}

// installedSize approximates dpkg-gencontrol: KiB per file, rounded up, and
// one KiB for every other entry.
func installedSize(files []File) int64 {
	var kib int64
	for _, f := range files {
		if isReg(f) {
			kib += (int64(len(f.Body)) + 1023) / 1024
		} else {
			kib++
		}
	}
	return kib
}

func isReg(f File) bool { return f.Type == tar.TypeReg || f.Type == 0 }

// normPath turns "/usr/bin/x", "usr/bin/x" or "./usr/bin/x" into "./usr/bin/x".
func normPath(p string) string {
	p = path.Clean("/" + strings.TrimPrefix(p, "."))
	if p == "/" {
		return "./"
	}
	return "." + p
}

// Build returns the .deb: an ar archive of debian-binary, control.tar.* and data.tar.*.
func (d Deb) Build() ([]byte, error) {
	d = d.withDefaults()
	if d.Name == "" {
		return nil, fmt.Errorf("build deb: Name is empty; set Deb.Name")
	}
	ext, ok := map[string]string{"xz": ".xz", "zstd": ".zst", "gzip": ".gz", "none": ""}[d.Compression]
	if !ok {
		return nil, fmt.Errorf("build deb %s: unknown compression %q; use xz, zstd, gzip or none", d.Name, d.Compression)
	}
	data, err := tarball(d.dataEntries(), d.Compression, d.Date)
	if err != nil {
		return nil, fmt.Errorf("build deb %s: data.tar: %w", d.Name, err)
	}
	control, err := tarball(d.controlEntries(), d.Compression, d.Date)
	if err != nil {
		return nil, fmt.Errorf("build deb %s: control.tar: %w", d.Name, err)
	}
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	arMember(&ar, "debian-binary", []byte("2.0\n"), d.Date)
	arMember(&ar, "control.tar"+ext, control, d.Date)
	arMember(&ar, "data.tar"+ext, data, d.Date)
	return ar.Bytes(), nil
}

// arMember writes one member in the common ar format dpkg uses: fixed-width
// space-padded header fields, data padded to an even length with "\n".
func arMember(w *bytes.Buffer, name string, data []byte, date time.Time) {
	fmt.Fprintf(w, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", name, date.Unix(), 0, 0, 0100644, len(data))
	w.Write(data)
	if len(data)%2 == 1 {
		w.WriteByte('\n')
	}
}

// dataEntries normalizes paths; without AutoDirs the entries are exactly
// those given, so tests can build odd archives on purpose.
func (d Deb) dataEntries() []File {
	var out []File
	dirAt := map[string]int{} // AutoDirs: dir → index in out, so an explicit entry replaces it in place
	for _, f := range d.Files {
		if f.Raw {
			out = append(out, f)
			continue
		}
		f.Path = normPath(f.Path)
		if f.Type == tar.TypeDir && !strings.HasSuffix(f.Path, "/") {
			f.Path += "/"
		}
		if f.Type == tar.TypeLink {
			f.Link = normPath(f.Link)
		}
		if d.AutoDirs {
			dir := "./"
			for _, part := range strings.Split(strings.TrimPrefix(f.Path, "./"), "/") {
				if _, ok := dirAt[dir]; !ok && dir != f.Path {
					dirAt[dir] = len(out)
					out = append(out, File{Path: dir, Type: tar.TypeDir})
				}
				dir += part + "/"
			}
			if i, ok := dirAt[f.Path]; ok && f.Type == tar.TypeDir {
				out[i] = f
				continue
			}
			if f.Type == tar.TypeDir {
				dirAt[f.Path] = len(out)
			}
		}
		out = append(out, f)
	}
	return out
}

func (d Deb) controlEntries() []File {
	out := []File{{Path: "./", Type: tar.TypeDir}, {Path: "./control", Body: d.Control()}}
	var sums strings.Builder
	for _, f := range d.dataEntries() {
		if isReg(f) {
			fmt.Fprintf(&sums, "%x  %s\n", md5.Sum([]byte(f.Body)), strings.TrimPrefix(f.Path, "./"))
		}
	}
	if sums.Len() > 0 {
		out = append(out, File{Path: "./md5sums", Body: sums.String()})
	}
	for _, n := range sortedKeys(d.ControlFiles) {
		mode := int64(0644)
		if maintainerScripts[n] {
			mode = 0755
		}
		out = append(out, File{Path: normPath(n), Mode: mode, Body: d.ControlFiles[n]})
	}
	return out
}

var maintainerScripts = map[string]bool{"preinst": true, "postinst": true, "prerm": true, "postrm": true, "config": true}

// tarball writes entries to a tar stream compressed as named.
func tarball(files []File, compression string, date time.Time) ([]byte, error) {
	var buf bytes.Buffer
	var zw io.WriteCloser
	var err error
	switch compression {
	case "xz":
		zw, err = xz.NewWriter(&buf)
	case "zstd":
		zw, err = zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	case "gzip":
		zw = gzip.NewWriter(&buf)
	default:
		zw = nopCloser{&buf}
	}
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		hdr := &tar.Header{
			Name: f.Path, Typeflag: f.Type, Mode: f.Mode, Uid: f.Uid, Gid: f.Gid,
			Linkname: f.Link, ModTime: date, Format: tar.FormatGNU,
		}
		if isReg(f) {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(f.Body))
		}
		if hdr.Mode == 0 {
			hdr.Mode = map[byte]int64{tar.TypeDir: 0755, tar.TypeSymlink: 0777}[hdr.Typeflag]
			if hdr.Mode == 0 {
				hdr.Mode = 0644
			}
		}
		if f.Uid == 0 {
			hdr.Uname = "root"
		}
		if f.Gid == 0 {
			hdr.Gname = "root"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("entry %s: %w", f.Path, err)
		}
		if !isReg(f) {
			continue
		}
		if _, err := io.WriteString(tw, f.Body); err != nil {
			return nil, fmt.Errorf("entry %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
