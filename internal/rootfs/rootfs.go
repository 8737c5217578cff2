// Package rootfs flattens an image's layers into the file system a container would see:
// layers applied in order, whiteouts (.wh.NAME) and opaque directories (.wh..wh..opq)
// honoured, hard links and symlinks resolvable. Everything that reads an image's files —
// audit, sbom, scan, compare, verify — reads them from here, once.
//
// Each layer is read on its own (in parallel: inflating is most of the time) into a Layer,
// the ordered list of what it adds and deletes; an FS replays them. A Layer depends only on
// the layer's bytes and the Options, so it can be kept in Spartan's cache under the layer's
// digest and a later read of any image sharing the layer does not inflate it again.
package rootfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"sort"
	"strings"
)

// File is one path of the flattened file system.
type File struct {
	Path     string `json:"p"` // absolute, cleaned: "/etc/passwd"
	Type     byte   `json:"t"` // tar type flag (tar.TypeReg, tar.TypeDir, tar.TypeSymlink…)
	Mode     int64  `json:"m,omitempty"`
	UID      int    `json:"u,omitempty"`
	GID      int    `json:"g,omitempty"`
	Size     int64  `json:"s,omitempty"`
	Linkname string `json:"l,omitempty"` // symlink target as written; a hard link's target, absolute
	Layer    int    `json:"-"`           // index of the layer that last wrote this path
	Data     []byte `json:"d"`           // content, for the files Options.Keep names (empty, not nil, when empty)
	SHA256   string `json:"sha256,omitempty"`
	SHA1     string `json:"sha1,omitempty"`
	// Note is what Options.Inspect returned for this file's content.
	Note any `json:"-"`
}

// IsRegular is true for regular files (hard links count: they share a regular file's data).
func (f *File) IsRegular() bool {
	return f.Type == tar.TypeReg || f.Type == tar.TypeRegA || f.Type == tar.TypeLink
}

// IsDir is true for directories.
func (f *File) IsDir() bool { return f.Type == tar.TypeDir }

// Options say what a reader needs beyond the tar headers.
type Options struct {
	// Select limits the tree to the paths it accepts (whiteouts always count); nil takes all.
	// A reader of a few files (scan: package databases) skips the rest of the tree.
	Select func(path string) bool
	// Keep names the files whose content is kept (account files, package databases).
	Keep func(path string) bool
	// Digests computes the SHA-256 and SHA-1 of every regular file (SBOM file entries).
	Digests bool
	// Inspect sees the content of every regular file of at most InspectLimit bytes; what it
	// returns is kept as the file's Note. Layers are read in parallel, so it must be safe for
	// concurrent use. Results of Inspect are not cached.
	Inspect      func(path string, content []byte) any
	InspectLimit int64
	// Cache keeps each layer's reading under its digest and CacheKey, which must change
	// whenever Select, Keep or Digests do (e.g. "inventory/v1").
	Cache    DerivedCache
	CacheKey string
}

// DerivedCache is the part of Spartan's cache (internal/cache) that holds derived data.
type DerivedCache interface {
	GetDerived(key string) ([]byte, bool)
	PutDerived(key string, data []byte) error
}

// MaxKeep bounds the content kept of one file: the dpkg status database of a large image is a
// few MB; a hostile layer must not make Spartan hold gigabytes.
const MaxKeep = 64 << 20

// Op is one event of a layer, in tar order: a file written, or a whiteout.
type Op struct {
	File *File `json:"f,omitempty"`
	// Whiteout deletes a path (and everything under it) of the layers below.
	Whiteout string `json:"w,omitempty"`
	// Opaque hides what the layers below put in a directory.
	Opaque string `json:"o,omitempty"`
}

// Layer is what one layer contributes, and its sizes.
type Layer struct {
	Info LayerInfo `json:"info"`
	Ops  []Op      `json:"ops"`
}

// LayerInfo is one layer's size as stored (compressed) and as unpacked (tar bytes).
type LayerInfo struct {
	Index            int    `json:"-"`
	Digest           string `json:"-"`
	Size             int64  `json:"-"`
	UncompressedSize int64  `json:"uncompressed"`
}

// ReadLayer reads one layer's tar stream; errors name the entry they stopped at.
func ReadLayer(r io.Reader, o Options) (*Layer, error) {
	cr := &countReader{r: r}
	tr := tar.NewReader(cr)
	l := &Layer{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Drain the padding so the byte count is the layer's full tar size.
			if _, err := io.Copy(io.Discard, cr); err != nil {
				return nil, err
			}
			l.Info.UncompressedSize = cr.n
			return l, nil
		}
		if err != nil {
			return nil, err
		}
		p := Clean(hdr.Name)
		dir, base := path.Split(p)
		dir = Clean(dir)
		switch {
		case base == ".wh..wh..opq":
			l.Ops = append(l.Ops, Op{Opaque: dir})
			continue
		case strings.HasPrefix(base, ".wh."):
			l.Ops = append(l.Ops, Op{Whiteout: path.Join(dir, strings.TrimPrefix(base, ".wh."))})
			continue
		}
		if o.Select != nil && !o.Select(p) {
			continue
		}
		f := &File{Path: p, Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid,
			Size: hdr.Size, Linkname: hdr.Linkname}
		if hdr.Typeflag == tar.TypeLink {
			f.Linkname = Clean(hdr.Linkname)
		}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
			f.Type = tar.TypeReg
			if err := readContent(f, tr, o); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		l.Ops = append(l.Ops, Op{File: f})
	}
}

func readContent(f *File, r io.Reader, o Options) error {
	keep := o.Keep != nil && o.Keep(f.Path)
	inspect := o.Inspect != nil && f.Size <= o.InspectLimit
	if !keep && !inspect && !o.Digests {
		return nil
	}
	if keep && f.Size > MaxKeep {
		return fmt.Errorf("%d bytes, more than the %d a package or account database may have", f.Size, MaxKeep)
	}
	var buf bytes.Buffer
	var w []io.Writer
	if keep || inspect {
		w = append(w, &buf)
	}
	var s256, s1 hash.Hash
	if o.Digests {
		s256, s1 = sha256.New(), sha1.New()
		w = append(w, s256, s1)
	}
	if _, err := io.Copy(io.MultiWriter(w...), r); err != nil {
		return err
	}
	if o.Digests {
		f.SHA256, f.SHA1 = hex.EncodeToString(s256.Sum(nil)), hex.EncodeToString(s1.Sum(nil))
	}
	if inspect {
		f.Note = o.Inspect(f.Path, buf.Bytes())
	}
	if keep {
		f.Data = append([]byte{}, buf.Bytes()...)
	}
	return nil
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

// FS is an image's flattened file system. It is read-only once built.
type FS struct {
	files  map[string]*File
	Layers []LayerInfo
}

// New replays layers in order, as a container runtime stacks them.
func New(layers []*Layer) *FS {
	fs := &FS{files: map[string]*File{"/": {Path: "/", Type: tar.TypeDir, Mode: 0o755}}}
	for i, l := range layers {
		info := l.Info
		info.Index = i
		fs.Layers = append(fs.Layers, info)
		for _, op := range l.Ops {
			switch {
			case op.Opaque != "":
				// This layer's own entries in the directory stay.
				fs.removeUnder(op.Opaque, i)
			case op.Whiteout != "":
				fs.remove(op.Whiteout, i)
			case op.File != nil:
				fs.add(op.File, i)
			}
		}
	}
	return fs
}

func (fs *FS) add(src *File, layer int) {
	f := *src
	f.Layer = layer
	if old := fs.files[f.Path]; old != nil && old.IsDir() && !f.IsDir() {
		fs.removeUnder(f.Path, layer+1)
	}
	fs.files[f.Path] = &f
	// Record parent directories a layer implies but doesn't list, so that walks see them.
	for dir := path.Dir(f.Path); dir != "/"; dir = path.Dir(dir) {
		if _, ok := fs.files[dir]; ok {
			return
		}
		fs.files[dir] = &File{Path: dir, Type: tar.TypeDir, Mode: 0o755, Layer: layer}
	}
}

// remove deletes a path and everything under it that came from lower layers.
func (fs *FS) remove(p string, layer int) {
	if f := fs.files[p]; f != nil && f.Layer < layer {
		delete(fs.files, p)
	}
	fs.removeUnder(p, layer)
}

// removeUnder deletes everything below dir written by layers before layer.
func (fs *FS) removeUnder(dir string, layer int) {
	prefix := dir + "/"
	if dir == "/" {
		prefix = "/"
	}
	for k, f := range fs.files {
		if k != dir && strings.HasPrefix(k, prefix) && f.Layer < layer {
			delete(fs.files, k)
		}
	}
}

// Get returns the entry at a path, not following links, or nil.
func (fs *FS) Get(p string) *File { return fs.files[Clean(p)] }

// Walk visits the entries in path order.
func (fs *FS) Walk(fn func(*File)) {
	keys := make([]string, 0, len(fs.files))
	for k := range fs.files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn(fs.files[k])
	}
}

// List returns the entries directly in dir, in name order.
func (fs *FS) List(dir string) []*File {
	dir = Clean(dir)
	var out []*File
	for p, f := range fs.files {
		if p != "/" && path.Dir(p) == dir {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Resolve follows symlinks in every component of p (at most 40, as Linux does) and returns the
// path they lead to, "" for a loop.
func (fs *FS) Resolve(p string) string {
	hops := 0
	parts := strings.Split(strings.TrimPrefix(Clean(p), "/"), "/")
	cur := "/"
	for i := 0; i < len(parts); i++ {
		if parts[i] == "" {
			continue
		}
		next := path.Join(cur, parts[i])
		f := fs.files[next]
		if f == nil || f.Type != tar.TypeSymlink {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return ""
		}
		target := f.Linkname
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		parts = append(strings.Split(strings.TrimPrefix(Clean(target), "/"), "/"), parts[i+1:]...)
		cur, i = "/", -1
	}
	return cur
}

// Lookup returns what p leads to — symlinks followed, a hard link replaced by its target —
// or nil.
func (fs *FS) Lookup(p string) *File {
	r := fs.Resolve(p)
	if r == "" {
		return nil
	}
	f := fs.files[r]
	if f != nil && f.Type == tar.TypeLink {
		if t := fs.files[f.Linkname]; t != nil && t.Type != tar.TypeLink {
			return t
		}
	}
	return f
}

// Content is the kept content of a file, following links.
func (fs *FS) Content(p string) ([]byte, bool) {
	f := fs.Lookup(p)
	if f == nil || f.Data == nil {
		return nil, false
	}
	return f.Data, true
}

// Clean makes a tar entry name an absolute, clean path: "./etc/passwd" → "/etc/passwd".
func Clean(name string) string {
	return path.Clean("/" + strings.TrimPrefix(name, "./"))
}
