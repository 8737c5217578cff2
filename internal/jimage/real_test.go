package jimage

import (
	"bytes"
	"compress/gzip"
	"os"
	"slices"
	"strings"
	"testing"
)

// toolModules are the JDK's tools, which a runtime image does not need: the compiler,
// javadoc, jshell, jlink and the other command-line tools with the modules only they use.
var toolModules = []string{
	"jdk.compiler", "jdk.javadoc", "jdk.jshell", "jdk.jdeps", "jdk.jlink", "jdk.jpackage",
	"jdk.jconsole", "jdk.jartool", "jdk.jdi", "jdk.hotspot.agent", "jdk.internal.le",
	"jdk.internal.opt", "jdk.editpad", "jdk.internal.ed", "jdk.jstatd", "jdk.jcmd",
	"jdk.internal.jvmstat", "jdk.attach",
	"jdk.internal.md", // JDK 23 and later: javadoc's and jshell's Markdown, needs jdk.compiler
}

// TestRealImage runs against a JDK's lib/modules named by SPARTAN_JIMAGE. With
// SPARTAN_JIMAGE_OUT set it writes the image without the tool modules there, to try it
// with a JVM.
func TestRealImage(t *testing.T) {
	path := os.Getenv("SPARTAN_JIMAGE")
	if path == "" {
		t.Skip("SPARTAN_JIMAGE is not set to a JDK's lib/modules")
	}
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := Modules(in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d modules", len(mods))

	if !bytes.Equal(rebuild(t, in), in) {
		t.Error("rebuilding the image with nothing changed does not give jlink's bytes")
	}

	var drop []string
	for _, m := range toolModules {
		if slices.Contains(mods, m) {
			drop = append(drop, m)
		}
	}
	out, kept, err := RemoveModules(in, drop)
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := RemoveModules(in, drop)
	if err != nil || !bytes.Equal(out, again) {
		t.Error("a second run gave a different image")
	}
	if got, err := Modules(out); err != nil || !slices.Equal(got, kept) {
		t.Errorf("Modules(out) = %v, %v; want %v", got, err, kept)
	}
	orig, im := openJDKImage(t, in), openJDKImage(t, out)
	dropped := map[string]bool{}
	for _, m := range drop {
		dropped[m] = true
	}
	img, err := parse(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range img.entries {
		name := e.fullName()
		want := img.stored(e)
		got, found := im.get(name)
		switch {
		case dropped[e.module]:
			if found {
				t.Errorf("%s is still found", name)
			}
		case isGeneratedSystemModules(name):
			if found {
				checkClass(t, name, got)
			}
		case !found:
			t.Errorf("%s is not found", name)
		case !bytes.Equal(got, want):
			t.Errorf("%s changed", name)
		}
	}
	for _, name := range orig.allNames() {
		if strings.HasPrefix(name, "/modules/") {
			if _, _, found := im.find(name); found == dropped[strings.Split(name, "/")[2]] {
				t.Errorf("directory %s: found %v", name, found)
			}
		}
	}
	t.Logf("removed %d modules: %d -> %d bytes, gzip -6 %d -> %d", len(drop), len(in), len(out), gzipSize(t, in), gzipSize(t, out))
	if p := os.Getenv("SPARTAN_JIMAGE_OUT"); p != "" {
		if err := os.WriteFile(p, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gzipSize(t *testing.T, b []byte) int {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, 6)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Len()
}
