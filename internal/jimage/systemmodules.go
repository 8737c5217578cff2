package jimage

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// jlink's system-modules plugin compiles the module graph into java.base: SystemModulesMap
// names a SystemModules class for the default root set (SystemModules$default), one for all
// modules (SystemModules$all) and one per module with a main class (SystemModules$0…), each
// building the ModuleDescriptors and the readability graph without reading module-info.class
// or resolving. After modules are removed they would still describe the removed modules, so
// they are generated again here, the same way (jdk.tools.jlink.internal.plugins.
// SystemModulesPlugin): the JVM then starts exactly as from a jlinked image, class-data
// sharing and its archived module graph included.
//
// Telling the JVM to ignore them instead (-Djdk.system.module.finder.disableFastPath=true in
// the image's jdk/internal/vm/options) breaks class-data sharing: JDK 21 dumps an archive
// that fails at startup ("java.base already defined to this loader"), JDK 25 refuses to dump
// one (SystemModuleFinders.cachedSystemModuleFinder is reachable from the archived graph).

const (
	systemModulesPkg   = "jdk/internal/module/"
	systemModulesMap   = systemModulesPkg + "SystemModulesMap"
	systemModulesIface = systemModulesPkg + "SystemModules"
	systemModulesAll   = systemModulesIface + "$all"
	systemModulesDef   = systemModulesIface + "$default"
)

// generatedSystemModules matches the classes the plugin writes: SystemModules$all,
// SystemModules$default, SystemModules$<n> and the map, not the SystemModules interface.
var generatedSystemModules = regexp.MustCompile(`^/java\.base/jdk/internal/module/(SystemModulesMap|SystemModules\$(all|default|[0-9]+))\.class$`)

func isGeneratedSystemModules(name string) bool { return generatedSystemModules.MatchString(name) }

// systemModulesClasses generates the classes for the modules in ms, keyed by resource name.
// order lists the modules as the generated arrays do, java.base first.
func systemModulesClasses(ms moduleSet, order []string) (map[string][]byte, error) {
	all, err := ms.resolve(order)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	gen := func(class string, cf *config) error {
		var mods []string
		for _, m := range order {
			if cf.modules[m] {
				mods = append(mods, m)
			}
		}
		b, err := systemModulesClass(class, ms, mods, cf)
		if err != nil {
			return err
		}
		out["/java.base/"+class+".class"] = b
		return nil
	}
	if err := gen(systemModulesAll, all); err != nil {
		return nil, err
	}
	defClass := systemModulesAll
	def, err := ms.resolve(ms.defaultRoots())
	if err != nil {
		return nil, fmt.Errorf("resolving the default modules: %w", err)
	}
	if len(def.modules) != len(order) {
		defClass = systemModulesDef
		if err := gen(defClass, def); err != nil {
			return nil, err
		}
	}
	mainClasses := map[string]string{}
	suffix := 0
	for _, m := range order {
		if ms[m].mainClass == "" {
			continue
		}
		cf, err := ms.resolve([]string{m})
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", m, err)
		}
		if len(cf.modules) == len(order) {
			mainClasses[m] = systemModulesAll
			continue
		}
		class := systemModulesIface + "$" + strconv.Itoa(suffix)
		suffix++
		if err := gen(class, cf); err != nil {
			return nil, err
		}
		mainClasses[m] = class
	}
	b, err := systemModulesMapClass(defClass, mainClasses)
	if err != nil {
		return nil, err
	}
	out["/java.base/"+systemModulesMap+".class"] = b
	return out, nil
}

func systemModulesMapClass(defClass string, mainClasses map[string]string) ([]byte, error) {
	c := newClassFile(systemModulesMap)
	c.method(0, "<init>", "()V", c.code().aload0().
		invoke(opInvokespecial, "java/lang/Object", "<init>", "()V", false).ret())
	for _, f := range []struct{ name, class string }{{"allSystemModules", systemModulesAll}, {"defaultSystemModules", defClass}} {
		c.method(accStatic, f.name, "()L"+systemModulesIface+";", c.code().new(f.class).dup().
			invoke(opInvokespecial, f.class, "<init>", "()V", false).areturn())
	}
	var mods []string
	for m := range mainClasses {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	classes := make([]string, len(mods))
	for i, m := range mods {
		classes[i] = strings.ReplaceAll(mainClasses[m], "/", ".")
	}
	for _, f := range []struct {
		name   string
		values []string
	}{{"moduleNames", mods}, {"classNames", classes}} {
		k := c.code()
		stringArray(k, f.values)
		c.method(accStatic, f.name, "()[Ljava/lang/String;", k.areturn())
	}
	return c.bytes(accFinal | accSuper)
}

const (
	builderClass     = systemModulesPkg + "Builder"
	descriptorClass  = "java/lang/module/ModuleDescriptor"
	requiresClass    = descriptorClass + "$Requires"
	exportsClass     = descriptorClass + "$Exports"
	opensClass       = descriptorClass + "$Opens"
	providesClass    = descriptorClass + "$Provides"
	targetClass      = systemModulesPkg + "ModuleTarget"
	hashesClass      = systemModulesPkg + "ModuleHashes"
	hashesBuilder    = hashesClass + "$Builder"
	resolutionClass  = systemModulesPkg + "ModuleResolution"
	builderReturning = ")L" + builderClass + ";"
)

// systemModulesClass generates one SystemModules implementation for mods, resolved as cf.
func systemModulesClass(name string, ms moduleSet, mods []string, cf *config) ([]byte, error) {
	c := newClassFile(name)
	c.method(accPublic, "<init>", "()V", c.code().aload0().
		invoke(opInvokespecial, "java/lang/Object", "<init>", "()V", false).ret())

	split, incubator := false, false
	seen := map[string]bool{}
	for _, m := range mods {
		for _, p := range ms.packagesOf(m) {
			if seen[p] {
				split = true
			}
			seen[p] = true
		}
		if mi := ms[m]; mi.hasResolve && mi.resolution&warnIncubating != 0 {
			incubator = true
		}
	}
	for _, f := range []struct {
		name string
		v    bool
	}{{"hasSplitPackages", split}, {"hasIncubatorModules", incubator}} {
		v := 0
		if f.v {
			v = 1
		}
		c.method(accPublic, f.name, "()Z", c.code().iconst(v).ireturn())
	}

	// One method per descriptor and per hash table keeps each under the 64 KiB limit.
	k := c.code().iconst(len(mods)).anewarray(descriptorClass)
	for i, m := range mods {
		method := "module" + strconv.Itoa(i)
		c.method(accPrivate|accStatic, method, "()L"+descriptorClass+";", descriptorCode(c, ms[m], ms.packagesOf(m)))
		k.dup().iconst(i).invoke(opInvokestatic, name, method, "()L"+descriptorClass+";", false).aastore()
	}
	c.method(accPublic, "moduleDescriptors", "()[L"+descriptorClass+";", k.areturn())

	// Like jlink: when java.base names the platform, it alone carries a ModuleTarget.
	k = c.code().iconst(len(mods)).anewarray(targetClass)
	count := len(mods)
	if count > 0 && ms[mods[0]].hasTarget && ms[mods[0]].target != "" {
		count = 1
	}
	for i, m := range mods[:count] {
		if mi := ms[m]; mi.hasTarget && mi.target != "" {
			k.dup().iconst(i).new(targetClass).dup().str(mi.target)
			k.invoke(opInvokespecial, targetClass, "<init>", "(Ljava/lang/String;)V", false).aastore()
		}
	}
	c.method(accPublic, "moduleTargets", "()[L"+targetClass+";", k.areturn())

	k = c.code().iconst(len(mods)).anewarray(hashesClass)
	for i, m := range mods {
		mi := ms[m]
		if !mi.hasHashes {
			continue
		}
		method := "hashes" + strconv.Itoa(i)
		c.method(accPrivate|accStatic, method, "()L"+hashesClass+";", hashesCode(c, mi))
		k.dup().iconst(i).invoke(opInvokestatic, name, method, "()L"+hashesClass+";", false).aastore()
	}
	c.method(accPublic, "moduleHashes", "()[L"+hashesClass+";", k.areturn())

	k = c.code().iconst(len(mods)).anewarray(resolutionClass)
	for i, m := range mods {
		if mi := ms[m]; mi.hasResolve {
			k.dup().iconst(i).new(resolutionClass).dup().iconst(int(mi.resolution))
			k.invoke(opInvokespecial, resolutionClass, "<init>", "(I)V", false).aastore()
		}
	}
	c.method(accPublic, "moduleResolutions", "()[L"+resolutionClass+";", k.areturn())

	k = c.code()
	names := sortedKeys(cf.modules)
	k.iconst(len(names)).anewarray("java/util/Map$Entry")
	for i, m := range names {
		k.dup().iconst(i).str(m)
		stringSet(k, cf.reads[m])
		k.invoke(opInvokestatic, "java/util/Map", "entry", "(Ljava/lang/Object;Ljava/lang/Object;)Ljava/util/Map$Entry;", true).aastore()
	}
	k.invoke(opInvokestatic, "java/util/Map", "ofEntries", "([Ljava/util/Map$Entry;)Ljava/util/Map;", true)
	c.method(accPublic, "moduleReads", "()Ljava/util/Map;", k.areturn())

	return c.bytes(accFinal|accSuper, systemModulesIface)
}

// descriptorCode builds a ModuleDescriptor with jdk.internal.module.Builder, as jlink's
// ModuleDescriptorBuilder does. The descriptor's hash code is left for it to compute.
func descriptorCode(c *classFile, mi *moduleInfo, packages []string) *code {
	k := c.code().new(builderClass).dup().str(mi.name)
	k.invoke(opInvokespecial, builderClass, "<init>", "(Ljava/lang/String;)V", false)
	for _, f := range []struct {
		flag uint16
		name string
	}{{accOpen, "open"}, {accSynthetic, "synthetic"}, {accMandated, "mandated"}} {
		if mi.flags&f.flag != 0 {
			k.iconst(1).invoke(opInvokevirtual, builderClass, f.name, "(Z"+builderReturning, false)
		}
	}

	reqs := dedupRequires(mi.requires)
	k.iconst(len(reqs)).anewarray(requiresClass)
	for i, r := range reqs {
		k.dup().iconst(i)
		enumSet(k, requiresClass+"$Modifier", requiresModifiers(r.flags))
		k.str(r.name)
		if validVersion(r.version) {
			k.str(r.version)
			k.invoke(opInvokestatic, builderClass, "newRequires", "(Ljava/util/Set;Ljava/lang/String;Ljava/lang/String;)L"+requiresClass+";", false)
		} else {
			k.invoke(opInvokestatic, builderClass, "newRequires", "(Ljava/util/Set;Ljava/lang/String;)L"+requiresClass+";", false)
		}
		k.aastore()
	}
	k.invoke(opInvokevirtual, builderClass, "requires", "([L"+requiresClass+";"+builderReturning, false)

	for _, d := range []struct {
		list          []export
		class, method string
	}{{mi.exports, exportsClass, "exports"}, {mi.opens, opensClass, "opens"}} {
		list := dedupExports(d.list)
		k.iconst(len(list)).anewarray(d.class)
		for i, e := range list {
			k.dup().iconst(i)
			enumSet(k, d.class+"$Modifier", exportModifiers(e.flags))
			k.str(e.pkg)
			ctor := "new" + strings.ToUpper(d.method[:1]) + d.method[1:]
			if len(e.targets) > 0 {
				stringSet(k, uniqueSorted(e.targets))
				k.invoke(opInvokestatic, builderClass, ctor, "(Ljava/util/Set;Ljava/lang/String;Ljava/util/Set;)L"+d.class+";", false)
			} else {
				k.invoke(opInvokestatic, builderClass, ctor, "(Ljava/util/Set;Ljava/lang/String;)L"+d.class+";", false)
			}
			k.aastore()
		}
		k.invoke(opInvokevirtual, builderClass, d.method, "([L"+d.class+";"+builderReturning, false)
	}

	stringSet(k, uniqueSorted(mi.uses))
	k.invoke(opInvokevirtual, builderClass, "uses", "(Ljava/util/Set;"+builderReturning, false)

	provs := dedupProvides(mi.provides)
	k.iconst(len(provs)).anewarray(providesClass)
	for i, p := range provs {
		k.dup().iconst(i).str(p.service)
		stringArray(k, p.providers)
		k.invoke(opInvokestatic, "java/util/List", "of", "([Ljava/lang/Object;)Ljava/util/List;", true)
		k.invoke(opInvokestatic, builderClass, "newProvides", "(Ljava/lang/String;Ljava/util/List;)L"+providesClass+";", false)
		k.aastore()
	}
	k.invoke(opInvokevirtual, builderClass, "provides", "([L"+providesClass+";"+builderReturning, false)

	stringSet(k, uniqueSorted(packages))
	k.invoke(opInvokevirtual, builderClass, "packages", "(Ljava/util/Set;"+builderReturning, false)
	if validVersion(mi.version) {
		k.str(mi.version).invoke(opInvokevirtual, builderClass, "version", "(Ljava/lang/String;"+builderReturning, false)
	}
	if mi.mainClass != "" {
		k.str(mi.mainClass).invoke(opInvokevirtual, builderClass, "mainClass", "(Ljava/lang/String;"+builderReturning, false)
	}
	k.iconst(0).invoke(opInvokevirtual, builderClass, "build", "(I)L"+descriptorClass+";", false)
	return k.areturn()
}

func hashesCode(c *classFile, mi *moduleInfo) *code {
	hashes := append([]moduleHash(nil), mi.hashes...)
	sort.SliceStable(hashes, func(i, j int) bool { return hashes[i].module < hashes[j].module })
	k := c.code().new(hashesBuilder).dup().str(mi.hashAlg).iconst(4*len(hashes)/3 + 1)
	k.invoke(opInvokespecial, hashesBuilder, "<init>", "(Ljava/lang/String;I)V", false)
	done := map[string]bool{}
	for _, h := range hashes {
		if done[h.module] {
			continue
		}
		done[h.module] = true
		k.str(h.module).iconst(len(h.hash)).newByteArray()
		for i, b := range h.hash {
			k.dup().iconst(i).iconst(int(int8(b))).bastore()
		}
		k.invoke(opInvokevirtual, hashesBuilder, "hashForModule", "(Ljava/lang/String;[B)L"+hashesBuilder+";", false)
	}
	k.invoke(opInvokevirtual, hashesBuilder, "build", "()L"+hashesClass+";", false)
	return k.areturn()
}

func stringArray(k *code, values []string) {
	k.iconst(len(values)).anewarray("java/lang/String")
	for i, v := range values {
		k.dup().iconst(i).str(v).aastore()
	}
}

// stringSet pushes Set.of(values); values must be distinct, or Set.of throws.
func stringSet(k *code, values []string) {
	if len(values) == 0 {
		k.invoke(opInvokestatic, "java/util/Set", "of", "()Ljava/util/Set;", true)
		return
	}
	stringArray(k, values)
	k.invoke(opInvokestatic, "java/util/Set", "of", "([Ljava/lang/Object;)Ljava/util/Set;", true)
}

// enumSet pushes Set.of of the named constants of an enum.
func enumSet(k *code, enum string, names []string) {
	if len(names) == 0 {
		k.invoke(opInvokestatic, "java/util/Set", "of", "()Ljava/util/Set;", true)
		return
	}
	k.iconst(len(names)).anewarray("java/lang/Object")
	for i, n := range names {
		k.dup().iconst(i).getstatic(enum, n, "L"+enum+";").aastore()
	}
	k.invoke(opInvokestatic, "java/util/Set", "of", "([Ljava/lang/Object;)Ljava/util/Set;", true)
}

func requiresModifiers(flags uint16) []string {
	var mods []string
	for _, f := range []struct {
		flag uint16
		name string
	}{{accTransitive, "TRANSITIVE"}, {accStaticPhase, "STATIC"}, {accSynthetic, "SYNTHETIC"}, {accMandated, "MANDATED"}} {
		if flags&f.flag != 0 {
			mods = append(mods, f.name)
		}
	}
	return mods
}

func exportModifiers(flags uint16) []string {
	var mods []string
	if flags&accSynthetic != 0 {
		mods = append(mods, "SYNTHETIC")
	}
	if flags&accMandated != 0 {
		mods = append(mods, "MANDATED")
	}
	return mods
}

// The descriptor's sets reject duplicates (Set.of); a class file the JDK reads has none,
// a corrupt one might, and only its first entry counts.

func dedupRequires(in []requires) []requires {
	var out []requires
	seen := map[string]bool{}
	for _, r := range in {
		if !seen[r.name] {
			seen[r.name] = true
			out = append(out, r)
		}
	}
	return out
}

func dedupExports(in []export) []export {
	var out []export
	seen := map[string]bool{}
	for _, e := range in {
		if !seen[e.pkg] {
			seen[e.pkg] = true
			out = append(out, e)
		}
	}
	return out
}

func dedupProvides(in []provides) []provides {
	var out []provides
	seen := map[string]bool{}
	for _, p := range in {
		if !seen[p.service] {
			seen[p.service] = true
			out = append(out, p)
		}
	}
	return out
}

func uniqueSorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	n := 0
	for i, s := range out {
		if i == 0 || s != out[n-1] {
			out[n] = s
			n++
		}
	}
	return out[:n]
}

// validVersion tells whether ModuleDescriptor.Version.parse takes v: where it does not,
// the JDK keeps the raw string and jlink leaves the version out.
func validVersion(v string) bool {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return false
	}
	last := v[len(v)-1]
	return last != '-' && last != '+'
}
