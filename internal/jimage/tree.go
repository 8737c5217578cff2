package jimage

import (
	"sort"
	"strings"
)

// The directory entries follow jlink's ImageResourcesTree (JDK 9 to 25) to the letter,
// including its quirks, so that an image rebuilt with nothing removed is the original:
//
//   - /modules/<module>/<dir>… for each directory of each module, its content the location
//     offsets of its children (sub-directories and resources), sorted by name;
//   - /packages/<package> for each package of any module, dot-separated, with a
//     (is-empty, module) pair per module that has the directory, sorted by module: the JVM's
//     boot loader (ImageModuleData::package_to_module) takes the first non-empty one;
//   - /modules and /packages, listing the above.
//
// Names sort as Java Strings do, by UTF-16 unit: see javaLess.

type nodeKind int

const (
	dirNode nodeKind = iota
	resourceNode
	packageNode
)

type pkgRef struct {
	module string
	empty  bool
}

type node struct {
	name     string
	path     string
	kind     nodeKind
	parent   *node
	children map[string]*node
	sorted   []*node
	refs     []pkgRef
	loc      *wloc
}

func newNode(name string, kind nodeKind, parent *node) *node {
	n := &node{name: name, kind: kind, parent: parent}
	switch {
	case parent == nil:
		n.path = "/"
	case parent.parent == nil:
		n.path = "/" + name
	default:
		n.path = parent.path + "/" + name
	}
	if parent != nil {
		if parent.children == nil {
			parent.children = make(map[string]*node)
		}
		parent.children[name] = n
		parent.sorted = nil
	}
	return n
}

func (n *node) sortedChildren() []*node {
	if n.sorted == nil && len(n.children) > 0 {
		n.sorted = make([]*node, 0, len(n.children))
		for _, c := range n.children {
			n.sorted = append(n.sorted, c)
		}
		sort.Slice(n.sorted, func(i, j int) bool { return javaLess(n.sorted[i].name, n.sorted[j].name) })
	}
	return n.sorted
}

type tree struct {
	root, modules, packages *node
}

// buildTree derives the directory entries from resource names (/module/path/name).
func buildTree(paths []string) *tree {
	t := &tree{root: newNode("", dirNode, nil)}
	t.modules = newNode("modules", dirNode, t.root)
	modToPkg := map[string]map[string]bool{}
	pkgToMod := map[string]map[string]bool{}
	addTo := func(m map[string]map[string]bool, k, v string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][v] = true
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			continue
		}
		split := javaSplit(p)
		if len(split) < 3 {
			continue
		}
		cur := t.modules
		module, haveModule := "", false
		for i, s := range split {
			// A resource where a directory should be: jlink warns and skips the rest.
			if cur.kind == resourceNode || s == "" {
				continue
			}
			if !haveModule {
				module, haveModule = s, true
			}
			n := cur.children[s]
			if n == nil {
				if i == len(split)-1 {
					n = newNode(s, resourceNode, cur)
					if pkg, ok := packageName(cur); ok && !strings.HasPrefix(pkg, "META-INF") {
						addTo(modToPkg, module, pkg)
					}
				} else {
					n = newNode(s, dirNode, cur)
					if pkg, ok := packageName(n); ok && !strings.HasPrefix(pkg, "META-INF") {
						addTo(pkgToMod, pkg, module)
					}
				}
			}
			cur = n
		}
	}

	t.packages = newNode("packages", dirNode, t.root)
	// A package with resources in several modules (a split package, which the JVM refuses
	// anyway) keeps only the last module, in order, as non-empty: jlink replaces the node.
	nonEmpty := map[string]string{}
	for _, m := range sortedKeys(modToPkg) {
		for pkg := range modToPkg[m] {
			nonEmpty[pkg] = m
		}
	}
	pkgs := map[string]bool{}
	for p := range nonEmpty {
		pkgs[p] = true
	}
	for p := range pkgToMod {
		pkgs[p] = true
	}
	for p := range pkgs {
		var refs []pkgRef
		owner, ok := nonEmpty[p]
		if ok {
			refs = append(refs, pkgRef{module: owner})
		}
		for m := range pkgToMod[p] {
			if !ok || m != owner {
				refs = append(refs, pkgRef{module: m, empty: true})
			}
		}
		sort.Slice(refs, func(i, j int) bool { return javaLess(refs[i].module, refs[j].module) })
		newNode(p, packageNode, t.packages).refs = refs
	}
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return javaLess(keys[i], keys[j]) })
	return keys
}

// walk calls f on each node that gets a location, children before their directory, in the
// order their contents are laid out.
func (t *tree) walk(f func(*node)) {
	var visit func(n *node)
	visit = func(n *node) {
		if n.kind == packageNode {
			f(n)
			return
		}
		for _, c := range n.sortedChildren() {
			visit(c)
		}
		if n != t.root && n.kind != resourceNode {
			f(n)
		}
	}
	visit(t.root)
}

// moduleNames lists the modules the /packages entries name, whose strings their contents
// point to.
func (t *tree) moduleNames() []string {
	set := map[string]bool{}
	for _, p := range t.packages.children {
		for _, r := range p.refs {
			set[r.module] = true
		}
	}
	return sortedKeys(set)
}

// packageName is ImageResourcesTree.toPackageName: the dotted package of a directory under
// /modules/<module>/, or false for the module's own directory. It strips prefixes by
// length, unchecked, as the original does.
func packageName(n *node) (string, bool) {
	if n.parent == nil {
		return "", false
	}
	path := removeRadical(n.path, "/modules/")
	module, ok := moduleOf(n)
	if ok && path == module {
		return "", false
	}
	prefix := "null/" // Java's string concatenation of a null module
	if ok {
		prefix = module + "/"
	}
	return strings.ReplaceAll(removeRadical(path, prefix), "/", "."), true
}

// moduleOf is ImageResourcesTree.getModule, which has no module for a node named "modules"
// or starting with "packages", wherever it is.
func moduleOf(n *node) (string, bool) {
	if n.parent == nil || n.name == "modules" || strings.HasPrefix(n.name, "packages") {
		return "", false
	}
	path := removeRadical(n.path, "/modules")
	if path == "" {
		return "", false
	}
	path = skipUnits(path, 1)
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i], true
	}
	return path, true
}

// removeRadical drops as many leading chars of path as prefix has, whatever they are.
func removeRadical(path, prefix string) string {
	if n := utf16Len(prefix); utf16Len(path) >= n {
		return skipUnits(path, n)
	}
	return path
}

// javaSplit is String.split("/"): trailing empty strings are dropped.
func javaSplit(s string) []string {
	parts := strings.Split(s, "/")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// nextUnit decodes one char of modified UTF-8, which is one UTF-16 unit (supplementary
// characters are stored as two encoded surrogates). Malformed bytes count as one unit each.
func nextUnit(s string, i int) (unit uint16, size int) {
	c := s[i]
	switch {
	case c < 0x80:
		return uint16(c), 1
	case c&0xE0 == 0xC0 && i+1 < len(s) && s[i+1]&0xC0 == 0x80:
		return uint16(c&0x1F)<<6 | uint16(s[i+1]&0x3F), 2
	case c&0xF0 == 0xE0 && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80:
		return uint16(c&0x0F)<<12 | uint16(s[i+1]&0x3F)<<6 | uint16(s[i+2]&0x3F), 3
	}
	return uint16(c), 1
}

func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); n++ {
		_, size := nextUnit(s, i)
		i += size
	}
	return n
}

func skipUnits(s string, n int) string {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		_, size := nextUnit(s, i)
		i += size
	}
	return s[i:]
}

// javaLess is String.compareTo on the decoded names: it differs from comparing the bytes
// for NUL, which modified UTF-8 writes as C0 80.
func javaLess(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ua, na := nextUnit(a, i)
		ub, nb := nextUnit(b, j)
		if ua != ub {
			return ua < ub
		}
		i += na
		j += nb
	}
	return len(a)-i < len(b)-j
}
