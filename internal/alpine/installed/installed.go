// Package installed writes apk's installed-package database, /lib/apk/db/installed: the
// record apk itself keeps and the one syft, trivy and grype read to list an Alpine image's
// packages. Spartan installs packages without apk, so it writes the records apk would have.
package installed

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// Path is where apk keeps the database.
const Path = "/lib/apk/db/installed"

// Package is one installed package and what it put on disk.
type Package struct {
	Name, Version, Arch string
	Checksum            string // "Q1…" of the control segment: the index's C:
	Size, InstalledSize int64
	Description, URL    string
	License             string
	Origin, Maintainer  string
	Commit              string
	BuildTime           time.Time
	Depends, Provides   []string
	Replaces            []string
	ProviderPriority    int
	HasPriority         bool
	Files               []File
}

// File is one entry the package installed.
type File struct {
	Path       string // absolute or relative to /; "/usr/bin/x"
	Dir        bool
	Mode       int64 // permission bits
	UID, GID   int
	SHA1       []byte // regular files and symlinks: the data entry's APK-TOOLS.checksum.SHA1
	Symlink    bool
	HasOwnerOK bool // mode/owner worth recording (apk writes a:/M: only when not root:root 0644/0755)
}

// Write writes the records, packages in the order given, each package's files grouped by
// directory as apk does (F: then its R: entries).
func Write(w io.Writer, pkgs []Package) error {
	bw := bufio.NewWriter(w)
	for _, p := range pkgs {
		if err := writeOne(bw, p); err != nil {
			return fmt.Errorf("installed database record %s: %w", p.Name, err)
		}
	}
	return bw.Flush()
}

func writeOne(w *bufio.Writer, p Package) error {
	if p.Name == "" || p.Version == "" {
		return fmt.Errorf("name and version are required")
	}
	field := func(k byte, v string) {
		if v != "" {
			fmt.Fprintf(w, "%c:%s\n", k, oneLine(v))
		}
	}
	field('C', p.Checksum)
	field('P', p.Name)
	field('V', p.Version)
	field('A', p.Arch)
	field('S', fmt.Sprint(p.Size))
	field('I', fmt.Sprint(p.InstalledSize))
	field('T', p.Description)
	field('U', p.URL)
	field('L', p.License)
	field('o', p.Origin)
	field('m', p.Maintainer)
	if !p.BuildTime.IsZero() {
		field('t', fmt.Sprint(p.BuildTime.Unix()))
	}
	field('c', p.Commit)
	field('D', strings.Join(p.Depends, " "))
	field('p', strings.Join(p.Provides, " "))
	field('r', strings.Join(p.Replaces, " "))
	if p.HasPriority {
		field('k', fmt.Sprint(p.ProviderPriority))
	}
	// Directories in path order, each followed by the files directly in it.
	dirs := map[string]*File{}
	files := map[string][]File{}
	for i := range p.Files {
		f := p.Files[i]
		clean := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
		if clean == "" {
			continue
		}
		if f.Dir {
			dirs[clean] = &f
			continue
		}
		d := path.Dir(clean)
		if d == "." {
			d = ""
		}
		f.Path = path.Base(clean)
		files[d] = append(files[d], f)
		if _, ok := dirs[d]; !ok && d != "" {
			dirs[d] = nil
		}
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	if len(files[""]) > 0 {
		names = append(names, "")
	}
	sort.Strings(names)
	for _, d := range names {
		if d != "" {
			fmt.Fprintf(w, "F:%s\n", d)
			if f := dirs[d]; f != nil && f.HasOwnerOK && (f.UID != 0 || f.GID != 0 || f.Mode != 0o755) {
				fmt.Fprintf(w, "M:%d:%d:%o\n", f.UID, f.GID, f.Mode)
			}
		}
		fs := files[d]
		sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
		for _, f := range fs {
			fmt.Fprintf(w, "R:%s\n", f.Path)
			if f.HasOwnerOK && !f.Symlink && (f.UID != 0 || f.GID != 0 || f.Mode != 0o644) {
				fmt.Fprintf(w, "a:%d:%d:%o\n", f.UID, f.GID, f.Mode)
			}
			if len(f.SHA1) > 0 {
				fmt.Fprintf(w, "Z:Q1%s\n", base64.StdEncoding.EncodeToString(f.SHA1))
			}
		}
	}
	_, err := w.WriteString("\n")
	return err
}

// oneLine keeps a field on its line: the format has no continuation lines.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
