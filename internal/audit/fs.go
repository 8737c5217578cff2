package audit

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Entry is one path of the flattened image filesystem: the tar header fields the checks need,
// and for the few files the checks read, their content.
type Entry struct {
	Path     string // absolute, cleaned: "/etc/passwd"
	Type     byte   // tar type flag (tar.TypeReg, tar.TypeDir, tar.TypeSymlink…)
	Mode     int64  // permission bits including setuid/setgid/sticky (tar header Mode)
	UID, GID int
	Size     int64
	Linkname string
	Layer    int    // index of the layer that last wrote this path
	Content  []byte // kept only for files the checks parse (accounts, dpkg records)
	Secrets  []SecretHit
}

// Setuid and friends in tar header mode bits (archive/tar's c_ISUID…).
const (
	modeSetuid = 0o4000
	modeSetgid = 0o2000
	modeSticky = 0o1000
)

// IsRegular is true for regular files (hard links count: they share a regular file's data).
func (e *Entry) IsRegular() bool {
	return e.Type == tar.TypeReg || e.Type == tar.TypeRegA || e.Type == tar.TypeLink
}

// IsDir is true for directories.
func (e *Entry) IsDir() bool { return e.Type == tar.TypeDir }

// FS is an image's flattened filesystem: every layer applied in order, whiteouts honoured.
type FS struct {
	entries map[string]*Entry
}

// Get returns the entry at an absolute path, or nil.
func (f *FS) Get(p string) *Entry { return f.entries[cleanPath(p)] }

// Len is the number of entries.
func (f *FS) Len() int { return len(f.entries) }

// Walk visits the entries in path order.
func (f *FS) Walk(fn func(*Entry)) {
	keys := make([]string, 0, len(f.entries))
	for k := range f.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn(f.entries[k])
	}
}

// Content is the kept content of a file, following symlinks within the image.
func (f *FS) Content(p string) ([]byte, bool) {
	e := f.resolve(cleanPath(p), 0)
	if e == nil || e.Content == nil {
		return nil, false
	}
	return e.Content, true
}

func (f *FS) resolve(p string, depth int) *Entry {
	e := f.entries[p]
	if e == nil || depth > 16 {
		return nil
	}
	switch e.Type {
	case tar.TypeSymlink:
		t := e.Linkname
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(p), t)
		}
		return f.resolve(cleanPath(t), depth+1)
	case tar.TypeLink:
		if t := f.entries[cleanPath(e.Linkname)]; t != nil && t != e {
			return t
		}
	}
	return e
}

// keepContent says which files' content the checks need: account databases, dpkg records and
// os-release (the Debian release the vulnerability check looks packages up in).
func keepContent(p string) bool {
	switch p {
	case "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/var/lib/dpkg/status",
		"/etc/os-release", "/usr/lib/os-release":
		return true
	}
	return strings.HasPrefix(p, "/var/lib/dpkg/status.d/") && !strings.HasSuffix(p, ".md5sums")
}

// maxScan is the largest file searched for secrets: keys and credential files are small, and
// reading every large file would make auditing a general-purpose image slow.
const maxScan = 64 << 10

// Flatten applies the image's layers in order. Layer sizes are measured on the way, since the
// uncompressed bytes are read anyway.
func Flatten(img v1.Image) (*FS, []LayerInfo, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("list layers: %w", err)
	}
	fs := &FS{entries: map[string]*Entry{"/": {Path: "/", Type: tar.TypeDir, Mode: 0o755}}}
	infos := make([]LayerInfo, 0, len(layers))
	for i, l := range layers {
		info := LayerInfo{Index: i}
		if d, err := l.Digest(); err == nil {
			info.Digest = d.String()
		}
		if info.Size, err = l.Size(); err != nil {
			return nil, nil, fmt.Errorf("layer %d size: %w", i, err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, nil, fmt.Errorf("open layer %d (%s): %w", i, info.Digest, err)
		}
		cr := &countReader{r: rc}
		err = fs.apply(i, cr)
		rc.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("read layer %d (%s): %w", i, info.Digest, err)
		}
		info.UncompressedSize = cr.n
		infos = append(infos, info)
	}
	return fs, infos, nil
}

// LayerInfo is one layer's size as stored (compressed) and as unpacked (tar bytes).
type LayerInfo struct {
	Index            int
	Digest           string
	Size             int64
	UncompressedSize int64
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (f *FS) apply(layer int, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			// Drain the padding so the byte count is the layer's full tar size.
			_, err = io.Copy(io.Discard, r)
			return err
		}
		if err != nil {
			return err
		}
		p := cleanPath(hdr.Name)
		dir, base := path.Split(p)
		dir = cleanPath(dir)
		switch {
		case base == ".wh..wh..opq":
			// An opaque directory hides what lower layers put in it; this layer's own entries stay.
			f.removeUnder(dir, layer)
			continue
		case strings.HasPrefix(base, ".wh."):
			target := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			f.remove(target, layer)
			continue
		}
		if old := f.entries[p]; old != nil && old.IsDir() && hdr.Typeflag != tar.TypeDir {
			f.removeUnder(p, layer+1)
		}
		e := &Entry{
			Path: p, Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid,
			Size: hdr.Size, Linkname: hdr.Linkname, Layer: layer,
		}
		if hdr.Typeflag == tar.TypeLink {
			e.Linkname = cleanPath(hdr.Linkname)
		}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
			if err := readContent(e, tr); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		f.entries[p] = e
		f.mkdirs(dir, layer)
	}
}

func readContent(e *Entry, r io.Reader) error {
	keep := keepContent(e.Path)
	if !keep && e.Size > maxScan {
		return nil
	}
	limit := e.Size
	if limit > 8<<20 { // account and dpkg databases are far smaller; don't let a hostile tar balloon
		limit = 8 << 20
	}
	b, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return err
	}
	if keep {
		e.Content = b
	}
	if e.Size <= maxScan && !bytes.Contains(b[:min(len(b), 8192)], []byte{0}) {
		e.Secrets = scanSecrets(b)
	}
	return nil
}

// mkdirs records parent directories a layer implies but doesn't list, so that walks see them.
func (f *FS) mkdirs(dir string, layer int) {
	for dir != "/" {
		if _, ok := f.entries[dir]; ok {
			return
		}
		f.entries[dir] = &Entry{Path: dir, Type: tar.TypeDir, Mode: 0o755, Layer: layer}
		dir = path.Dir(dir)
	}
}

// remove deletes a path and everything under it that came from lower layers.
func (f *FS) remove(p string, layer int) {
	if e := f.entries[p]; e != nil && e.Layer < layer {
		delete(f.entries, p)
	}
	f.removeUnder(p, layer)
}

// removeUnder deletes everything below dir written by layers before `layer`.
func (f *FS) removeUnder(dir string, layer int) {
	prefix := dir + "/"
	if dir == "/" {
		prefix = "/"
	}
	for k, e := range f.entries {
		if k != dir && strings.HasPrefix(k, prefix) && e.Layer < layer {
			delete(f.entries, k)
		}
	}
}

func cleanPath(p string) string {
	p = path.Clean("/" + strings.TrimPrefix(p, "./"))
	return p
}
