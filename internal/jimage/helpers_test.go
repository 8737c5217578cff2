package jimage

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// testModule describes a module of a synthetic image.
type testModule struct {
	name       string
	requires   []requires
	exports    []export
	uses       []string
	provides   []provides
	packages   []string
	mainClass  string
	resolution int // ModuleResolution flags, 0 for none
	hashes     []moduleHash
	target     string
	// classes are extra resources, relative to the module, beside one class per package.
	classes []string
}

func req(name string, flags uint16) requires {
	return requires{name: name, flags: flags, version: "25"}
}

// moduleInfoClass writes the module-info.class a compiler and jlink would: the Module
// attribute and ModulePackages, with the optional JDK attributes.
func moduleInfoClass(m testModule) []byte {
	c := newClassFile("module-info")
	u2 := func(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
	mod := func(n string) uint16 { return c.ref(tagModule, c.utf8(n), 0) }
	pkg := func(n string) uint16 { return c.ref(tagPackage, c.utf8(strings.ReplaceAll(n, ".", "/")), 0) }
	cls := func(n string) uint16 { return c.class(strings.ReplaceAll(n, ".", "/")) }

	var a []byte
	a = u2(a, mod(m.name))
	a = u2(a, 0)
	a = u2(a, c.utf8("25"))
	reqs := m.requires
	if m.name != javaBase {
		reqs = append([]requires{{name: javaBase, flags: accMandated, version: "25"}}, reqs...)
	}
	a = u2(a, uint16(len(reqs)))
	for _, r := range reqs {
		a = u2(a, mod(r.name))
		a = u2(a, r.flags)
		a = u2(a, c.utf8(r.version))
	}
	a = u2(a, uint16(len(m.exports)))
	for _, e := range m.exports {
		a = u2(a, pkg(e.pkg))
		a = u2(a, e.flags)
		a = u2(a, uint16(len(e.targets)))
		for _, t := range e.targets {
			a = u2(a, mod(t))
		}
	}
	a = u2(a, 0) // opens
	a = u2(a, uint16(len(m.uses)))
	for _, s := range m.uses {
		a = u2(a, cls(s))
	}
	a = u2(a, uint16(len(m.provides)))
	for _, p := range m.provides {
		a = u2(a, cls(p.service))
		a = u2(a, uint16(len(p.providers)))
		for _, s := range p.providers {
			a = u2(a, cls(s))
		}
	}
	attrs := [][2]any{{"Module", a}}
	if len(m.packages) > 0 {
		p := u2(nil, uint16(len(m.packages)))
		for _, n := range m.packages {
			p = u2(p, pkg(n))
		}
		attrs = append(attrs, [2]any{"ModulePackages", p})
	}
	if m.mainClass != "" {
		attrs = append(attrs, [2]any{"ModuleMainClass", u2(nil, cls(m.mainClass))})
	}
	if m.target != "" {
		attrs = append(attrs, [2]any{"ModuleTarget", u2(nil, c.utf8(m.target))})
	}
	if m.resolution != 0 {
		attrs = append(attrs, [2]any{"ModuleResolution", u2(nil, uint16(m.resolution))})
	}
	if len(m.hashes) > 0 {
		h := u2(nil, c.utf8("SHA-256"))
		h = u2(h, uint16(len(m.hashes)))
		for _, x := range m.hashes {
			h = u2(h, mod(x.module))
			h = u2(h, uint16(len(x.hash)))
			h = append(h, x.hash...)
		}
		attrs = append(attrs, [2]any{"ModuleHashes", h})
	}
	this := c.class("module-info")
	names := make([]uint16, len(attrs))
	for i, at := range attrs {
		names[i] = c.utf8(at[0].(string))
	}
	b := binary.BigEndian.AppendUint32(nil, 0xCAFEBABE)
	b = u2(b, 0)
	b = u2(b, 53)
	b = u2(b, uint16(c.count))
	b = append(b, c.pool...)
	b = u2(b, 0x8000) // ACC_MODULE
	b = u2(b, this)
	b = u2(b, 0)
	b = append(b, 0, 0, 0, 0, 0, 0) // interfaces, fields, methods
	b = u2(b, uint16(len(attrs)))
	for i, at := range attrs {
		body := at[1].([]byte)
		b = u2(b, names[i])
		b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
		b = append(b, body...)
	}
	return b
}

func exp(pkg string, targets ...string) export { return export{pkg: pkg, targets: targets} }

// testJDK is a miniature JDK: a base module with jlink's SystemModules classes, a compiler
// and a shell that needs it, and modules around them that exercise requires transitive,
// requires static, services, a main class and an incubator module.
func testJDK() []testModule {
	hash := bytes.Repeat([]byte{0xAB, 0x01, 0x80, 0x7F}, 8)
	return []testModule{
		{name: javaBase, target: "linux-amd64",
			exports:  []export{exp("java.lang"), exp("java.util.spi"), exp("jdk.internal.misc", "jdk.compiler", "jdk.jshell")},
			uses:     []string{"java.util.spi.ToolProvider"},
			packages: []string{"java.lang", "java.util.spi", "jdk.internal.misc", "jdk.internal.module"},
			hashes:   []moduleHash{{module: "jdk.compiler", hash: hash}, {module: "java.compiler", hash: hash}},
			classes: []string{"jdk/internal/module/SystemModules.class", "jdk/internal/module/SystemModulesMap.class",
				"jdk/internal/module/SystemModules$all.class", "jdk/internal/module/SystemModules$default.class",
				"jdk/internal/module/SystemModules$0.class", "jdk/internal/module/SystemModules$1.class",
				"META-INF/services/x", "java/lang/empty.txt"}},
		{name: "java.compiler", exports: []export{exp("javax.tools")}, uses: []string{"javax.tools.JavaCompiler"},
			packages: []string{"javax.tools"}},
		{name: "jdk.compiler", requires: []requires{req("java.compiler", accTransitive)},
			exports: []export{exp("com.sun.source.tree")},
			provides: []provides{{service: "java.util.spi.ToolProvider", providers: []string{"com.sun.tools.javac.main.JavacToolProvider"}},
				{service: "javax.tools.JavaCompiler", providers: []string{"com.sun.tools.javac.api.JavacTool"}}},
			packages: []string{"com.sun.source.tree", "com.sun.tools.javac.api", "com.sun.tools.javac.main"}, mainClass: "com.sun.tools.javac.Main"},
		{name: "jdk.jshell", requires: []requires{req("jdk.compiler", 0), req("java.compiler", accTransitive)},
			exports: []export{exp("jdk.jshell")}, packages: []string{"jdk.jshell", "com.sun.tools.jshell"}, mainClass: "jdk.jshell.Main"},
		{name: "jdk.httpserver", exports: []export{exp("com.sun.net.httpserver")},
			packages: []string{"com.sun.net.httpserver", "sun.net.httpserver"}, mainClass: "sun.net.httpserver.Main"},
		{name: "jdk.optional", requires: []requires{req("jdk.compiler", accStaticPhase)},
			exports: []export{exp("jdk.optional")}, packages: []string{"jdk.optional"}},
		{name: "jdk.incubator.foo", resolution: doNotResolveByDefault | warnIncubating,
			exports: []export{exp("jdk.incubator.foo")}, packages: []string{"jdk.incubator.foo"}},
		{name: "java.se", requires: []requires{req("java.compiler", accTransitive)}},
	}
}

// content is the bytes of a synthetic resource: its name, so a misplaced one shows.
func content(name string) []byte { return []byte("content of " + name) }

// testResources lays out the resources of mods the way jlink orders them: module-info.class
// files first, then each module's resources.
func testResources(mods []testModule) []testResourceEntry {
	var res []testResourceEntry
	sorted := append([]testModule(nil), mods...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, m := range sorted {
		res = append(res, testResourceEntry{"/" + m.name + "/module-info.class", moduleInfoClass(m)})
	}
	for _, m := range sorted {
		for _, p := range m.packages {
			dir := strings.ReplaceAll(p, ".", "/")
			if dir == "jdk/internal/module" {
				continue
			}
			name := "/" + m.name + "/" + dir + "/C.class"
			res = append(res, testResourceEntry{name, content(name)})
		}
		for _, c := range m.classes {
			name := "/" + m.name + "/" + c
			res = append(res, testResourceEntry{name, content(name)})
		}
	}
	return res
}

type testResourceEntry struct {
	name string
	data []byte
}

// buildImage writes an image of res with the package's writer, starting from jlink's
// strings table ("" and "class").
func buildImage(t testing.TB, order byteOrder, res []testResourceEntry) []byte {
	t.Helper()
	w := newWriter(header{order: order, version: majorVersion<<16 | minorVersion}, []byte("\x00class\x00"))
	var rs []resource
	for _, r := range res {
		m, p, b, e := splitResourceName(r.name)
		rs = append(rs, resource{module: m, parent: p, base: b, ext: e, data: r.data, uncompressed: uint64(len(r.data))})
	}
	out, err := w.build(rs)
	if err != nil {
		t.Fatalf("building a test image: %v", err)
	}
	return out
}

// jdkImage is an independent reader of the format, written from BasicImageReader and
// ImageLocation: lookups go through the redirect table exactly as the JDK's do.
type jdkImage struct {
	b                                           []byte
	order                                       binary.ByteOrder
	length                                      uint32
	redirect, offsets, locations, strings, data int
	stringsSize                                 int
}

func openJDKImage(t testing.TB, b []byte) *jdkImage {
	t.Helper()
	var order binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint32(b) == magic {
		order = binary.BigEndian
	}
	im := &jdkImage{b: b, order: order, length: order.Uint32(b[16:])}
	im.redirect = headerSize
	im.offsets = im.redirect + 4*int(im.length)
	im.locations = im.offsets + 4*int(im.length)
	im.strings = im.locations + int(order.Uint32(b[20:]))
	im.stringsSize = int(order.Uint32(b[24:]))
	im.data = im.strings + im.stringsSize
	return im
}

func (im *jdkImage) hash(s string, seed int32) int32 {
	h := seed
	for i := 0; i < len(s); i++ {
		h = h*0x01000193 ^ int32(s[i])
	}
	return h & 0x7FFFFFFF
}

func (im *jdkImage) str(off uint64) string {
	s := im.b[im.strings+int(off):]
	return string(s[:bytes.IndexByte(s, 0)])
}

func (im *jdkImage) attrs(locOff uint32) [8]uint64 {
	var a [8]uint64
	p := im.locations + int(locOff)
	for im.b[p] != 0 {
		kind, n := im.b[p]>>3, int(im.b[p]&7)+1
		var v uint64
		for _, c := range im.b[p+1 : p+1+n] {
			v = v<<8 | uint64(c)
		}
		a[kind] = v
		p += 1 + n
	}
	return a
}

func (im *jdkImage) name(a [8]uint64) string {
	var b strings.Builder
	if a[attrModule] != 0 {
		b.WriteString("/" + im.str(a[attrModule]) + "/")
	}
	if a[attrParent] != 0 {
		b.WriteString(im.str(a[attrParent]) + "/")
	}
	b.WriteString(im.str(a[attrBase]))
	if a[attrExtension] != 0 {
		b.WriteString("." + im.str(a[attrExtension]))
	}
	return b.String()
}

// find is BasicImageReader.getLocationIndex followed by ImageLocation.verify.
func (im *jdkImage) find(name string) (loc uint32, a [8]uint64, ok bool) {
	if im.length == 0 {
		return 0, a, false
	}
	n := int32(im.length)
	index := int32(im.order.Uint32(im.b[im.redirect+4*int(im.hash(name, 0x01000193)%n):]))
	switch {
	case index < 0:
		index = -index - 1
	case index > 0:
		index = im.hash(name, index) % n
	default:
		return 0, a, false
	}
	loc = im.order.Uint32(im.b[im.offsets+4*int(index):])
	a = im.attrs(loc)
	return loc, a, im.name(a) == name
}

func (im *jdkImage) get(name string) ([]byte, bool) {
	_, a, ok := im.find(name)
	if !ok {
		return nil, false
	}
	size := a[attrUncompressed]
	if a[attrCompressed] != 0 {
		size = a[attrCompressed]
	}
	start := im.data + int(a[attrOffset])
	return im.b[start : start+int(size)], true
}

// children reads a /modules directory: the names of the locations it lists.
func (im *jdkImage) children(t testing.TB, dir string) []string {
	t.Helper()
	data, ok := im.get(dir)
	if !ok {
		t.Fatalf("%s not found", dir)
	}
	var names []string
	for i := 0; i+4 <= len(data); i += 4 {
		names = append(names, im.name(im.attrs(im.order.Uint32(data[i:]))))
	}
	return names
}

// packageRefs reads /packages/<pkg>: "module" or "module(empty)" per reference.
func (im *jdkImage) packageRefs(t testing.TB, pkg string) []string {
	t.Helper()
	data, ok := im.get("/packages/" + pkg)
	if !ok {
		return nil
	}
	var refs []string
	for i := 0; i+8 <= len(data); i += 8 {
		r := im.str(uint64(im.order.Uint32(data[i+4:])))
		if im.order.Uint32(data[i:]) != 0 {
			r += "(empty)"
		}
		refs = append(refs, r)
	}
	return refs
}

// allNames lists every location's name, from the offsets table.
func (im *jdkImage) allNames() []string {
	var names []string
	for i := 0; i < int(im.length); i++ {
		if loc := im.order.Uint32(im.b[im.offsets+4*i:]); loc != 0 {
			names = append(names, im.name(im.attrs(loc)))
		}
	}
	sort.Strings(names)
	return names
}

// descriptorRE is the grammar of a method descriptor (JVMS 4.3.3).
var descriptorRE = regexp.MustCompile(`^\((\[*([BCDFIJSZ]|L[^;.\[]+;))*\)(V|\[*([BCDFIJSZ]|L[^;.\[]+;))$`)

// checkClass checks that a generated class parses and that every method and member
// descriptor in it is well formed: a broken one only shows when the JVM boots.
func checkClass(t testing.TB, name string, b []byte) {
	t.Helper()
	r := &classReader{b: b}
	if r.u4() != 0xCAFEBABE {
		t.Fatalf("%s: no magic", name)
	}
	r.take(4)
	count := int(r.u2())
	utf := map[int]string{}
	var nameTypes [][2]uint16
	for i := 1; i < count; i++ {
		switch tag := r.u1(); tag {
		case tagUtf8:
			utf[i] = string(r.take(int(r.u2())))
		case tagClass, tagString, tagModule, tagPackage:
			r.take(2)
		case tagNameAndType:
			nameTypes = append(nameTypes, [2]uint16{r.u2(), r.u2()})
		case tagInteger, tagMethodref, tagInterfaceMethodref, tagFieldref:
			r.take(4)
		default:
			t.Fatalf("%s: unexpected constant tag %d", name, tag)
		}
	}
	if r.err != nil {
		t.Fatalf("%s: %v", name, r.err)
	}
	for _, nt := range nameTypes {
		desc := utf[int(nt[1])]
		if strings.HasPrefix(desc, "(") && !descriptorRE.MatchString(desc) {
			t.Errorf("%s: method %s has a malformed descriptor %q", name, utf[int(nt[0])], desc)
		}
		if !strings.HasPrefix(desc, "(") && !regexp.MustCompile(`^L[^;.\[]+;$`).MatchString(desc) {
			t.Errorf("%s: field %s has a malformed descriptor %q", name, utf[int(nt[0])], desc)
		}
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
