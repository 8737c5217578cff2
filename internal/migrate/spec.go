package migrate

import (
	"fmt"
	"strconv"
	"strings"
)

// Spec renders the custom base as a Spartan spec extending the catalog image; from names the
// Dockerfile it came from, for the header comment.
func (b *Base) Spec(from string) []byte {
	var s strings.Builder
	fmt.Fprintf(&s, "# Written by spartan migrate from %s: the catalog image %s plus what its final\n", from, b.Catalog)
	s.WriteString("# stage installed and created with apt-get, mkdir, chown and ln, which need a shell.\n")
	name, _, _ := strings.Cut(strings.TrimPrefix(b.Tag, "spartan-migrate/"), ":")
	fmt.Fprintf(&s, "name: %s-base\n", name)
	fmt.Fprintf(&s, "base: %s\n", b.Catalog)
	if len(b.Packages) > 0 {
		fmt.Fprintf(&s, "packages: [%s]\n", strings.Join(b.Packages, ", "))
	}
	if len(b.Dirs)+len(b.Links) > 0 {
		s.WriteString("paths:\n")
		for _, d := range b.Dirs {
			uid, gid, _ := strings.Cut(d.Owner, ":")
			fmt.Fprintf(&s, "  - {path: %s, type: directory, mode: %q, uid: %s, gid: %s}\n", strconv.Quote(d.Path), d.Mode, uid, gid)
		}
		for _, l := range b.Links {
			fmt.Fprintf(&s, "  - {path: %s, type: symlink, target: %s}\n", strconv.Quote(l.Path), strconv.Quote(l.Target))
		}
	}
	if b.Probe {
		s.WriteString("# The HEALTHCHECK runs /usr/bin/spartan-probe instead of curl or wget.\nprobe: true\n")
	}
	fmt.Fprintf(&s, "tags: [%s]\n", b.Tag)
	return []byte(s.String())
}
