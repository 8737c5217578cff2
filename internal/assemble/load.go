package assemble

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/debian/deb"

	"github.com/spartan-images/spartan/internal/tarpath"
)

// maxFile bounds one file held in memory; nothing in Debian comes close.
const maxFile = 2 << 30

// loaded is one package read and checked on its own, before it meets the others in the tree.
type loaded struct {
	in         Input
	info       *deb.Info
	entries    []entry // in archive order
	aliasLinks []string
	bytes      int64     // regular file content kept
	newest     time.Time // latest entry mtime: the package's time, see clamp
	trimmed    int
	notes      []string
}

type entry struct {
	path string
	n    *node
}

// load streams one .deb: names are cleaned and merged-/usr canonicalized, unsafe entries
// refused, trimmed entries dropped and setuid bits cleared when asked.
func load(in Input, opts *Options) (*loaded, error) {
	f, err := os.Open(in.Deb)
	if err != nil {
		return nil, fmt.Errorf("open the cached package: %w", err)
	}
	defer f.Close()
	l := &loaded{in: in}
	regs := map[string]*node{} // this package's regular files, trimmed ones included, for hard links
	info, err := deb.Read(bufio.NewReaderSize(f, 1<<20), func(hdr *tar.Header, body io.Reader) error {
		if err := l.entry(hdr, body, regs, opts); err != nil {
			return fmt.Errorf("%s: %w", display(hdr.Name), err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Deb, err)
	}
	if err := checkControl(in, info); err != nil {
		return nil, fmt.Errorf("%s: %w", in.Deb, err)
	}
	l.info = info
	return l, nil
}

func (l *loaded) entry(hdr *tar.Header, body io.Reader, regs map[string]*node, opts *Options) error {
	if hdr.ModTime.After(l.newest) {
		l.newest = hdr.ModTime
	}
	orig, err := tarpath.Clean(hdr.Name)
	if err != nil || orig == "" {
		return err
	}
	p := canonical(orig)
	if isAlias(orig) {
		switch hdr.Typeflag {
		case tar.TypeDir:
			p = "usr/" + orig
		case tar.TypeSymlink:
			if hdr.Linkname != "usr/"+orig && hdr.Linkname != "/usr/"+orig {
				return fmt.Errorf("merged-/usr alias is a link to %q, want usr/%s", hdr.Linkname, orig)
			}
			l.aliasLinks = append(l.aliasLinks, orig)
			return nil
		default:
			return errors.New("merged-/usr alias must be a directory or a link into /usr")
		}
	}
	if dpkgDatabase(p) && hdr.Typeflag != tar.TypeDir {
		l.notes = append(l.notes, fmt.Sprintf("skipped /%s from %s: the dpkg records are synthesized", p, l.in.Pkg.Name))
		return nil
	}
	pkg := l.in.Pkg.Name
	mode := hdr.Mode & 0o7777
	var n *node
	switch hdr.Typeflag {
	case tar.TypeDir:
		n = &node{kind: kindDir, mode: mode, uid: hdr.Uid, gid: hdr.Gid}
		if !trimmed(p, kindDir, opts.Trim) {
			n.owners = []string{pkg}
		}
		l.entries = append(l.entries, entry{p, n})
		return nil
	case tar.TypeReg:
		if hdr.Size > maxFile {
			return fmt.Errorf("%d bytes, more than the %d GiB a file may have", hdr.Size, maxFile>>30)
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(body, data); err != nil {
			return err
		}
		n = &node{kind: kindReg, mode: mode, uid: hdr.Uid, gid: hdr.Gid, blob: &blob{data}}
		regs[p] = n
	case tar.TypeLink:
		target, err := tarpath.Clean(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
		}
		src := regs[canonical(target)]
		if src == nil {
			return fmt.Errorf("hard link to /%s, which is not a regular file shipped earlier by this package", target)
		}
		n = &node{kind: kindReg, mode: src.mode, uid: src.uid, gid: src.gid, blob: src.blob}
		regs[p] = n
	case tar.TypeSymlink:
		target := hdr.Linkname
		if target == "" || strings.ContainsRune(target, 0) {
			return fmt.Errorf("symlink with an invalid target %q", target)
		}
		if tarpath.Climbs(dir(orig), target) {
			return fmt.Errorf("symlink target %q climbs above /", target)
		}
		target = relocate(orig, p, target)
		if tarpath.Climbs(dir(p), target) {
			return fmt.Errorf("symlink target %q climbs above / once moved to /%s", target, p)
		}
		n = &node{kind: kindSymlink, mode: 0o777, uid: hdr.Uid, gid: hdr.Gid, target: target}
	case tar.TypeChar, tar.TypeBlock:
		return errors.New("device node: images never ship devices; the container runtime provides /dev")
	case tar.TypeFifo:
		return errors.New("named pipe (fifo): not allowed in an image")
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	if trimmed(p, n.kind, opts.Trim) {
		l.trimmed++
		return nil
	}
	if n.kind == kindReg {
		if opts.StripSetuid && n.mode&0o6000 != 0 {
			l.notes = append(l.notes, fmt.Sprintf("cleared %s on /%s (%s)", setidName(n.mode), p, pkg))
			n = &node{kind: kindReg, mode: n.mode &^ 0o6000, uid: n.uid, gid: n.gid, blob: n.blob}
		}
		l.bytes += int64(len(n.blob.data))
	}
	n.owners = []string{pkg}
	l.entries = append(l.entries, entry{p, n})
	return nil
}

// checkControl makes sure the cache handed us the package the resolver chose.
func checkControl(in Input, info *deb.Info) error {
	c := info.Control
	if got := c.Get("Package"); got != in.Pkg.Name {
		return fmt.Errorf("holds package %q, expected %q: the cache entry is not the resolved package", got, in.Pkg.Name)
	}
	if got := c.Get("Version"); in.Pkg.Version != "" && got != in.Pkg.Version {
		return fmt.Errorf("holds %s version %q, expected %q", in.Pkg.Name, got, in.Pkg.Version)
	}
	if got := c.Get("Architecture"); in.Pkg.Architecture != "" && got != in.Pkg.Architecture {
		return fmt.Errorf("holds %s for architecture %q, expected %q", in.Pkg.Name, got, in.Pkg.Architecture)
	}
	return nil
}

// dpkgDatabase matches paths whose content Spartan writes itself; maintainer scripts under
// info/ are never run nor shipped.
func dpkgDatabase(p string) bool {
	return p == "var/lib/dpkg/status" || p == "var/lib/dpkg/available" ||
		strings.HasPrefix(p, "var/lib/dpkg/info/") || strings.HasPrefix(p, "var/lib/dpkg/status.d/")
}

func dir(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

func setidName(mode int64) string {
	switch mode & 0o6000 {
	case 0o4000:
		return "setuid"
	case 0o2000:
		return "setgid"
	}
	return "setuid and setgid"
}

// display shows an entry name as the path it would have in the image, or quoted verbatim when
// it is not a plain "./" name, so a hostile name is shown exactly.
func display(name string) string {
	if rest, ok := strings.CutPrefix(name, "./"); ok && !strings.HasPrefix(rest, "/") {
		return "/" + rest
	}
	return fmt.Sprintf("%q", name)
}
