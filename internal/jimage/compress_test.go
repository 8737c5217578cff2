package jimage

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"strings"
	"testing"
)

// compressedImage builds the test JDK with every module-info.class and class compressed by
// the named compressor, the way jlink --compress stores them.
func compressedImage(t *testing.T, compressor string) (image []byte, stored map[string][]byte) {
	t.Helper()
	order := binary.LittleEndian
	w := newWriter(header{order: order, version: majorVersion<<16 | minorVersion}, []byte("\x00class\x00"))
	nameOff := w.add(compressor)
	stored = map[string][]byte{}
	var rs []resource
	for _, r := range testResources(testJDK()) {
		m, p, b, e := splitResourceName(r.name)
		res := resource{module: m, parent: p, base: b, ext: e, data: r.data, uncompressed: uint64(len(r.data))}
		if e == "class" && !isGeneratedSystemModules(r.name) {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(r.data)
			zw.Close()
			hdr := order.AppendUint32(nil, compressedMagic)
			hdr = order.AppendUint64(hdr, uint64(z.Len()))
			hdr = order.AppendUint64(hdr, uint64(len(r.data)))
			hdr = order.AppendUint32(hdr, nameOff)
			hdr = order.AppendUint32(hdr, 0xFFFFFFFF)
			hdr = append(hdr, 1)
			res.data = append(hdr, z.Bytes()...)
			res.compressed = uint64(len(res.data))
			stored[r.name] = res.data
		}
		rs = append(rs, res)
	}
	out, err := w.build(rs)
	if err != nil {
		t.Fatal(err)
	}
	return out, stored
}

func TestCompressedResources(t *testing.T) {
	in, stored := compressedImage(t, "zip")
	out, _, err := RemoveModules(in, []string{"jdk.jshell", "jdk.compiler"})
	if err != nil {
		t.Fatal(err)
	}
	im := openJDKImage(t, out)
	kept := 0
	for name, data := range stored {
		got, ok := im.get(name)
		if strings.HasPrefix(name, "/jdk.jshell/") || strings.HasPrefix(name, "/jdk.compiler/") {
			if ok {
				t.Errorf("%s is still there", name)
			}
			continue
		}
		_, a, _ := im.find(name)
		if !ok || !bytes.Equal(got, data) || a[attrCompressed] != uint64(len(data)) {
			t.Errorf("%s: not kept compressed and byte for byte", name)
		}
		kept++
	}
	if kept == 0 {
		t.Fatal("no compressed resource checked")
	}
}

// String sharing rewrites constant pools against the image's strings: not undone here, so
// module-info.class cannot be read, and the removal is refused.
func TestCompressedUnsupported(t *testing.T) {
	in, _ := compressedImage(t, "compact-cp")
	_, _, err := RemoveModules(in, []string{"jdk.jshell"})
	if err == nil || !strings.Contains(err.Error(), `compressed with "compact-cp"`) {
		t.Errorf("error %v", err)
	}
	if _, err := Modules(in); err != nil {
		t.Errorf("Modules: %v", err)
	}
}

// jlink without its system-modules plugin leaves no SystemModules classes: the JVM reads
// module-info.class files, and none are added.
func TestNoSystemModulesClasses(t *testing.T) {
	var res []testResourceEntry
	for _, r := range testResources(testJDK()) {
		if !isGeneratedSystemModules(r.name) {
			res = append(res, r)
		}
	}
	in := buildImage(t, binary.BigEndian, res)
	out, _, err := RemoveModules(in, []string{"jdk.jshell", "jdk.compiler"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range openJDKImage(t, out).allNames() {
		if isGeneratedSystemModules(name) {
			t.Errorf("%s was added", name)
		}
	}
}

func TestResolve(t *testing.T) {
	ms := moduleSet{}
	for _, m := range testJDK() {
		mi, err := parseModuleInfo(moduleInfoClass(m))
		if err != nil {
			t.Fatal(err)
		}
		ms[m.name] = mi
	}
	roots := ms.defaultRoots()
	if strings.Contains(strings.Join(roots, " "), "incubator") {
		t.Errorf("default roots %v include the incubator module", roots)
	}
	cf, err := ms.resolve([]string{"jdk.httpserver"})
	if err != nil {
		t.Fatal(err)
	}
	// java.base uses ToolProvider, which jdk.compiler provides: bound, with what it needs.
	for _, m := range []string{"java.base", "jdk.httpserver", "jdk.compiler", "java.compiler"} {
		if !cf.modules[m] {
			t.Errorf("%s not resolved: %v", m, cf.modules)
		}
	}
	if cf.modules["jdk.jshell"] || cf.modules["jdk.optional"] {
		t.Errorf("modules resolved that nothing needs: %v", cf.modules)
	}
	cf, err = ms.resolve([]string{"jdk.jshell", "jdk.optional"})
	if err != nil {
		t.Fatal(err)
	}
	// jdk.jshell reads java.compiler through jdk.compiler's requires transitive;
	// jdk.optional reads jdk.compiler (resolved anyway) through requires static, and so
	// java.compiler too.
	for m, want := range map[string]string{
		"jdk.jshell":   "java.base java.compiler jdk.compiler",
		"jdk.optional": "java.base java.compiler jdk.compiler",
		"java.se":      "",
	} {
		if got := strings.Join(cf.reads[m], " "); got != want {
			t.Errorf("%s reads %q, want %q", m, got, want)
		}
	}
	if _, err := ms.resolve([]string{"no.such"}); err == nil {
		t.Error("resolved a module that does not exist")
	}
}
