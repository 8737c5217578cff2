package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spartan-images/spartan/images"
)

// maxBaseDepth bounds a chain of bases; real chains are one or two long.
const maxBaseDepth = 8

// loadBase loads the spec named by base: a catalog image name (python) or a path to a spec
// file or image folder, relative to the spec that names it. stack holds the files being
// loaded, outermost first, to refuse cycles. Problems are recorded at the base: line.
func (r *resolver) loadBase(ref *sval, stack []string) *Spec {
	file, data, display, msg := r.findBase(ref.v)
	if msg != "" {
		r.errs.at(ref.at, "%s", msg)
		return nil
	}
	if i := slices.Index(stack, file); i >= 0 {
		chain := append(slices.Clone(stack[i:]), file)
		for j, f := range chain {
			chain[j] = shortName(f)
		}
		r.errs.at(ref.at, "base %q makes a cycle: %s; a spec cannot extend itself", ref.v, strings.Join(chain, " → "))
		return nil
	}
	if len(stack) >= maxBaseDepth {
		r.errs.at(ref.at, "base %q: more than %d bases in a chain", ref.v, maxBaseDepth)
		return nil
	}
	s, err := parse(display, file, data, r.checkFiles, stack)
	if err != nil {
		// The base's own errors carry its file and lines; say which base: line led there.
		r.errs.at(ref.at, "base %q does not load:\n%v", ref.v, err)
		return nil
	}
	return s
}

// catalogPrefix marks a catalog spec's file name: it is embedded, not on disk.
const catalogPrefix = "catalog:"

func shortName(f string) string {
	if strings.HasPrefix(f, catalogPrefix) {
		return f
	}
	return filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
}

// findBase returns the base's file key (an absolute path or catalog:<name>), its bytes, the
// name used in its messages, or why it cannot be found.
func (r *resolver) findBase(ref string) (file string, data []byte, display, msg string) {
	isPath := strings.ContainsAny(ref, `/\`) || strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml") || ref == "." || ref == ".."
	if !isPath {
		data, ok := images.Spec(ref)
		if !ok {
			hint := ""
			if s := suggest(ref, images.Names()); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			return "", nil, "", fmt.Sprintf("base %q is not a catalog image%s; catalog: %s; or give a path to a spec file, e.g. ./base.yaml",
				ref, hint, strings.Join(images.Names(), ", "))
		}
		name := catalogPrefix + ref
		return name, data, name, ""
	}
	p := r.abs(ref)
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		p = filepath.Join(p, FileName)
	}
	data, msg = readRef(p)
	if msg != "" {
		return "", nil, "", fmt.Sprintf("base %q: %s (give a catalog image name such as python, or a path to a spec file relative to this spec)", ref, msg)
	}
	if len(data) > maxSpecSize {
		return "", nil, "", fmt.Sprintf("base %q: larger than %d KiB; is this a spec?", ref, maxSpecSize>>10)
	}
	// Messages name the base the way the user named this spec: relative to the same place.
	display = p
	if !filepath.IsAbs(filepath.FromSlash(ref)) && !filepath.IsAbs(r.display) {
		display = filepath.Join(filepath.Dir(r.display), filepath.FromSlash(ref))
		if filepath.Base(p) == FileName && filepath.Base(display) != FileName {
			display = filepath.Join(display, FileName)
		}
	}
	return p, data, display, ""
}

// inherit merges a spec (c) over the base it extends (b, itself already merged with its own
// bases). Rules, also in docs/spec.md:
//   - name, description, tags and annotations describe an image and are never inherited;
//   - everything else merges as a variant does over its base (lists append, maps merge key by
//     key, scalars are replaced when the child sets them); paths merge by path, the child's
//     entry replacing the base's;
//   - variants: the child has every variant of the base, each merged in the order base, base
//     variant, child, child variant, plus its own; their tags derive from the child's tags.
func inherit(b, c *doc) *doc {
	bb := *b
	bb.name, bb.description, bb.tags, bb.annotations, bb.base, bb.variants = nil, nil, nil, nil, nil, nil
	m := overlay(&bb, c)
	m.at, m.name, m.base = c.at, c.name, c.base
	m.description, m.tags, m.annotations = c.description, c.tags, c.annotations
	m.paths = mergePaths(b.paths, c.paths)
	var names []string
	byName := map[string][2]*doc{}
	for i, l := range [][]variantDoc{b.variants, c.variants} {
		for _, v := range l {
			if _, ok := byName[v.name.v]; !ok {
				names = append(names, v.name.v)
			}
			pair := byName[v.name.v]
			pair[i] = v.doc
			byName[v.name.v] = pair
		}
	}
	for _, n := range names {
		pair := byName[n]
		var at sval
		for _, v := range append(slices.Clone(c.variants), b.variants...) {
			if v.name.v == n {
				at = v.name
				break
			}
		}
		v := pair[1]
		if pair[0] != nil {
			bv := *pair[0]
			bv.tags, bv.description, bv.annotations = nil, nil, nil
			v = &bv
			if pair[1] != nil {
				v = overlay(&bv, pair[1])
			}
		}
		m.variants = append(m.variants, variantDoc{name: at, doc: v})
	}
	return m
}

// mergePaths keeps the base's paths in order, replacing those the child declares again, then
// adds the child's new ones.
func mergePaths(b, c *pathList) *pathList {
	if b == nil || c == nil {
		return pick(b, c)
	}
	out := &pathList{at: c.at}
	mine := map[string]pathDoc{}
	for _, it := range c.items {
		mine[it.p.Path] = it
	}
	for _, it := range b.items {
		if o, ok := mine[it.p.Path]; ok {
			out.items = append(out.items, o)
			delete(mine, it.p.Path)
			continue
		}
		out.items = append(out.items, it)
	}
	for _, it := range c.items {
		if _, ok := mine[it.p.Path]; ok {
			out.items = append(out.items, it)
		}
	}
	return out
}

// absolute makes the file references of a base's doc absolute, so that a spec extending it
// from another folder finds them.
func absolute(d *doc, r *resolver) *doc {
	if d == nil {
		return nil
	}
	out := *d
	if d.certs != nil {
		l := *d.certs
		l.items = slices.Clone(l.items)
		for i := range l.items {
			l.items[i].v = r.abs(l.items[i].v)
		}
		out.certs = &l
	}
	if d.repos != nil {
		l := *d.repos
		l.items = slices.Clone(l.items)
		for i := range l.items {
			if k := l.items[i].r.Keyring; k != "" {
				l.items[i].r.Keyring = r.abs(k)
			}
		}
		out.repos = &l
	}
	if d.files != nil {
		l := *d.files
		l.items = slices.Clone(l.items)
		for i := range l.items {
			src := *l.items[i].src
			src.v = r.abs(src.v)
			l.items[i].src = &src
		}
		out.files = &l
	}
	out.variants = nil
	for _, v := range d.variants {
		out.variants = append(out.variants, variantDoc{name: v.name, doc: absolute(v.doc, r)})
	}
	return &out
}
