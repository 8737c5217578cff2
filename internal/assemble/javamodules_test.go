package assemble

import (
	"crypto/md5"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/jimage"
	"github.com/spartan-images/spartan/internal/testkit"
)

// testdata/modules.jimage is a small synthetic runtime image (internal/jimage's test JDK:
// java.base, java.compiler, java.se, jdk.compiler, jdk.httpserver, jdk.incubator.foo,
// jdk.jshell, jdk.optional).
const jvmHome = "/usr/lib/jvm/java-21-openjdk-amd64"

func jreWithModules(t *testing.T) testkit.Deb {
	t.Helper()
	img, err := os.ReadFile("testdata/modules.jimage")
	if err != nil {
		t.Fatal(err)
	}
	release := "JAVA_VERSION=\"21\"\nMODULES=\"java.base java.compiler java.se jdk.compiler jdk.httpserver jdk.incubator.foo jdk.jshell jdk.optional\"\nOS_NAME=\"Linux\"\n"
	files := map[string]string{
		"/lib/modules":                    string(img),
		"/release":                        release,
		"/lib/server/classes.jsa":         "CDS archive",
		"/lib/server/classes_nocoops.jsa": "CDS archive, no compressed oops",
		"/lib/server/libjvm.so":           "ELF",
		"/bin/java":                       "ELF\x00-J-ms8m\x00",
		"/bin/jshell":                     "ELF\x00jdk.jshell/jdk.internal.jshell.tool.JShellToolProvider\x00",
		"/bin/keytool":                    "ELF\x00java.base/sun.security.tools.keytool.Main\x00",
	}
	d := testkit.Deb{Name: "openjdk-21-jre-headless", AutoDirs: true}
	var sums strings.Builder
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	}) {
		d.Files = append(d.Files, testkit.File{Path: jvmHome + p, Mode: 0o644, Body: files[p]})
		fmt.Fprintf(&sums, "%x  %s\n", md5.Sum([]byte(files[p])), strings.TrimPrefix(jvmHome+p, "/"))
	}
	d.ControlFiles = map[string]string{"md5sums": sums.String()}
	return d
}

func TestJavaModules(t *testing.T) {
	opts := testOptions()
	opts.Trim.JavaModules = []string{"jdk.jshell", "jdk.compiler", "jdk.optional"}
	res := mustAssemble(t, opts, jreWithModules(t))
	fs := flatten(t, res)
	home := strings.TrimPrefix(jvmHome, "/")

	mods, err := jimage.Modules([]byte(fs[home+"/lib/modules"].body))
	if err != nil {
		t.Fatalf("the rewritten lib/modules does not parse: %v", err)
	}
	want := []string{"java.base", "java.compiler", "java.se", "jdk.httpserver", "jdk.incubator.foo"}
	if !slices.Equal(mods, want) {
		t.Errorf("modules %q, want %q", mods, want)
	}
	if got := fs[home+"/release"].body; !strings.Contains(got, "MODULES=\"java.base java.compiler java.se jdk.httpserver jdk.incubator.foo\"\n") ||
		!strings.HasPrefix(got, "JAVA_VERSION=\"21\"\n") || !strings.HasSuffix(got, "OS_NAME=\"Linux\"\n") {
		t.Errorf("release file:\n%s", got)
	}
	for _, jsa := range []string{"classes.jsa", "classes_nocoops.jsa"} {
		if e, ok := fs[home+"/lib/server/"+jsa]; ok {
			t.Errorf("%s kept: %+v", jsa, e.hdr)
		}
	}
	if fs[home+"/lib/server/libjvm.so"].hdr == nil {
		t.Error("libjvm.so dropped with the CDS archives")
	}
	// The launcher of a removed module's tool goes; java and keytool (java.base) stay.
	if _, ok := fs[home+"/bin/jshell"]; ok {
		t.Error("bin/jshell kept, its module was removed")
	}
	for _, b := range []string{"java", "keytool"} {
		if fs[home+"/bin/"+b].hdr == nil {
			t.Errorf("bin/%s removed", b)
		}
	}
	// The package no longer vouches for the two rewritten files; the others keep their sums.
	sums := fs["var/lib/dpkg/status.d/openjdk-21-jre-headless.md5sums"].body
	for _, p := range []string{"/lib/modules", "/release"} {
		if strings.Contains(sums, home+p+"\n") {
			t.Errorf("md5sums still lists rewritten %s:\n%s", p, sums)
		}
	}
	if !strings.Contains(sums, home+"/lib/server/libjvm.so\n") || strings.Contains(sums, ".jsa") {
		t.Errorf("md5sums:\n%s", sums)
	}
	var noted int
	for _, n := range res.Notes {
		if strings.Contains(n, "removed 3 Java modules") || strings.Contains(n, "class-data-sharing archive removed") {
			noted++
		}
	}
	if noted != 3 {
		t.Errorf("notes %q: want the rewrite and both archives", res.Notes)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "bin/jshell: launcher removed, its module jdk.jshell") }) {
		t.Errorf("notes %q: no note for bin/jshell", res.Notes)
	}
	again := flatten(t, mustAssemble(t, opts, jreWithModules(t)))
	if again[home+"/lib/modules"].body != fs[home+"/lib/modules"].body {
		t.Error("two builds of the same input differ")
	}
}

func TestJavaModulesRefused(t *testing.T) {
	tests := []struct {
		name  string
		drop  []string
		debs  func(t *testing.T) []testkit.Deb
		wants []string
	}{
		{"no java runtime", []string{"jdk.compiler"}, func(*testing.T) []testkit.Deb { return []testkit.Deb{jre} },
			[]string{"trim.java-modules removes jdk.compiler", "no package installs a Java runtime image"}},
		{"unknown module", []string{"jdk.compiller"}, func(t *testing.T) []testkit.Deb { return []testkit.Deb{jreWithModules(t)} },
			[]string{"/usr/lib/jvm/java-21-openjdk-amd64/lib/modules", "jdk.compiller", "jdk.compiler"}},
		{"required by a kept module", []string{"jdk.compiler"}, func(t *testing.T) []testkit.Deb { return []testkit.Deb{jreWithModules(t)} },
			[]string{"jdk.jshell", "requires"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.Trim.JavaModules = tt.drop
			_, err := Assemble(writeDebs(t, tt.debs(t)...), opts)
			if err == nil {
				t.Fatal("assembled")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
