// Package resolve computes the closure of requested Alpine packages over verified indexes with
// apk's semantics: dependencies on names, so:/cmd:/pc: and path provides, versioned
// constraints in apk's version order, "!" conflicts and provider_priority, under the same
// hardening policies as Debian images, every dropped dependency recorded.
package resolve

import (
	"errors"
	"fmt"
	debresolve "github.com/spartan-images/spartan/internal/debian/resolve"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/version"
)

// Request is what to resolve: dependency atoms ("python3", "musl=1.2.3-r0", "so:libz.so.1"),
// names to leave out, names exempt from the policy, the policy and the architecture
// ("x86_64", "aarch64"; "noarch" packages always fit).
type Request struct {
	Packages, Exclude, Allow []string
	Policy                   Policy
	Arch                     string
}

// Selected is one package of the closure and why it is there: "requested" or "<depender>
// depends on <atom>".
type Selected struct {
	Pkg *apkindex.Package
	Why []string
}

// Cut is a declared dependency not followed, recorded as for Debian (Relation is the atom as
// declared, e.g. "/bin/sh" or "so:libc.musl-x86_64.so.1"), so the SBOM, VEX and resolve
// output treat both alike.
type Cut = debresolve.Cut

// Result is the closure sorted by name and the cuts sorted by From, To, Relation.
type Result struct {
	Packages []Selected
	Cuts     []Cut
}

const maxErrors = 20

// Resolve computes the closure. Where several versions of a name exist the highest one that
// fits wins; a dependency on a name no package carries goes to a provider: the one with the
// highest provider_priority, then the highest provided version, then the name (so the answer
// never depends on index order). Among several unversioned providers one is only chosen
// automatically when it carries a provider_priority, as apk does. install_if packages are not added: an image
// contains what its recipe asks for (they are recorded as cuts).
func Resolve(pkgs []*apkindex.Package, req Request) (*Result, error) {
	if req.Arch == "" {
		return nil, errors.New("resolve: no target architecture given")
	}
	if len(req.Packages) == 0 {
		return nil, errors.New("resolve: no packages requested")
	}
	r := &resolver{
		u:    newUniverse(pkgs, req.Arch),
		req:  req,
		cut:  debresolve.NewCutter(req.Policy, req.Exclude, req.Allow),
		sel:  map[string]*node{},
		cuts: map[Cut]bool{},
	}
	for _, s := range req.Packages {
		d, err := ParseDep(s)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("requested %w", err))
			continue
		}
		if d.Conflict {
			r.errs = append(r.errs, fmt.Errorf("requested %q: a conflict cannot be requested; use exclude", s))
			continue
		}
		if reason, ok := r.cut.Reason(d.Name); ok {
			r.errs = append(r.errs, fmt.Errorf("requested %s, but the %s policy excludes it (%s); use a dev or debug image, or allow it explicitly", d.Name, req.Policy.Name, reason))
			continue
		}
		r.need(nil, d)
	}
	for i := 0; i < len(r.queue) && len(r.errs) < maxErrors; i++ {
		r.visit(r.queue[i])
	}
	if len(r.errs) == 0 {
		r.checkConflicts()
	}
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return r.result(), nil
}

type node struct {
	pkg *apkindex.Package
	why []string
}

type resolver struct {
	u     *universe
	req   Request
	cut   *debresolve.Cutter
	sel   map[string]*node
	queue []*node
	cuts  map[Cut]bool
	errs  []error
}

func (r *resolver) visit(n *node) {
	for _, s := range n.pkg.Depends {
		d, err := ParseDep(s)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("%s %s: %w", n.pkg.Name, n.pkg.Version, err))
			continue
		}
		if d.Conflict {
			continue // checked once the closure is complete
		}
		if reason, ok := r.cut.Reason(d.Name); ok {
			r.cuts[Cut{From: n.pkg.Name, To: d.Name, Relation: d.Raw, Reason: reason}] = true
			continue
		}
		r.need(n, d)
	}
}

// need makes d hold: by a package already selected, or by choosing one.
func (r *resolver) need(from *node, d Dep) {
	why := "requested"
	if from != nil {
		why = from.pkg.Name + " depends on " + d.Raw
	}
	if s, ok := r.sel[d.Name]; ok {
		if !d.matches(s.pkg.Version) {
			r.errs = append(r.errs, fmt.Errorf("%s, but %s %s is already selected (%s)", why, s.pkg.Name, s.pkg.Version, strings.Join(s.why, "; ")))
			return
		}
		s.why = appendOnce(s.why, why)
		return
	}
	for _, s := range r.sel {
		if providesMatch(s.pkg, d) {
			s.why = appendOnce(s.why, why)
			return
		}
	}
	cands := r.u.candidates(d)
	if len(cands) == 0 {
		r.errs = append(r.errs, fmt.Errorf("%s: %s", why, r.u.explain(d)))
		return
	}
	var allowed []*apkindex.Package
	var firstCut string
	for _, c := range cands {
		if reason, ok := r.cut.Reason(c.Name); ok {
			if firstCut == "" {
				firstCut = c.Name + ": " + reason
			}
			continue
		}
		allowed = append(allowed, c)
	}
	if len(allowed) == 0 {
		if from == nil {
			r.errs = append(r.errs, fmt.Errorf("requested %s: only provided by packages the %s policy excludes (%s)", d.Raw, r.req.Policy.Name, firstCut))
			return
		}
		r.cuts[Cut{From: from.pkg.Name, To: d.Name, Relation: d.Raw, Reason: "only provided by " + firstCut}] = true
		return
	}
	p := allowed[0]
	if p.Name != d.Name && len(allowed) > 1 && !autoSelectable(p, d) {
		var names []string
		for _, c := range allowed {
			names = append(names, c.Name)
		}
		r.errs = append(r.errs, fmt.Errorf("%s: %s is a virtual name provided by %s without a version or provider_priority; request one of them explicitly",
			why, d.Name, strings.Join(names, ", ")))
		return
	}
	if s, ok := r.sel[p.Name]; ok {
		// Reached through a provide; the name is taken by another version.
		if s.pkg != p {
			r.errs = append(r.errs, fmt.Errorf("%s: would need %s %s, but %s %s is already selected", why, p.Name, p.Version, s.pkg.Name, s.pkg.Version))
			return
		}
		s.why = appendOnce(s.why, why)
		return
	}
	n := &node{pkg: p, why: []string{why}}
	r.sel[p.Name] = n
	r.queue = append(r.queue, n)
}

// checkConflicts refuses a closure in which a "!name" of one package meets another package
// named or providing name.
func (r *resolver) checkConflicts() {
	for _, n := range r.sortedNodes() {
		for _, s := range n.pkg.Depends {
			d, err := ParseDep(s)
			if err != nil || !d.Conflict {
				continue
			}
			for _, o := range r.sortedNodes() {
				if o == n {
					continue
				}
				if (o.pkg.Name == d.Name && d.matches(o.pkg.Version)) || providesMatch(o.pkg, d) {
					r.errs = append(r.errs, fmt.Errorf("%s %s conflicts with %s (it declares %s), but %s is in the closure (%s); exclude one of them",
						n.pkg.Name, n.pkg.Version, o.pkg.Name, d.Raw, o.pkg.Name, strings.Join(o.why, "; ")))
				}
			}
		}
	}
}

func (r *resolver) sortedNodes() []*node {
	ns := make([]*node, 0, len(r.sel))
	for _, n := range r.sel {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].pkg.Name < ns[j].pkg.Name })
	return ns
}

func (r *resolver) result() *Result {
	res := &Result{}
	for _, n := range r.sortedNodes() {
		res.Packages = append(res.Packages, Selected{Pkg: n.pkg, Why: n.why})
	}
	// install_if packages whose conditions all hold are what apk would add on its own.
	for _, p := range r.u.installIf() {
		if _, ok := r.sel[p.Name]; ok {
			continue
		}
		if r.installIfHolds(p) {
			res.Cuts = append(res.Cuts, Cut{From: p.Name, To: p.Name, Relation: "install_if " + strings.Join(p.InstallIf, " "),
				Reason: "install_if: not added automatically; request it to have it"})
		}
	}
	for c := range r.cuts {
		res.Cuts = append(res.Cuts, c)
	}
	sort.Slice(res.Cuts, func(i, j int) bool {
		a, b := res.Cuts[i], res.Cuts[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Relation < b.Relation
	})
	return res
}

func (r *resolver) installIfHolds(p *apkindex.Package) bool {
	for _, s := range p.InstallIf {
		d, err := ParseDep(s)
		if err != nil || d.Conflict {
			return false
		}
		held := false
		if n, ok := r.sel[d.Name]; ok && d.matches(n.pkg.Version) {
			held = true
		}
		for _, n := range r.sel {
			if providesMatch(n.pkg, d) {
				held = true
			}
		}
		if !held {
			return false
		}
	}
	return true
}

// providesMatch reports whether p provides d's name in a version d accepts.
func providesMatch(p *apkindex.Package, d Dep) bool {
	for _, s := range p.Provides {
		pv := parseProvide(s)
		if pv.name == d.Name && d.matches(pv.version) {
			return true
		}
	}
	return false
}

// autoSelectable: among several providers, one may be picked without being named when its
// provide is versioned or it declares a provider_priority (a sole provider always may).
func autoSelectable(p *apkindex.Package, d Dep) bool {
	if p.HasPriority {
		return true
	}
	for _, s := range p.Provides {
		if pv := parseProvide(s); pv.name == d.Name && pv.version != "" {
			return true
		}
	}
	return false
}

func appendOnce(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
}

// versionOrder sorts versions highest first, malformed ones last.
func versionOrder(a, b string) bool { return version.CompareStrings(a, b) > 0 }
