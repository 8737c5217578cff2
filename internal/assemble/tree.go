package assemble

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

type kind uint8

const (
	kindDir kind = iota
	kindReg
	kindSymlink
)

func (k kind) String() string {
	return [...]string{"directory", "regular file", "symlink"}[k]
}

// blob is a regular file's content. Hard links share one blob, which is how the layer writer
// knows to emit them as links again.
type blob struct{ data []byte }

// node is one path of the image.
type node struct {
	kind     kind
	mode     int64 // permission bits plus setuid/setgid/sticky, as tar stores them
	uid, gid int
	blob     *blob  // kindReg
	target   string // kindSymlink
	// owners are the packages (or RootfsPackage) whose layer carries this path. For
	// directories only explicit ones count: a directory that merely holds another entry, or
	// that lies in a trimmed area, is emitted where it is needed and nowhere else.
	owners []string
	// placeholder marks a directory created only as a parent, with default attributes that
	// the first package shipping it replaces; via names who needed it, for messages.
	placeholder bool
	via         string
	// rewritten marks a package file whose content Spartan changed (trim.java-modules): its
	// package's md5sums no longer vouch for it.
	rewritten bool
}

func (n *node) ownedBy(pkg string) bool { return slices.Contains(n.owners, pkg) }

func (n *node) addOwner(pkg string) {
	if !n.ownedBy(pkg) {
		n.owners = append(n.owners, pkg)
	}
}

// tree is the image's file system, path ("usr/bin/x") → node; the root is implicit.
type tree struct {
	nodes map[string]*node
}

func newTree() *tree { return &tree{nodes: map[string]*node{}} }

// parentsOK checks that every ancestor of p is a directory (creating missing ones as
// placeholders): a file below a symlink would let a package write through the link to
// wherever it points.
func (t *tree) parentsOK(via, p string) error {
	for _, dir := range parents(p) {
		n := t.nodes[dir]
		if n == nil {
			t.nodes[dir] = &node{kind: kindDir, mode: 0o755, placeholder: true, via: via}
			continue
		}
		if n.kind != kindDir {
			return fmt.Errorf("parent /%s is a %s (from %s), not a directory: refusing to write through it", dir, n.kind, owners(n))
		}
	}
	return nil
}

// hasChildren reports whether any path lies below dir.
func (t *tree) hasChildren(dir string) bool {
	prefix := dir + "/"
	for p := range t.nodes {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// add inserts a package's entry. Directories merge; two packages may ship the same regular
// file or symlink only with the same content; anything else is a conflict naming both.
func (t *tree) add(pkg, p string, n *node) error {
	if err := t.parentsOK(pkg, p); err != nil {
		return err
	}
	old := t.nodes[p]
	switch {
	case old == nil:
	case old.kind == kindDir && n.kind == kindDir:
		if old.placeholder {
			old.mode, old.uid, old.gid, old.placeholder = n.mode, n.uid, n.gid, n.placeholder
		}
		for _, o := range n.owners {
			old.addOwner(o)
		}
		return nil
	case old.kind == kindDir && t.hasChildren(p):
		return fmt.Errorf("/%s is a directory with entries (from %s); refusing to replace it with a %s", p, owners(old), n.kind)
	case old.placeholder || len(old.owners) == 1 && old.owners[0] == pkg:
		// A package repeating a path: the later tar entry wins, as when unpacking.
	case old.kind == kindReg && n.kind == kindReg && bytes.Equal(old.blob.data, n.blob.data):
		old.addOwner(pkg)
		return nil
	case old.kind == kindSymlink && n.kind == kindSymlink && old.target == n.target:
		old.addOwner(pkg)
		return nil
	default:
		detail := fmt.Sprintf("a %s there, a %s here", old.kind, n.kind)
		switch {
		case old.kind == kindSymlink && n.kind == kindSymlink:
			detail = fmt.Sprintf("a link to %q there, to %q here", old.target, n.target)
		case old.kind == n.kind:
			detail = "both ship it with different content"
		}
		return fmt.Errorf("conflicts with %s over /%s: %s", owners(old), p, detail)
	}
	t.nodes[p] = n
	return nil
}

// override places a synthesized or user entry, replacing whatever a package shipped there.
// Directories keep their owners and only take the new attributes.
func (t *tree) override(p string, n *node) (replaced *node, err error) {
	if p == "" {
		return nil, fmt.Errorf("cannot replace the root directory")
	}
	if err := t.parentsOK(RootfsPackage, p); err != nil {
		return nil, err
	}
	old := t.nodes[p]
	if old != nil && old.kind == kindDir {
		if n.kind == kindDir {
			old.mode, old.uid, old.gid, old.placeholder = n.mode, n.uid, n.gid, false
			for _, o := range n.owners {
				old.addOwner(o)
			}
			return nil, nil
		}
		if t.hasChildren(p) {
			return nil, fmt.Errorf("/%s is a directory with entries; it cannot become a %s", p, n.kind)
		}
	}
	t.nodes[p] = n
	return old, nil
}

// resolve follows symlinks the way the kernel would inside the image and returns the node p
// ends at, or nil when a component is missing or the links loop.
func (t *tree) resolve(p string) *node {
	rest := strings.Split(p, "/")
	var cur []string
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			}
			continue
		}
		here := strings.Join(append(cur, c), "/")
		n := t.nodes[here]
		if n == nil {
			return nil
		}
		switch n.kind {
		case kindSymlink:
			if hops++; hops > 40 {
				return nil
			}
			if strings.HasPrefix(n.target, "/") {
				cur = nil
			}
			rest = append(strings.Split(n.target, "/"), rest...)
			continue
		case kindReg:
			if len(rest) > 0 {
				return nil
			}
		}
		cur = append(cur, c)
	}
	if len(cur) == 0 {
		return &node{kind: kindDir}
	}
	return t.nodes[strings.Join(cur, "/")]
}

func owners(n *node) string {
	if len(n.owners) == 0 {
		if n.via != "" {
			return "package " + n.via + ", as a parent directory"
		}
		return "a trimmed directory"
	}
	return "package " + strings.Join(n.owners, ", ")
}
