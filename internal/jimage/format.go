package jimage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// The layout, in the image's byte order (the JVM that wrote it):
//
//	u4 magic, u4 version (major<<16 | minor), u4 flags, u4 resource count,
//	u4 table length, u4 locations size, u4 strings size,
//	s4 redirect[table length], u4 offsets[table length],
//	u1 locations[locations size], u1 strings[strings size],
//	resource contents, addressed from the end of the above (the index).
//
// A location is a run of attributes, each a byte kind<<3 | (length-1) followed by length
// big-endian bytes, ended by a zero byte.
const (
	magic        = 0xCAFEDADA
	headerSize   = 28
	majorVersion = 1
	minorVersion = 0
)

const (
	attrEnd = iota
	attrModule
	attrParent
	attrBase
	attrExtension
	attrOffset
	attrCompressed
	attrUncompressed
	attrCount
)

// byteOrder is what binary.LittleEndian and binary.BigEndian both are.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type header struct {
	order   byteOrder
	version uint32
	flags   uint32
}

// entry is one location of the image, its strings resolved.
type entry struct {
	module, parent, base, ext string
	offset                    uint64
	compressed                uint64
	uncompressed              uint64
	// locOffset is where the location's attributes start in the locations table; it only
	// orders entries whose contents start at the same place.
	locOffset uint32
}

// fullName is the name the perfect hash and both JDK readers use: /module/parent/base.ext,
// each part with its separator only when it is not empty.
func (e *entry) fullName() string {
	return fullName(e.module, e.parent, e.base, e.ext)
}

func fullName(module, parent, base, ext string) string {
	n := len(module) + len(parent) + len(base) + len(ext) + 4
	b := make([]byte, 0, n)
	if module != "" {
		b = append(b, '/')
		b = append(b, module...)
		b = append(b, '/')
	}
	if parent != "" {
		b = append(b, parent...)
		b = append(b, '/')
	}
	b = append(b, base...)
	if ext != "" {
		b = append(b, '.')
		b = append(b, ext...)
	}
	return string(b)
}

// size is the number of bytes the resource takes in the file.
func (e *entry) size() uint64 {
	if e.compressed != 0 {
		return e.compressed
	}
	return e.uncompressed
}

// isTree tells the directory entries jlink synthesizes (/modules/…, /packages/…, /modules,
// /packages) from the resources of the modules; they are rebuilt, not copied.
func (e *entry) isTree() bool {
	switch e.module {
	case "modules", "packages":
		return true
	case "":
		return e.parent == "" && e.ext == "" && (e.base == "/modules" || e.base == "/packages")
	}
	return false
}

type image struct {
	hdr     header
	strings []byte
	content []byte
	entries []*entry // resources, in table order
	byName  map[string]*entry
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("jimage: %s: %w", fmt.Sprintf(format, args...), ErrFormat)
}

// parse reads and checks the whole index: every location, string and content range the
// output is built from is bounds-checked here, so nothing later indexes out of range.
func parse(data []byte) (*image, error) {
	if len(data) < headerSize {
		return nil, formatErr("%d bytes is shorter than the %d-byte header", len(data), headerSize)
	}
	var order byteOrder
	switch {
	case binary.LittleEndian.Uint32(data) == magic:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(data) == magic:
		order = binary.BigEndian
	default:
		return nil, formatErr("no jimage magic number (0x%08X) at the start", uint32(magic))
	}
	u := func(i int) uint32 { return order.Uint32(data[4*i:]) }
	version := u(1)
	if version>>16 != majorVersion || version&0xFFFF != minorVersion {
		return nil, formatErr("format version %d.%d, this package reads %d.%d", version>>16, version&0xFFFF, majorVersion, minorVersion)
	}
	tableLength, locationsSize, stringsSize := u(4), u(5), u(6)
	indexSize := uint64(headerSize) + 8*uint64(tableLength) + uint64(locationsSize) + uint64(stringsSize)
	if indexSize > uint64(len(data)) {
		return nil, formatErr("the index takes %d bytes, the file has %d", indexSize, len(data))
	}
	offsetsAt := headerSize + 4*int(tableLength)
	locations := data[offsetsAt+4*int(tableLength) : offsetsAt+4*int(tableLength)+int(locationsSize)]
	img := &image{
		hdr:     header{order: order, version: version, flags: u(2)},
		strings: data[int(indexSize)-int(stringsSize) : indexSize],
		content: data[indexSize:],
		byName:  make(map[string]*entry),
	}
	seen := make(map[uint32]bool)
	for i := 0; i < int(tableLength); i++ {
		off := order.Uint32(data[offsetsAt+4*i:])
		if off == 0 {
			continue // an empty slot: jlink reserves location offset 0 for them
		}
		if seen[off] {
			return nil, formatErr("two index slots share the location at offset %d", off)
		}
		seen[off] = true
		e, err := img.readLocation(locations, off)
		if err != nil {
			return nil, err
		}
		if e.isTree() {
			continue
		}
		name := e.fullName()
		if e.module == "" {
			return nil, formatErr("entry %q belongs to no module", name)
		}
		if img.byName[name] != nil {
			return nil, formatErr("entry %q appears twice", name)
		}
		img.byName[name] = e
		img.entries = append(img.entries, e)
	}
	return img, nil
}

func (img *image) readLocation(locations []byte, off uint32) (*entry, error) {
	var attrs [attrCount]uint64
	p := uint64(off)
	for {
		if p >= uint64(len(locations)) {
			return nil, formatErr("the location at offset %d runs past the locations table", off)
		}
		b := locations[p]
		if b == attrEnd {
			break
		}
		kind := int(b >> 3)
		if kind == attrEnd {
			return nil, formatErr("the location at offset %d has the invalid attribute byte 0x%02X", off, b)
		}
		if kind >= attrCount {
			return nil, formatErr("the location at offset %d has attribute kind %d, unknown to format %d.%d", off, kind, majorVersion, minorVersion)
		}
		n := uint64(b&7) + 1
		if p+1+n > uint64(len(locations)) {
			return nil, formatErr("the location at offset %d runs past the locations table", off)
		}
		var v uint64
		for _, c := range locations[p+1 : p+1+n] {
			v = v<<8 | uint64(c)
		}
		attrs[kind] = v
		p += 1 + n
	}
	e := &entry{
		offset:       attrs[attrOffset],
		compressed:   attrs[attrCompressed],
		uncompressed: attrs[attrUncompressed],
		locOffset:    off,
	}
	var err error
	for _, f := range []struct {
		dst  *string
		kind int
		what string
	}{{&e.module, attrModule, "module"}, {&e.parent, attrParent, "parent"}, {&e.base, attrBase, "base"}, {&e.ext, attrExtension, "extension"}} {
		if *f.dst, err = img.str(attrs[f.kind]); err != nil {
			return nil, formatErr("the location at offset %d: %s name: %v", off, f.what, err)
		}
		// The Java reader adds a name part's separator when the string offset is not zero,
		// the native one when the string is not empty: only jlink's "" at offset 0 keeps
		// them in agreement.
		if *f.dst == "" && attrs[f.kind] != 0 {
			return nil, formatErr("the location at offset %d has an empty %s name at string offset %d", off, f.what, attrs[f.kind])
		}
	}
	if end := e.offset + e.size(); end < e.offset || end > uint64(len(img.content)) {
		return nil, formatErr("the content of %q (%d bytes at %d) runs past the end of the file", e.fullName(), e.size(), e.offset)
	}
	return e, nil
}

// str returns the NUL-terminated string at off in the strings table.
func (img *image) str(off uint64) (string, error) {
	if off >= uint64(len(img.strings)) {
		return "", fmt.Errorf("string offset %d is past the %d-byte strings table", off, len(img.strings))
	}
	s := img.strings[off:]
	end := bytes.IndexByte(s, 0)
	if end < 0 {
		return "", fmt.Errorf("the string at offset %d has no terminating NUL", off)
	}
	return string(s[:end]), nil
}

func (img *image) modules() []string {
	set := map[string]bool{}
	for _, e := range img.entries {
		set[e.module] = true
	}
	mods := make([]string, 0, len(set))
	for m := range set {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	return mods
}

// resourcesInOrder returns the resources in the order of their contents in the file, which
// is the order jlink added them in: writing them back in that order keeps the file's layout
// and, with nothing removed, its bytes. An empty resource sits where the next one starts and
// was added before it.
func (img *image) resourcesInOrder() []*entry {
	out := append([]*entry(nil), img.entries...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.offset != b.offset {
			return a.offset < b.offset
		}
		if (a.size() == 0) != (b.size() == 0) {
			return a.size() == 0
		}
		return a.locOffset < b.locOffset
	})
	return out
}

// stored returns a resource's bytes as they are in the file, compressed or not.
func (img *image) stored(e *entry) []byte {
	return img.content[e.offset : e.offset+e.size()]
}

func (img *image) resource(e *entry) resource {
	return resource{
		module: e.module, parent: e.parent, base: e.base, ext: e.ext,
		data:       img.stored(e),
		compressed: e.compressed, uncompressed: e.uncompressed,
	}
}

// splitResourceName splits /module/parent/base.ext the way jlink's ImageLocationWriter
// does: parent only when the last slash is past the first char, extension after the last
// dot.
func splitResourceName(name string) (module, parent, base, ext string) {
	if i := strings.IndexByte(name[min(1, len(name)):], '/') + 1; len(name) >= 2 && name[0] == '/' && i > 0 {
		module, name = name[1:i], name[i+1:]
	}
	if i := strings.LastIndexByte(name, '/'); i > 1 {
		parent, name = name[:i], name[i+1:]
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return module, parent, name[:i], name[i+1:]
	}
	return module, parent, name, ""
}
