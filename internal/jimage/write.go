package jimage

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// resource is a module's file as the writer takes it: its name already split the way the
// location stores it, and its bytes as they go into the file.
type resource struct {
	module, parent, base, ext string
	data                      []byte
	compressed, uncompressed  uint64
}

// writer builds an image the way jlink's BasicImageWriter and ImageResourcesTree do.
type writer struct {
	hdr     header
	strings []byte
	offsets map[string]uint32
	grown   bool // strings were added: the table gets padded again
}

// newWriter starts from an existing strings table, which is kept as it is: compressed
// resources and decompressor names refer to its offsets. jlink's tables begin with "" and
// "class", at offsets 0 and 1.
func newWriter(hdr header, table []byte) *writer {
	w := &writer{hdr: hdr, strings: bytes.Clone(table), offsets: make(map[string]uint32)}
	for off := 0; off < len(w.strings); {
		end := bytes.IndexByte(w.strings[off:], 0)
		if end < 0 {
			break
		}
		s := string(w.strings[off : off+end])
		if _, ok := w.offsets[s]; !ok {
			w.offsets[s] = uint32(off)
		}
		off += end + 1
	}
	return w
}

// add returns the offset of s in the strings table, appending it if it is not there yet.
func (w *writer) add(s string) uint32 {
	if off, ok := w.offsets[s]; ok {
		return off
	}
	off := uint32(len(w.strings))
	w.grown = true
	w.strings = append(w.strings, s...)
	w.strings = append(w.strings, 0)
	w.offsets[s] = off
	return off
}

// jlinkAlign pads b the way jlink's ImageStream.align(2) does, which is not to a multiple of
// anything: (len-1)&3 zero bytes. Nothing reads the padding; matching it keeps the output
// what jlink writes.
func jlinkAlign(b []byte) []byte {
	for pad := (len(b) - 1) & 3; pad > 0; pad-- {
		b = append(b, 0)
	}
	return b
}

// wloc is a location to write.
type wloc struct {
	module, parent, base, ext uint32
	offset                    uint64
	compressed, uncompressed  uint64
	name                      string
	at                        uint32 // offset in the locations table, once written
}

func (w *writer) location(module, parent, base, ext string, offset, compressed, uncompressed uint64) *wloc {
	return &wloc{
		module: w.add(module), parent: w.add(parent), base: w.add(base), ext: w.add(ext),
		offset: offset, compressed: compressed, uncompressed: uncompressed,
		name: fullName(module, parent, base, ext),
	}
}

// encode appends the location's attributes, zeros left out, each value in as few
// big-endian bytes as it fits (ImageLocation.compress).
func (l *wloc) encode(b []byte) []byte {
	for kind, v := range [attrCount]uint64{attrModule: uint64(l.module), attrParent: uint64(l.parent),
		attrBase: uint64(l.base), attrExtension: uint64(l.ext), attrOffset: l.offset,
		attrCompressed: l.compressed, attrUncompressed: l.uncompressed} {
		if v == 0 {
			continue
		}
		n := 0
		for x := v >> 8; x != 0; x >>= 8 {
			n++
		}
		b = append(b, byte(kind<<3|n))
		for i := n; i >= 0; i-- {
			b = append(b, byte(v>>(8*i)))
		}
	}
	return append(b, attrEnd)
}

// build writes an image of res, in that order, followed by the /modules and /packages
// directories derived from their names.
func (w *writer) build(res []resource) ([]byte, error) {
	locs := make([]*wloc, 0, len(res)+len(res)/8)
	paths := make([]string, 0, len(res))
	var offset uint64
	for _, r := range res {
		size := r.uncompressed
		if r.compressed != 0 {
			size = r.compressed
		}
		if uint64(len(r.data)) != size {
			return nil, fmt.Errorf("resource %s has %d bytes, its sizes say %d", fullName(r.module, r.parent, r.base, r.ext), len(r.data), size)
		}
		l := w.location(r.module, r.parent, r.base, r.ext, offset, r.compressed, r.uncompressed)
		locs = append(locs, l)
		paths = append(paths, l.name)
		offset += size
	}
	byName := make(map[string]*wloc, len(locs))
	for _, l := range locs {
		if byName[l.name] != nil {
			return nil, fmt.Errorf("resource %s appears twice", l.name)
		}
		byName[l.name] = l
	}

	t := buildTree(paths)
	var treeLocs []*wloc
	t.walk(func(n *node) {
		size := uint64(len(n.children)) * 4
		if n.kind == packageNode {
			size = uint64(len(n.refs)) * 8
		}
		module, base := "", n.path
		switch {
		case strings.HasPrefix(n.path, "/modules/"):
			module, base = "modules", n.path[len("/modules/"):]
		case strings.HasPrefix(n.path, "/packages/"):
			module, base = "packages", n.path[len("/packages/"):]
		}
		n.loc = w.location(module, "", base, "", offset, 0, size)
		treeLocs = append(treeLocs, n.loc)
		offset += size
	})
	for _, l := range treeLocs {
		if byName[l.name] != nil {
			return nil, fmt.Errorf("resource %s has the name of a directory entry", l.name)
		}
		byName[l.name] = l
	}
	all := append(locs, treeLocs...)

	names := make([]string, len(all))
	for i, l := range all {
		names[i] = l.name
	}
	redirect, order := perfectHash(names)

	// Location offset 0 is a lone end byte: empty slots point at it.
	locBytes := []byte{attrEnd}
	for _, i := range order {
		if i < 0 {
			continue
		}
		all[i].at = uint32(len(locBytes))
		locBytes = all[i].encode(locBytes)
	}
	locBytes = jlinkAlign(locBytes)
	for _, m := range t.moduleNames() {
		w.add(m)
	}
	if w.grown {
		w.strings = jlinkAlign(w.strings)
	}

	tableLength := len(order)
	indexSize := headerSize + 8*tableLength + len(locBytes) + len(w.strings)
	total := uint64(indexSize) + offset + 8
	if len(all) > math.MaxUint32 || len(locBytes) > math.MaxUint32 || len(w.strings) > math.MaxUint32 || total > math.MaxInt {
		return nil, fmt.Errorf("the image would be too large (%d bytes)", total)
	}
	out := make([]byte, 0, total)
	o := w.hdr.order
	out = o.AppendUint32(out, magic)
	out = o.AppendUint32(out, w.hdr.version)
	out = o.AppendUint32(out, w.hdr.flags)
	out = o.AppendUint32(out, uint32(len(all)))
	out = o.AppendUint32(out, uint32(tableLength))
	out = o.AppendUint32(out, uint32(len(locBytes)))
	out = o.AppendUint32(out, uint32(len(w.strings)))
	for _, r := range redirect {
		out = o.AppendUint32(out, uint32(r))
	}
	for _, i := range order {
		var at uint32
		if i >= 0 {
			at = all[i].at
		}
		out = o.AppendUint32(out, at)
	}
	out = append(out, locBytes...)
	out = append(out, w.strings...)
	for _, r := range res {
		out = append(out, r.data...)
	}
	out = w.appendTree(out, t, byName)
	if uint64(len(out)) != total {
		return nil, fmt.Errorf("internal error: wrote %d bytes, planned %d", len(out), total)
	}
	return out, nil
}

// appendTree writes the contents of the directory entries, in the order their offsets were
// given: a directory lists the location offsets of its children, a package lists
// (is-empty, module name string offset) pairs. Like jlink, it also writes the root's list
// (/modules, /packages), which no location points to.
func (w *writer) appendTree(out []byte, t *tree, byName map[string]*wloc) []byte {
	o := w.hdr.order
	var visit func(n *node) uint32
	visit = func(n *node) uint32 {
		switch n.kind {
		case packageNode:
			for _, r := range n.refs {
				var empty uint32
				if r.empty {
					empty = 1
				}
				out = o.AppendUint32(out, empty)
				out = o.AppendUint32(out, w.add(r.module))
			}
			return n.loc.at
		case resourceNode:
			// The path without its "/modules" prefix names the resource itself.
			if l := byName[n.path[len("/modules"):]]; l != nil {
				return l.at
			}
			return 0
		}
		kids := n.sortedChildren()
		vals := make([]uint32, len(kids))
		for i, k := range kids {
			vals[i] = visit(k)
		}
		for _, v := range vals {
			out = o.AppendUint32(out, v)
		}
		if n.loc == nil {
			return 0
		}
		return n.loc.at
	}
	visit(t.root)
	return out
}
