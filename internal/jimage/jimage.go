// Package jimage removes modules from a Java runtime image file (lib/modules, the "jimage"
// format), the way jlink links a smaller module set, without a JDK.
//
// Debian's JRE packages ship the whole JDK's module set in lib/modules: the compiler,
// javadoc, jshell, the serviceability agent… A runtime image never loads them, and they make
// up about a fifth of the file. RemoveModules writes a new image without them: the kept
// resources byte for byte, a new perfect-hash index, and the /modules and /packages
// directories the JVM and the jrt file system read, rebuilt the way jlink builds them (with
// nothing removed and nothing regenerated, the output is the input, byte for byte).
//
// java.base also holds the module graph jlink compiled into classes
// (jdk.internal.module.SystemModules$*), which the JVM uses instead of reading
// module-info.class files and resolving. RemoveModules generates those classes again for
// the kept modules, as jlink's system-modules plugin does, so that the JVM, class-data
// sharing included, sees the smaller image as if jlink had linked it.
//
// The format is the one OpenJDK 9 to 25 write: version 1.0, either byte order. Anything
// else is refused rather than guessed at.
package jimage

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/editdist"
)

// ErrFormat is wrapped by the errors for input that is not a jimage this package can
// rewrite: truncated, corrupt, or of a format version it does not know.
var ErrFormat = errors.New("corrupt, truncated or unsupported jimage")

// ErrJavaBase is returned for a request to remove java.base, without which no JVM starts.
var ErrJavaBase = errors.New("cannot remove java.base: every Java runtime needs it")

// UnknownModuleError reports names to remove that are not modules of the image, each with
// the closest module name the image has.
type UnknownModuleError struct {
	Names       []string
	Suggestions []string
}

func (e *UnknownModuleError) Error() string {
	var b strings.Builder
	if len(e.Names) == 1 {
		b.WriteString("unknown module ")
	} else {
		b.WriteString("unknown modules ")
	}
	for i, n := range e.Names {
		switch {
		case i == 0:
		case i == len(e.Names)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
		if i < len(e.Suggestions) && e.Suggestions[i] != "" {
			fmt.Fprintf(&b, " (did you mean %q?)", e.Suggestions[i])
		}
	}
	return b.String()
}

// RequiredError reports modules that cannot be removed because modules that stay require
// them: the JVM would refuse to resolve the kept modules. `requires static` does not count,
// it is optional at run time.
type RequiredError struct {
	// By maps each module that has to stay to the kept modules that require it, sorted.
	By map[string][]string
}

func (e *RequiredError) Error() string {
	mods := make([]string, 0, len(e.By))
	for m := range e.By {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	parts := make([]string, 0, len(mods))
	for _, m := range mods {
		by := e.By[m]
		if len(by) == 1 {
			parts = append(parts, fmt.Sprintf("cannot remove %s: %s is kept and requires it", m, by[0]))
			continue
		}
		parts = append(parts, fmt.Sprintf("cannot remove %s: %s and %s are kept and require it",
			m, strings.Join(by[:len(by)-1], ", "), by[len(by)-1]))
	}
	return strings.Join(parts, "; ")
}

const javaBase = "java.base"

// Modules lists the modules in a jimage, sorted.
func Modules(image []byte) ([]string, error) {
	img, err := parse(image)
	if err != nil {
		return nil, err
	}
	return img.modules(), nil
}

// RemoveModules returns a new jimage without the named modules, and the sorted names of the
// modules it keeps. It refuses to remove java.base, a name the image does not have, or a
// module that a kept module requires, and a result the JVM would not resolve. With nothing
// to remove it returns a copy of image.
//
// The kept resources keep their bytes and their order, but for the SystemModules classes,
// generated again for the kept modules; the string table is kept whole and only grows,
// since compressed resources address it by offset. The output has the input's byte order,
// version and flags, and is the same for the same input and names.
func RemoveModules(image []byte, drop []string) (out []byte, kept []string, err error) {
	img, err := parse(image)
	if err != nil {
		return nil, nil, err
	}
	all := img.modules()
	present := make(map[string]bool, len(all))
	for _, m := range all {
		present[m] = true
	}
	dropSet := make(map[string]bool, len(drop))
	var unknown UnknownModuleError
	for _, m := range drop {
		if present[m] {
			dropSet[m] = true
			continue
		}
		if !contains(unknown.Names, m) {
			unknown.Names = append(unknown.Names, m)
			unknown.Suggestions = append(unknown.Suggestions, closest(m, all))
		}
	}
	if len(unknown.Names) > 0 {
		return nil, nil, fmt.Errorf("jimage: %w", &unknown)
	}
	if dropSet[javaBase] {
		return nil, nil, fmt.Errorf("jimage: %w", ErrJavaBase)
	}
	for _, m := range all {
		if !dropSet[m] {
			kept = append(kept, m)
		}
	}
	if len(dropSet) == 0 {
		return bytes.Clone(image), kept, nil
	}
	if !present[javaBase] {
		return nil, nil, fmt.Errorf("jimage: the image has no java.base module: %w", ErrFormat)
	}
	ms, err := img.moduleInfos(kept)
	if err != nil {
		return nil, nil, err
	}
	if err := checkRequires(ms, kept, dropSet); err != nil {
		return nil, nil, err
	}
	gen, err := img.systemModules(ms, kept)
	if err != nil {
		return nil, nil, err
	}

	var res []resource
	mapAt := -1
	for _, e := range img.resourcesInOrder() {
		if dropSet[e.module] {
			continue
		}
		name := e.fullName()
		if gen != nil && isGeneratedSystemModules(name) {
			data, ok := gen[name]
			if !ok {
				continue // generated for a module set that is gone
			}
			delete(gen, name)
			if name == "/java.base/"+systemModulesMap+".class" {
				mapAt = len(res)
			}
			res = append(res, resource{module: e.module, parent: e.parent, base: e.base, ext: e.ext,
				data: data, uncompressed: uint64(len(data))})
			continue
		}
		res = append(res, img.resource(e))
	}
	if len(gen) > 0 {
		// Classes the original did not have go next to the map that names them.
		if mapAt < 0 {
			mapAt = len(res) - 1
		}
		var extra []resource
		for _, name := range sortedKeys(gen) {
			module, parent, base, ext := splitResourceName(name)
			extra = append(extra, resource{module: module, parent: parent, base: base, ext: ext,
				data: gen[name], uncompressed: uint64(len(gen[name]))})
		}
		res = append(res[:mapAt+1], append(extra, res[mapAt+1:]...)...)
	}
	w := newWriter(img.hdr, img.strings)
	out, err = w.build(res)
	if err != nil {
		return nil, nil, fmt.Errorf("jimage: writing the new image: %w", err)
	}
	return out, kept, nil
}

// moduleInfos reads the module-info.class of each module in mods.
func (img *image) moduleInfos(mods []string) (moduleSet, error) {
	// A module without ModulePackages gets its packages from its exports and opens; jlink
	// adds the attribute to every module that has packages, so anything else was not
	// linked by jlink and would lose packages.
	hasPackages := map[string]bool{}
	for _, e := range img.entries {
		if e.ext == "class" && e.parent != "" && !strings.HasPrefix(e.parent, "META-INF") {
			hasPackages[e.module] = true
		}
	}
	ms := moduleSet{}
	for _, m := range mods {
		e := img.byName["/"+m+"/module-info.class"]
		if e == nil {
			return nil, fmt.Errorf("jimage: module %s has no module-info.class: %w", m, ErrFormat)
		}
		data, err := img.contentOf(e)
		if err != nil {
			return nil, fmt.Errorf("jimage: reading %s/module-info.class: %w", m, err)
		}
		mi, err := parseModuleInfo(data)
		if err != nil {
			return nil, fmt.Errorf("jimage: %s/module-info.class: %w: %w", m, err, ErrFormat)
		}
		if mi.name != m {
			return nil, fmt.Errorf("jimage: %s/module-info.class declares module %s: %w", m, mi.name, ErrFormat)
		}
		if !mi.hasPackages && hasPackages[m] {
			return nil, fmt.Errorf("jimage: %s/module-info.class has no ModulePackages attribute, the image was not linked by jlink: %w", m, ErrFormat)
		}
		ms[m] = mi
	}
	return ms, nil
}

// checkRequires refuses to drop a module that a kept module requires (not static): the
// boot layer's resolution would fail on every start.
func checkRequires(ms moduleSet, kept []string, drop map[string]bool) error {
	by := map[string][]string{}
	for _, m := range kept {
		for _, r := range ms[m].requires {
			if r.flags&accStaticPhase != 0 || !drop[r.name] {
				continue
			}
			if !contains(by[r.name], m) {
				by[r.name] = append(by[r.name], m)
			}
		}
	}
	if len(by) == 0 {
		return nil
	}
	for _, v := range by {
		sort.Strings(v)
	}
	return fmt.Errorf("jimage: %w", &RequiredError{By: by})
}

// systemModules generates jlink's SystemModules classes for the kept modules, keyed by
// resource name, or returns nil if the image has none: jlink ran without its
// system-modules plugin, and the JVM reads the module-info.class files present.
func (img *image) systemModules(ms moduleSet, kept []string) (map[string][]byte, error) {
	if img.byName["/java.base/"+systemModulesAll+".class"] == nil || img.byName["/java.base/"+systemModulesMap+".class"] == nil {
		return nil, nil
	}
	order := []string{javaBase}
	for _, m := range kept {
		if m != javaBase {
			order = append(order, m)
		}
	}
	gen, err := systemModulesClasses(ms, order)
	if err != nil {
		return nil, fmt.Errorf("jimage: the kept modules would not resolve: %w", err)
	}
	return gen, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// closest returns the name in names nearest to s by edit distance, the first in order on a
// tie, so that a typo in a configuration file gets a useful hint.
func closest(s string, names []string) string {
	best, bestD := "", -1
	for _, n := range names {
		if d := editdist.Distance(s, n, -1); bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	return best
}
