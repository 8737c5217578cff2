package jimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func testImage(t testing.TB, order byteOrder) []byte {
	return buildImage(t, order, testResources(testJDK()))
}

func TestModules(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		got, err := Modules(testImage(t, order))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"java.base", "java.compiler", "java.se", "jdk.compiler", "jdk.httpserver", "jdk.incubator.foo", "jdk.jshell", "jdk.optional"}
		if !slices.Equal(got, want) {
			t.Errorf("%v: Modules = %v, want %v", order, got, want)
		}
	}
}

// Rebuilding an image with nothing changed gives the same bytes: the writer lays out the
// hash table, locations, strings and directories exactly as it (and jlink) did.
func TestRebuildIsIdentical(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		in := testImage(t, order)
		if !bytes.Equal(in, rebuild(t, in)) {
			t.Errorf("%v: rebuilt image differs from the original", order)
		}
	}
}

func TestRemoveModules(t *testing.T) {
	tests := []struct {
		name     string
		drop     []string
		kept     []string
		packages map[string][]string // /packages entries expected, nil for absent
	}{
		{
			name: "tools",
			drop: []string{"jdk.jshell", "jdk.compiler"},
			kept: []string{"java.base", "java.compiler", "java.se", "jdk.httpserver", "jdk.incubator.foo", "jdk.optional"},
			packages: map[string][]string{
				"java.lang":           {"java.base"},
				"com":                 {"jdk.httpserver(empty)"},
				"com.sun":             {"jdk.httpserver(empty)"},
				"com.sun.source.tree": nil,
				"com.sun.tools":       nil,
				"jdk":                 {"java.base(empty)", "jdk.incubator.foo(empty)", "jdk.optional(empty)"},
				"jdk.jshell":          nil,
				"jdk.internal.module": {"java.base"},
				"META-INF.services":   nil,
			},
		},
		{
			name: "one leaf module, duplicates ignored",
			drop: []string{"jdk.httpserver", "jdk.httpserver"},
			kept: []string{"java.base", "java.compiler", "java.se", "jdk.compiler", "jdk.incubator.foo", "jdk.jshell", "jdk.optional"},
			packages: map[string][]string{
				"com":                 {"jdk.compiler(empty)", "jdk.jshell(empty)"},
				"com.sun.net":         nil,
				"com.sun.source.tree": {"jdk.compiler"},
			},
		},
		{
			name: "incubator and aggregator",
			drop: []string{"jdk.incubator.foo", "java.se"},
			kept: []string{"java.base", "java.compiler", "jdk.compiler", "jdk.httpserver", "jdk.jshell", "jdk.optional"},
			packages: map[string][]string{
				"jdk":               {"java.base(empty)", "jdk.jshell(empty)", "jdk.optional(empty)"},
				"jdk.jshell":        {"jdk.jshell"},
				"jdk.incubator.foo": nil,
			},
		},
	}
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		in := testImage(t, order)
		orig := openJDKImage(t, in)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%v", tt.name, order), func(t *testing.T) {
				out, kept, err := RemoveModules(in, tt.drop)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(kept, tt.kept) {
					t.Errorf("kept = %v, want %v", kept, tt.kept)
				}
				if got := must[[]string](t)(Modules(out)); !slices.Equal(got, tt.kept) {
					t.Errorf("Modules(out) = %v, want %v", got, tt.kept)
				}
				if !bytes.Equal(out[:12], in[:12]) {
					t.Errorf("header start % x, want the input's % x", out[:12], in[:12])
				}
				im := openJDKImage(t, out)
				dropped := map[string]bool{}
				for _, m := range tt.drop {
					dropped[m] = true
				}
				for _, r := range testResources(testJDK()) {
					module := strings.Split(r.name, "/")[1]
					data, found := im.get(r.name)
					switch {
					case dropped[module]:
						if found {
							t.Errorf("%s is still found", r.name)
						}
					case isGeneratedSystemModules(r.name):
						if found && bytes.Equal(data, r.data) {
							t.Errorf("%s was not generated again", r.name)
						}
					case !found:
						t.Errorf("%s is not found through the redirect table", r.name)
					case !bytes.Equal(data, r.data):
						t.Errorf("%s: content %q, want %q", r.name, data, r.data)
					}
				}
				for _, name := range orig.allNames() {
					if _, _, found := im.find(name); found && strings.HasPrefix(name, "/modules/") && dropped[strings.Split(name, "/")[2]] {
						t.Errorf("directory %s is still found", name)
					}
				}
				if _, _, found := im.find("/no/such.class"); found {
					t.Error("a name the image does not have is found")
				}
				var mods []string
				for _, c := range im.children(t, "/modules") {
					mods = append(mods, strings.TrimPrefix(c, "/modules/"))
				}
				if !slices.Equal(mods, tt.kept) {
					t.Errorf("/modules lists %v, want %v", mods, tt.kept)
				}
				for pkg, want := range tt.packages {
					if got := im.packageRefs(t, pkg); !slices.Equal(got, want) {
						t.Errorf("/packages/%s = %v, want %v", pkg, got, want)
					}
				}
				checkSystemModules(t, im, tt.kept)
			})
		}
	}
}

// checkSystemModules checks the SystemModules classes of an image: well formed, naming
// the kept modules and none of the removed ones.
func checkSystemModules(t *testing.T, im *jdkImage, kept []string) {
	t.Helper()
	all, ok := im.get("/java.base/jdk/internal/module/SystemModules$all.class")
	if !ok {
		t.Fatal("no SystemModules$all")
	}
	mapClass, ok := im.get("/java.base/jdk/internal/module/SystemModulesMap.class")
	if !ok {
		t.Fatal("no SystemModulesMap")
	}
	if iface, ok := im.get("/java.base/jdk/internal/module/SystemModules.class"); !ok || !bytes.Equal(iface, content("/java.base/jdk/internal/module/SystemModules.class")) {
		t.Error("the SystemModules interface was not kept as it was")
	}
	for _, name := range im.allNames() {
		if isGeneratedSystemModules(name) {
			data, _ := im.get(name)
			checkClass(t, name, data)
		}
	}
	for _, m := range kept {
		if !bytes.Contains(all, []byte(m)) {
			t.Errorf("SystemModules$all does not name %s", m)
		}
	}
	// One descriptor method per module: as many as are kept, no more.
	n := len(kept)
	if !bytes.Contains(all, []byte(fmt.Sprintf("module%d", n-1))) || bytes.Contains(all, []byte(fmt.Sprintf("module%d\x00", n))) ||
		bytes.Contains(all, []byte(fmt.Sprintf("\x00\x07module%d", n))) {
		t.Errorf("SystemModules$all does not describe exactly %d modules", n)
	}
	// jdk.httpserver's main class gets its own graph unless it resolves everything.
	if slices.Contains(kept, "jdk.httpserver") && !bytes.Contains(mapClass, []byte("jdk.httpserver")) {
		t.Error("SystemModulesMap does not map jdk.httpserver")
	}
}

func TestRemoveModulesRefusals(t *testing.T) {
	in := testImage(t, binary.LittleEndian)
	tests := []struct {
		name string
		drop []string
		want string
		is   error
	}{
		{"unknown module", []string{"jdk.compiller"}, `jimage: unknown module "jdk.compiller" (did you mean "jdk.compiler"?)`, nil},
		{"unknown modules", []string{"jdk.shell", "compiler"}, `jimage: unknown modules "jdk.shell" (did you mean "jdk.jshell"?) and "compiler" (did you mean "jdk.compiler"?)`, nil},
		{"java.base", []string{"java.base"}, "jimage: cannot remove java.base: every Java runtime needs it", ErrJavaBase},
		{"required", []string{"jdk.compiler"}, "jimage: cannot remove jdk.compiler: jdk.jshell is kept and requires it", nil},
		{"required transitively", []string{"java.compiler", "jdk.httpserver"},
			"jimage: cannot remove java.compiler: java.se, jdk.compiler and jdk.jshell are kept and require it", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, kept, err := RemoveModules(in, tt.drop)
			if err == nil {
				t.Fatalf("RemoveModules(%v) succeeded, kept %v", tt.drop, kept)
			}
			if out != nil || kept != nil {
				t.Error("a refusal returned an image")
			}
			if err.Error() != tt.want {
				t.Errorf("error %q\nwant     %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
	var req *RequiredError
	if _, _, err := RemoveModules(in, []string{"jdk.compiler"}); !errors.As(err, &req) || !slices.Equal(req.By["jdk.compiler"], []string{"jdk.jshell"}) {
		t.Errorf("RequiredError = %+v", req)
	}
	var unk *UnknownModuleError
	if _, _, err := RemoveModules(in, []string{"nope"}); !errors.As(err, &unk) || unk.Names[0] != "nope" {
		t.Errorf("UnknownModuleError = %+v", unk)
	}
}

// A kept module that provides or uses a service whose type lives in a removed module it
// only `requires static` would stop the JVM from resolving its modules: refused.
func TestRemoveModulesUnresolvable(t *testing.T) {
	mods := testJDK()
	for i := range mods {
		if mods[i].name == "jdk.optional" {
			mods[i].provides = []provides{{service: "com.sun.source.tree.Tree", providers: []string{"jdk.optional.Impl"}}}
		}
	}
	in := buildImage(t, binary.LittleEndian, testResources(mods))
	_, _, err := RemoveModules(in, []string{"jdk.jshell", "jdk.compiler"})
	want := "jimage: the kept modules would not resolve: module jdk.optional does not read a module that exports com.sun.source.tree (for service com.sun.source.tree.Tree)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
}

func TestRemoveModulesDeterministic(t *testing.T) {
	in := testImage(t, binary.LittleEndian)
	a, _, err := RemoveModules(in, []string{"jdk.jshell", "jdk.compiler", "jdk.optional"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, _, err := RemoveModules(bytes.Clone(in), []string{"jdk.optional", "jdk.compiler", "jdk.jshell"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("the same input and names gave different images")
		}
	}
	// Removing in two steps ends where removing at once does.
	step, _, err := RemoveModules(in, []string{"jdk.jshell"})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := RemoveModules(step, []string{"jdk.optional", "jdk.compiler"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(must[[]string](t)(Modules(a)), must[[]string](t)(Modules(c))) {
		t.Error("two steps kept other modules than one")
	}
}

func TestRemoveNothing(t *testing.T) {
	in := testImage(t, binary.LittleEndian)
	out, kept, err := RemoveModules(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, out) || len(kept) != 8 {
		t.Errorf("removing nothing changed the image or lost modules: kept %v", kept)
	}
	out[0] ^= 1
	if in[0] == out[0] {
		t.Error("the result shares memory with the input")
	}
}

// corrupt returns a copy of a valid image changed by f, given its header fields.
func corrupt(t *testing.T, f func(b []byte, o binary.ByteOrder, locations, strings, data int)) []byte {
	b := testImage(t, binary.LittleEndian)
	im := openJDKImage(t, b)
	f(b, binary.LittleEndian, im.locations, im.strings, im.data)
	return b
}

func TestCorruptImages(t *testing.T) {
	valid := testImage(t, binary.LittleEndian)
	firstLoc := func(b []byte, o binary.ByteOrder) int { // offset in the file of a used slot's location offset
		im := openJDKImage(t, b)
		for i := 0; ; i++ {
			if o.Uint32(b[im.offsets+4*i:]) != 0 {
				return im.offsets + 4*i
			}
		}
	}
	tests := []struct {
		name  string
		image []byte
		want  string
	}{
		{"empty", nil, "shorter than the 28-byte header"},
		{"not a jimage", []byte(strings.Repeat("PK\x03\x04", 16)), "no jimage magic number"},
		{"version 2", corrupt(t, func(b []byte, o binary.ByteOrder, _, _, _ int) { o.PutUint32(b[4:], 2<<16) }), "format version 2.0"},
		{"truncated index", valid[:200], "the index takes"},
		{"huge table", corrupt(t, func(b []byte, o binary.ByteOrder, _, _, _ int) { o.PutUint32(b[16:], 0xFFFFFFFF) }), "the index takes"},
		{"location past the table", corrupt(t, func(b []byte, o binary.ByteOrder, _, _, _ int) {
			o.PutUint32(b[firstLoc(b, o):], 0x7FFFFFF0)
		}), "runs past the locations table"},
		{"unknown attribute", corrupt(t, func(b []byte, o binary.ByteOrder, locations, _, _ int) {
			b[locations+int(o.Uint32(b[firstLoc(b, o):]))] = 9 << 3
		}), "attribute kind 9"},
		{"attribute byte of kind 0", corrupt(t, func(b []byte, o binary.ByteOrder, locations, _, _ int) {
			b[locations+int(o.Uint32(b[firstLoc(b, o):]))] = 0x03
		}), "invalid attribute byte"},
		{"string without NUL", corrupt(t, func(b []byte, o binary.ByteOrder, _, strs, data int) {
			for i := strs; i < data; i++ {
				b[i] = 'x'
			}
		}), "no terminating NUL"},
		{"content past the end", valid[:len(valid)-100], "runs past the end of the file"},
		{"two slots, one location", corrupt(t, func(b []byte, o binary.ByteOrder, _, _, _ int) {
			im := openJDKImage(t, b)
			var first uint32
			for i := 0; i < int(im.length); i++ {
				if v := o.Uint32(b[im.offsets+4*i:]); v != 0 && first == 0 {
					first = v
				} else if v != 0 {
					o.PutUint32(b[im.offsets+4*i:], first)
					return
				}
			}
		}), "share the location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []func() error{
				func() error { _, err := Modules(tt.image); return err },
				func() error { _, _, err := RemoveModules(tt.image, []string{"jdk.jshell"}); return err },
			} {
				err := f()
				if err == nil {
					t.Fatal("accepted")
				}
				if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "jimage: ") {
					t.Errorf("error %q, want ErrFormat mentioning %q", err, tt.want)
				}
			}
		})
	}
}

// A module-info.class that does not parse makes the image unusable for removal.
func TestCorruptModuleInfo(t *testing.T) {
	res := testResources(testJDK())
	for i := range res {
		if res[i].name == "/jdk.httpserver/module-info.class" {
			res[i].data = res[i].data[:40]
		}
	}
	in := buildImage(t, binary.LittleEndian, res)
	_, _, err := RemoveModules(in, []string{"jdk.jshell"})
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "jdk.httpserver/module-info.class") {
		t.Errorf("error %v", err)
	}
}

func TestHash(t *testing.T) {
	// Values from an independent implementation checked against a JDK's lib/modules.
	tests := []struct {
		s           string
		want, want2 int32
	}{
		{"", 16777619, 16777620},
		{"/java.base/java/lang/Object.class", 2066871583, 721272626},
		{"/modules", 271141917, 916076322},
		{"/packages/java.lang", 1614305366, 894486143},
		{"/m/\xc3\xa9t\xc3\xa9.class", 218317288, 225467611},
	}
	for _, tt := range tests {
		if got := hash(tt.s); got != tt.want {
			t.Errorf("hash(%q) = %d, want %d", tt.s, got, tt.want)
		}
		if got := hashSeed(tt.s, hashMultiplier+1); got != tt.want2 {
			t.Errorf("hashSeed(%q) = %d, want %d", tt.s, got, tt.want2)
		}
	}
}

// Every name is found where the JDK's reader looks, however many collide.
func TestPerfectHash(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 1000, 20000} {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("/m/p%d/C%d.class", i%97, i)
		}
		redirect, order := perfectHash(names)
		if len(order) < n {
			t.Fatalf("%d names in a table of %d", n, len(order))
		}
		slot := func(s string) int {
			count := int32(len(order))
			r := redirect[hash(s)%count]
			switch {
			case r < 0:
				return int(-1 - r)
			case r > 0:
				return int(hashSeed(s, r) % count)
			}
			return -1
		}
		for i, s := range names {
			if at := slot(s); at < 0 || order[at] != i {
				t.Fatalf("n=%d: %s is not found", n, s)
			}
		}
	}
}

func TestJavaOrder(t *testing.T) {
	// Java sorts by UTF-16 unit: NUL (C0 80 in modified UTF-8) first, surrogates (ED..)
	// before U+E000 and up (EE..).
	sorted := []string{"\xc0\x80", "A", "B", "a", "ab", "\xc3\xa9", "\xed\xa0\x80\xed\xb0\x80", "\xee\x80\x80"}
	for i := range sorted {
		for j := range sorted {
			if got := javaLess(sorted[i], sorted[j]); got != (i < j) {
				t.Errorf("javaLess(%q, %q) = %v", sorted[i], sorted[j], got)
			}
		}
	}
}

func TestSplitResourceName(t *testing.T) {
	tests := []struct{ in, module, parent, base, ext string }{
		{"/java.base/java/lang/Object.class", "java.base", "java/lang", "Object", "class"},
		{"/java.base/module-info.class", "java.base", "", "module-info", "class"},
		{"/m/a/B.class", "m", "", "a/B", "class"}, // jlink keeps a one-char parent in the base
		{"/m/dir/noext", "m", "dir", "noext", ""},
		{"/modules", "", "", "/modules", ""},
		{"/m/a.b/c", "m", "a.b", "c", ""},
	}
	for _, tt := range tests {
		m, p, b, e := splitResourceName(tt.in)
		if m != tt.module || p != tt.parent || b != tt.base || e != tt.ext {
			t.Errorf("splitResourceName(%q) = %q %q %q %q", tt.in, m, p, b, e)
		}
		if got := fullName(m, p, b, e); got != tt.in {
			t.Errorf("fullName of %q = %q", tt.in, got)
		}
	}
}

// rebuild parses an image and writes every resource back in its order, unchanged.
func rebuild(t *testing.T, in []byte) []byte {
	t.Helper()
	img, err := parse(in)
	if err != nil {
		t.Fatal(err)
	}
	var res []resource
	for _, e := range img.resourcesInOrder() {
		res = append(res, img.resource(e))
	}
	out, err := newWriter(img.hdr, img.strings).build(res)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
