// Package appfiles turns an application's files (a directory or a tar, from a spec's files:)
// into a deterministic layer: entries sorted by path, owner and modes from the spec, one fixed
// mtime, nothing of the host's users, umask or clock. Entries that could write outside their
// destination (.. in a tar name, absolute names, entries below a symlink, links to files the
// source does not hold) and special files are refused, naming the entry.
package appfiles

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/tarpath"
)

// Set is one source copied to Dest.
type Set struct {
	Src      string // a directory or a .tar file
	Dest     string // absolute, clean directory in the image
	UID, GID int
	Mode     int64 // regular files; 0: 0644, or 0755 when the owner may execute the source file
	DirMode  int64 // directories; 0: 0755
}

type entry struct {
	name   string // relative to the image root, no leading slash
	kind   byte   // tar.TypeDir, TypeReg, TypeSymlink, TypeLink
	mode   int64
	data   []byte
	target string
}

// Layer reads the set and writes its layer tar, every entry at mtime.
func Layer(s Set, mtime time.Time) ([]byte, error) {
	if !path.IsAbs(s.Dest) || path.Clean(s.Dest) != s.Dest || s.Dest == "/" {
		return nil, fmt.Errorf("files %s: dest %q must be a clean absolute directory other than /", s.Src, s.Dest)
	}
	fi, err := os.Stat(s.Src)
	if err != nil {
		return nil, fmt.Errorf("files %s: %w", s.Src, err)
	}
	var entries []entry
	if fi.IsDir() {
		entries, err = readDir(s)
	} else {
		entries, err = readTar(s)
	}
	if err != nil {
		return nil, fmt.Errorf("files %s: %w", s.Src, err)
	}
	return write(s, entries, mtime)
}

func (s Set) fileMode(src fs.FileMode) int64 {
	if s.Mode != 0 {
		return s.Mode
	}
	if src&0o100 != 0 {
		return 0o755
	}
	return 0o644
}

func (s Set) dirMode() int64 {
	if s.DirMode != 0 {
		return s.DirMode
	}
	return 0o755
}

// readDir walks the directory without following symlinks: a link is copied as a link, so
// nothing outside the source is ever read.
func readDir(s Set) ([]entry, error) {
	var out []entry
	root := strings.TrimPrefix(s.Dest, "/")
	err := filepath.WalkDir(s.Src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(s.Src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		name := path.Join(root, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch m := info.Mode(); {
		case m.IsDir():
			out = append(out, entry{name: name, kind: tar.TypeDir, mode: s.dirMode()})
		case m.IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, entry{name: name, kind: tar.TypeReg, mode: s.fileMode(m), data: data})
		case m&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, entry{name: name, kind: tar.TypeSymlink, mode: 0o777, target: target})
		default:
			return fmt.Errorf("%s is a %s: only directories, regular files and symlinks can be copied", rel, m.Type())
		}
		return nil
	})
	return out, err
}

func readTar(s Set) ([]entry, error) {
	f, err := os.Open(s.Src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	root := strings.TrimPrefix(s.Dest, "/")
	tr := tar.NewReader(f)
	var out []entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a readable tar: %w", err)
		}
		rel, err := tarpath.Clean(h.Name)
		if err != nil {
			return nil, fmt.Errorf("tar entry %q: %w", h.Name, err)
		}
		if rel == "" {
			continue // the archive's "./"
		}
		e := entry{name: path.Join(root, rel)}
		switch h.Typeflag {
		case tar.TypeDir:
			e.kind, e.mode = tar.TypeDir, s.dirMode()
		case tar.TypeReg, tar.TypeRegA:
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("tar entry %q: %w", h.Name, err)
			}
			e.kind, e.mode, e.data = tar.TypeReg, s.fileMode(fs.FileMode(h.Mode)&fs.ModePerm), data
		case tar.TypeSymlink:
			e.kind, e.mode, e.target = tar.TypeSymlink, 0o777, h.Linkname
		case tar.TypeLink:
			target, err := tarpath.Clean(h.Linkname)
			if err == nil && target == "" {
				err = errors.New("empty target")
			}
			if err != nil {
				return nil, fmt.Errorf("tar entry %q: hard link to %q: %w", h.Name, h.Linkname, err)
			}
			e.kind, e.mode, e.target = tar.TypeLink, s.fileMode(fs.FileMode(h.Mode)&fs.ModePerm), path.Join(root, target)
		default:
			return nil, fmt.Errorf("tar entry %q: type %q is not a directory, file or link; refusing it", h.Name, h.Typeflag)
		}
		out = append(out, e)
	}
	return out, nil
}

func write(s Set, entries []entry, mtime time.Time) ([]byte, error) {
	kinds := map[string]byte{}
	for _, e := range entries {
		if old, dup := kinds[e.name]; dup && !(old == tar.TypeDir && e.kind == tar.TypeDir) {
			return nil, fmt.Errorf("files %s: /%s appears twice", s.Src, e.name)
		}
		kinds[e.name] = e.kind
	}
	root := strings.TrimPrefix(s.Dest, "/")
	// dest with the set's owner and dirmode, its parents as root's 0755; directories a tar
	// leaves out are created like its own.
	var missing []entry
	addDir := func(d string, mode int64) {
		if _, ok := kinds[d]; !ok {
			kinds[d] = tar.TypeDir
			missing = append(missing, entry{name: d, kind: tar.TypeDir, mode: mode})
		}
	}
	for _, d := range parents(root) {
		addDir(d, 0o755)
	}
	addDir(root, s.dirMode())
	for _, e := range entries {
		for _, d := range parents(e.name) {
			addDir(d, s.dirMode())
			if k := kinds[d]; k != tar.TypeDir {
				return nil, fmt.Errorf("files %s: /%s is below /%s, which is a %s: refusing to write through it", s.Src, e.name, d, kindName(k))
			}
		}
		switch e.kind {
		case tar.TypeSymlink:
			if e.target == "" || strings.ContainsRune(e.target, 0) {
				return nil, fmt.Errorf("files %s: symlink /%s has an empty or invalid target", s.Src, e.name)
			}
			if !path.IsAbs(e.target) && tarpath.Climbs(path.Dir(e.name), e.target) {
				return nil, fmt.Errorf("files %s: symlink /%s → %s climbs above /", s.Src, e.name, e.target)
			}
		case tar.TypeLink:
			if kinds[e.target] != tar.TypeReg {
				return nil, fmt.Errorf("files %s: hard link /%s → /%s: the archive holds no regular file there", s.Src, e.name, e.target)
			}
		}
	}
	entries = append(entries, missing...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := mtime.UTC().Truncate(time.Second)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.kind, Mode: e.mode, Uid: s.UID, Gid: s.GID, ModTime: mt}
		if e.name != root && !strings.HasPrefix(e.name, root+"/") {
			h.Uid, h.Gid = 0, 0 // dest's parents belong to root
		}
		switch e.kind {
		case tar.TypeDir:
			h.Name += "/"
		case tar.TypeReg:
			h.Size = int64(len(e.data))
		case tar.TypeSymlink, tar.TypeLink:
			h.Linkname = e.target
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("files %s: /%s: %w", s.Src, e.name, err)
		}
		if e.kind == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func kindName(k byte) string {
	switch k {
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeDir:
		return "directory"
	}
	return "file"
}

// parents lists the directories above p, outermost first.
func parents(p string) []string {
	var out []string
	for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}
