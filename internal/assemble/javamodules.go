package assemble

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/jimage"
)

// javaRuntimeImage matches the module image of every JVM Debian installs.
const javaRuntimeImage = "usr/lib/jvm/*/lib/modules"

// javaModules removes Trim.JavaModules from each Java runtime image, the way jlink links a
// runtime without them. Debian's JRE packages carry the whole JDK's module set (javac, javadoc,
// jshell, the serviceability agent…), a fifth of lib/modules, which a runtime image never
// loads. Beside lib/modules two files describe the module set and are brought in line: the
// release file's MODULES line, and the class-data-sharing archives, which record the full set
// and which the JVM would refuse (with a warning on every start) once lib/modules changed.
// The launchers of removed modules' tools (bin/jpackage) go too: they could only fail.
func (a *assembler) javaModules() error {
	drop := a.opts.Trim.JavaModules
	if len(drop) == 0 {
		return nil
	}
	var images []string
	for p, n := range a.tree.nodes {
		if n.kind == kindReg && matchTrim(javaRuntimeImage, p) {
			images = append(images, p)
		}
	}
	if len(images) == 0 {
		return fmt.Errorf("trim.java-modules removes %s, but no package installs a Java runtime image (/%s): drop the setting or add a JRE package", strings.Join(drop, ", "), javaRuntimeImage)
	}
	sort.Strings(images)
	for _, p := range images {
		n := a.tree.nodes[p]
		before := len(n.blob.data)
		out, kept, err := jimage.RemoveModules(n.blob.data, drop)
		if err != nil {
			return fmt.Errorf("trim.java-modules: /%s: %w", p, err)
		}
		// In place: a hard link to the image is the same file.
		n.blob.data = out
		n.rewritten = true
		home := path.Dir(path.Dir(p))
		a.notes = append(a.notes, fmt.Sprintf("/%s: removed %d Java modules (%d → %d bytes), %d kept", p, len(drop), before, len(out), len(kept)))
		if err := a.javaRelease(home, kept); err != nil {
			return err
		}
		// Collected, then removed in path order, so the notes come out the same every build.
		gone := map[string]string{}
		for q, m := range a.tree.nodes {
			if m.kind != kindReg {
				continue
			}
			if strings.HasPrefix(q, home+"/lib/") && matchTrim(home+"/lib/*/classes*.jsa", q) {
				gone[q] = "class-data-sharing archive removed, it describes the modules removed from /" + p
			}
			if path.Dir(q) == home+"/bin" {
				if mod := launcherModule(m.blob.data); mod != "" && slices.Contains(drop, mod) {
					gone[q] = "launcher removed, its module " + mod + " was removed from /" + p
				}
			}
		}
		for _, q := range slices.Sorted(maps.Keys(gone)) {
			delete(a.tree.nodes, q)
			a.notes = append(a.notes, "/"+q+": "+gone[q])
		}
	}
	return nil
}

// launcherTarget finds the "<module>/<main class>" a JDK tool launcher (bin/jpackage,
// bin/keytool…) compiles in as a NUL-terminated string: the launchers are one C program built
// once per tool, and that string is what tells them apart.
var launcherTarget = regexp.MustCompile(`\x00([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)/[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)+\x00`)

// launcherModule returns the module a launcher starts, or "" for anything else (bin/java).
func launcherModule(exe []byte) string {
	if m := launcherTarget.FindSubmatch(exe); m != nil {
		return string(m[1])
	}
	return ""
}

// javaRelease rewrites the MODULES line of the JVM's release file, which tools (jlink, IDEs,
// scanners) read to learn what the runtime contains.
func (a *assembler) javaRelease(home string, kept []string) error {
	p := home + "/release"
	n := a.tree.nodes[p]
	if n == nil || n.kind != kindReg {
		return nil
	}
	var out bytes.Buffer
	found := false
	for _, line := range strings.SplitAfter(string(n.blob.data), "\n") {
		if strings.HasPrefix(line, "MODULES=") {
			found = true
			line = `MODULES="` + strings.Join(kept, " ") + `"` + "\n"
		}
		out.WriteString(line)
	}
	if !found {
		return nil
	}
	n.blob = &blob{out.Bytes()}
	n.rewritten = true
	return nil
}
