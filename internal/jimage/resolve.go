package jimage

import (
	"fmt"
	"sort"
	"strings"
)

// The module graph jlink precomputes for the boot layer, computed here the way
// java.lang.module.Resolver does for the boot layer (Configuration.resolveAndBind over the
// system modules, no parent but the empty configuration): the modules resolved from a set
// of roots, closed over requires (not static) and over service binding, and what each of
// them reads.

type moduleSet map[string]*moduleInfo

// config is a resolved configuration.
type config struct {
	modules map[string]bool
	reads   map[string][]string // sorted
}

// defaultRoots is jdk.internal.module.DefaultRoots.compute: the modules the unnamed module
// reads, those that export an API and are not to be resolved only on request.
func (ms moduleSet) defaultRoots() []string {
	var roots []string
	for name, mi := range ms {
		if mi.hasResolve && mi.resolution&doNotResolveByDefault != 0 {
			continue
		}
		for _, e := range mi.exports {
			if len(e.targets) == 0 {
				roots = append(roots, name)
				break
			}
		}
	}
	sort.Strings(roots)
	return roots
}

// resolve resolves roots with service binding and builds the readability graph, failing
// where the JDK's resolver would refuse the configuration at startup.
func (ms moduleSet) resolve(roots []string) (*config, error) {
	selected := map[string]bool{}
	var queue []string
	for _, r := range roots {
		if ms[r] == nil {
			return nil, fmt.Errorf("module %s not found", r)
		}
		if !selected[r] {
			selected[r] = true
			queue = append(queue, r)
		}
	}
	// resolveQueue follows the requires of the queued modules and returns the modules it
	// went through, which may in turn use services.
	resolveQueue := func() ([]string, error) {
		var done []string
		for len(queue) > 0 {
			m := queue[0]
			queue = queue[1:]
			for _, rq := range ms[m].requires {
				if rq.flags&accStaticPhase != 0 {
					continue
				}
				if ms[rq.name] == nil {
					return nil, fmt.Errorf("module %s not found, required by %s", rq.name, m)
				}
				if !selected[rq.name] {
					selected[rq.name] = true
					queue = append(queue, rq.name)
				}
			}
			done = append(done, m)
		}
		return done, nil
	}
	if _, err := resolveQueue(); err != nil {
		return nil, err
	}

	// Service binding skips incubator modules, as Resolver.bind does for the boot layer.
	providers := map[string][]string{}
	for _, name := range sortedNames(ms) {
		mi := ms[name]
		if mi.hasResolve && mi.resolution&warnIncubating != 0 {
			continue
		}
		for _, p := range mi.provides {
			providers[p.service] = append(providers[p.service], name)
		}
	}
	consumers := sortedKeys(selected)
	for len(consumers) > 0 {
		for _, c := range consumers {
			for _, s := range ms[c].uses {
				for _, p := range providers[s] {
					if p != c && !selected[p] {
						selected[p] = true
						queue = append(queue, p)
					}
				}
			}
		}
		var err error
		if consumers, err = resolveQueue(); err != nil {
			return nil, err
		}
	}

	// m reads what it requires, and what those require transitively.
	reads := map[string]map[string]bool{}
	transitive := map[string][]string{}
	for m := range selected {
		reads[m] = map[string]bool{}
		for _, rq := range ms[m].requires {
			if !selected[rq.name] {
				continue // requires static, not resolved
			}
			reads[m][rq.name] = true
			if rq.flags&accTransitive != 0 {
				transitive[m] = append(transitive[m], rq.name)
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, r := range reads {
			var add []string
			for m2 := range r {
				for _, m3 := range transitive[m2] {
					if !r[m3] {
						add = append(add, m3)
					}
				}
			}
			for _, m3 := range add {
				if !r[m3] {
					r[m3] = true
					changed = true
				}
			}
		}
	}
	cf := &config{modules: selected, reads: map[string][]string{}}
	for m, r := range reads {
		cf.reads[m] = sortedKeys(r)
	}
	return cf, ms.checkSuppliers(cf)
}

// checkSuppliers is Resolver.checkExportSuppliers: a module may not get a package from two
// modules, and the service types it uses or provides must be in packages it reads. The
// latter catches a kept module whose service type was in a removed module it only
// `requires static`.
func (ms moduleSet) checkSuppliers(cf *config) error {
	for _, m := range sortedKeys(cf.modules) {
		mi := ms[m]
		supplier := map[string]string{}
		for _, p := range ms.packagesOf(m) {
			supplier[p] = m
		}
		for _, other := range cf.reads[m] {
			for _, e := range ms[other].exports {
				if len(e.targets) > 0 && !contains(e.targets, m) {
					continue
				}
				if s, ok := supplier[e.pkg]; ok && s != other {
					return fmt.Errorf("module %s reads package %s from both %s and %s", m, e.pkg, s, other)
				}
				supplier[e.pkg] = other
			}
		}
		services := append([]string(nil), mi.uses...)
		for _, p := range mi.provides {
			services = append(services, p.service)
		}
		for _, s := range services {
			pkg := ""
			if i := strings.LastIndexByte(s, '.'); i >= 0 {
				pkg = s[:i]
			}
			if _, ok := supplier[pkg]; !ok {
				return fmt.Errorf("module %s does not read a module that exports %s (for service %s)", m, pkg, s)
			}
		}
	}
	return nil
}

// packagesOf is the module's packages as ModuleDescriptor.packages() has them.
func (ms moduleSet) packagesOf(m string) []string {
	mi := ms[m]
	if mi.hasPackages {
		return mi.packages
	}
	var pkgs []string
	for _, e := range mi.exports {
		pkgs = append(pkgs, e.pkg)
	}
	for _, e := range mi.opens {
		pkgs = append(pkgs, e.pkg)
	}
	return pkgs
}

func sortedNames(ms moduleSet) []string {
	names := make([]string, 0, len(ms))
	for n := range ms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
