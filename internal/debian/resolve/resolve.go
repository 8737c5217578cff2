package resolve

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/archive"
)

// Request is what to resolve: package names (optionally pinned as "name=version"), names to
// leave out, the hardening policy and the target architecture (Debian name, e.g. "amd64").
type Request struct {
	Packages, Exclude []string
	// Allow exempts names from the policy (not from Exclude): a debug image lets
	// busybox-static in although the runtime profile cuts it.
	Allow  []string
	Policy Policy
	Arch   string
}

// Selected is one package of the closure and why it is there: "requested", or
// "<depender> Depends" / "<depender> Pre-Depends" for every package that pulled it in.
type Selected struct {
	Pkg *archive.Package
	Why []string
}

// Cut is a declared dependency the policy or the spec dropped.
type Cut struct {
	From     string // the package that declares the relation
	To       string // the package (or virtual name) not installed
	Relation string // the relation as declared, e.g. "debconf (>= 0.5) | debconf-2.0"
	Reason   string
}

// Result is the closure, sorted by package name, and the cuts, sorted by From, To, Relation.
type Result struct {
	Packages []Selected
	Cuts     []Cut
}

// maxErrors bounds how many problems one run reports; past that the rest are noise.
const maxErrors = 20

// Resolve computes the dependency closure of req.Packages over pkgs (the packages of all
// suites; the highest version per name for req.Arch wins). It follows Pre-Depends and Depends
// only and never adds Essential packages implicitly: an image contains what its recipe asks
// for. All problems found are reported together.
func Resolve(pkgs []*archive.Package, req Request) (*Result, error) {
	if req.Arch == "" {
		return nil, errors.New("resolve: no target architecture given")
	}
	if len(req.Packages) == 0 {
		return nil, errors.New("resolve: no packages requested")
	}
	r := &resolver{
		u:     newUniverse(pkgs, req.Arch),
		cut:   NewCutter(req.Policy, req.Exclude, req.Allow),
		sel:   map[string]*node{},
		selPr: map[string][]provider{},
		cuts:  map[Cut]bool{},
	}
	reqs, err := r.parseRequests(req.Packages)
	if err != nil {
		return nil, err
	}
	r.u.indexProvides()
	r.selectRequested(reqs)
	for i := 0; i < len(r.queue) && len(r.errs) < maxErrors; i++ {
		r.visit(r.queue[i])
	}
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return r.result(), nil
}

type node struct {
	pkg    *archive.Package
	why    []string
	parent *node // the first package that pulled this one in; nil when requested
}

type resolver struct {
	u     *universe
	cut   *Cutter
	sel   map[string]*node
	selPr map[string][]provider // virtual name → selected providers, in selection order
	queue []*node
	cuts  map[Cut]bool
	errs  []error
}

type request struct{ name, pin string }

// parseRequests splits pins off and applies them to the universe, so everything after sees
// the pinned version as the only candidate for that name.
func (r *resolver) parseRequests(names []string) ([]request, error) {
	var reqs []request
	pinned := map[string]string{}
	var errs []error
	for _, s := range names {
		name, pin, hasPin := strings.Cut(strings.TrimSpace(s), "=")
		name, pin = strings.TrimSpace(name), strings.TrimSpace(pin)
		if err := checkName(name); err != nil {
			errs = append(errs, fmt.Errorf("resolve: requested %q: %w", s, err))
			continue
		}
		if hasPin {
			if pin == "" {
				errs = append(errs, fmt.Errorf("resolve: requested %q: empty version after '='", s))
				continue
			}
			if prev, ok := pinned[name]; ok && prev != pin {
				errs = append(errs, fmt.Errorf("resolve: %s is pinned to both %s and %s; keep one", name, prev, pin))
				continue
			}
			pinned[name] = pin
		}
		reqs = append(reqs, request{name: name, pin: pin})
	}
	for _, q := range reqs {
		if q.pin == "" {
			continue
		}
		if r.u.best[q.name] == nil {
			errs = append(errs, fmt.Errorf("resolve: %s=%s: %s", q.name, q.pin, r.unknown(q.name)))
			continue
		}
		if !r.u.pin(q.name, q.pin) {
			errs = append(errs, fmt.Errorf("resolve: %s=%s: no such version %s; available: %s",
				q.name, q.pin, r.u.where(), strings.Join(r.u.versions(q.name), ", ")))
		}
	}
	return reqs, errors.Join(errs...)
}

// selectRequested selects concrete names first, so that a requested virtual name can be
// settled by a provider that is also requested.
func (r *resolver) selectRequested(reqs []request) {
	var virtual []request
	for _, q := range reqs {
		if reason, cut := r.cut.Reason(q.name); cut {
			r.errs = append(r.errs, r.cutRequestErr(q.name, reason))
			continue
		}
		if n := r.sel[q.name]; n != nil {
			r.addWhy(n, "requested")
			continue
		}
		if p := r.u.best[q.name]; p != nil {
			r.choose(p, nil, "requested")
			continue
		}
		virtual = append(virtual, q)
	}
	for _, q := range virtual {
		rel := Relation{Name: q.name}
		if name, ok := r.selectedFor(rel); ok {
			r.addWhy(r.sel[name], "requested")
			continue
		}
		provs := r.uncutProviders(rel)
		switch {
		case len(provs) == 1:
			r.choose(provs[0].pkg, nil, "requested")
		case len(provs) > 1:
			r.errs = append(r.errs, fmt.Errorf("resolve: %s", ambiguous(q.name, provs)))
		case len(r.u.provides[q.name]) > 0:
			// Every provider is cut: same answer as cutting the name itself.
			p := r.u.provides[q.name][0].pkg
			reason, _ := r.cut.Reason(p.Name)
			r.errs = append(r.errs, r.cutRequestErr(q.name+" (provided by "+p.Name+")", reason))
		default:
			r.errs = append(r.errs, fmt.Errorf("resolve: %s: %s", q.name, r.unknown(q.name)))
		}
	}
}

func (r *resolver) cutRequestErr(name, reason string) error {
	if reason == reasonExcluded {
		return fmt.Errorf("resolve: %s is both requested and excluded; remove it from one of them", name)
	}
	profile := "the " + r.cut.policy + " profile"
	if r.cut.policy == "" {
		profile = "the policy"
	}
	return fmt.Errorf("resolve: %s is requested but %s cuts it (%s); use profile: dev or remove it",
		name, profile, reason)
}

// choose selects p, records why, and queues it for its own dependencies.
func (r *resolver) choose(p *archive.Package, parent *node, why string) {
	if n := r.sel[p.Name]; n != nil {
		// Callers check the selection first; this guard keeps a cycle from ever looping.
		r.addWhy(n, why)
		return
	}
	n := &node{pkg: p, why: []string{why}, parent: parent}
	r.sel[p.Name] = n
	r.queue = append(r.queue, n)
	for _, rel := range providedBy(p) {
		r.selPr[rel.Name] = append(r.selPr[rel.Name], provider{pkg: p, version: rel.Version})
	}
}

// addWhy appends a reason unless it repeats the last one: a depender's groups are visited
// together, so a repeated reason is always adjacent.
func (r *resolver) addWhy(n *node, why string) {
	if n.why[len(n.why)-1] != why {
		n.why = append(n.why, why)
	}
}

func (r *resolver) visit(n *node) {
	for _, f := range [...]struct{ name, text string }{
		{"Pre-Depends", n.pkg.PreDepends},
		{"Depends", n.pkg.Depends},
	} {
		groups, err := ParseRelations(f.text)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("resolve: %s: %s of %s %s: %w",
				chain(n), f.name, n.pkg.Name, n.pkg.Version, err))
			continue
		}
		for _, g := range groups {
			r.resolveGroup(n, f.name, g)
		}
	}
}

// resolveGroup satisfies one OR group of n's field: an alternative already selected wins,
// else the first one that can be satisfied and is not cut. When only cut alternatives are
// left, the cut is recorded instead of failing.
func (r *resolver) resolveGroup(n *node, field string, g []Relation) {
	alts := g[:0:0]
	for _, rel := range g {
		if rel.AppliesTo(r.u.arch) {
			alts = append(alts, rel)
		}
	}
	if len(alts) == 0 {
		return
	}
	why := n.pkg.Name + " " + field
	for _, rel := range alts {
		if name, ok := r.selectedFor(rel); ok {
			r.addWhy(r.sel[name], why)
			return
		}
	}
	var firstCut *Cut
	var failed []Relation // explained only if the whole group fails: suggestions are costly
	for _, rel := range alts {
		if !r.archQualOK(rel) {
			failed = append(failed, rel)
			continue
		}
		if reason, cut := r.cut.Reason(rel.Name); cut {
			if firstCut == nil {
				firstCut = &Cut{From: n.pkg.Name, To: rel.Name, Relation: formatGroup(g), Reason: reason}
			}
			continue
		}
		if p := r.u.best[rel.Name]; p != nil && rel.satisfiedBy(p.Version) {
			r.choose(p, n, why)
			return
		}
		provs := r.uncutProviders(rel)
		switch {
		case len(provs) == 1:
			r.choose(provs[0].pkg, n, why)
			return
		case len(provs) > 1:
			r.errs = append(r.errs, fmt.Errorf("resolve: %s: %s %s: %s", chain(n), field, formatGroup(g), ambiguous(rel.Name, provs)))
			return
		}
		if all := r.fittingProviders(rel); len(all) > 0 {
			// Providers exist but the policy cuts every one of them.
			if firstCut == nil {
				reason, _ := r.cut.Reason(all[0].pkg.Name)
				firstCut = &Cut{From: n.pkg.Name, To: rel.Name, Relation: formatGroup(g), Reason: reason}
			}
			continue
		}
		failed = append(failed, rel)
	}
	if firstCut != nil {
		r.cuts[*firstCut] = true
		return
	}
	r.errs = append(r.errs, r.groupErr(n, field, g, alts, failed))
}

func (r *resolver) groupErr(n *node, field string, g, alts, failed []Relation) error {
	if len(alts) == 1 && alts[0].Op == "" && r.u.best[alts[0].Name] == nil && r.u.provides[alts[0].Name] == nil {
		// The common case reads best as a path: a → b → missing: no such package ...
		return fmt.Errorf("resolve: %s → %s: %s", chain(n), alts[0].Name, r.unknown(alts[0].Name))
	}
	problems := make([]string, len(failed))
	for i, rel := range failed {
		problems[i] = r.unsatisfiable(rel)
	}
	if len(problems) == 1 {
		return fmt.Errorf("resolve: %s: %s %s: %s", chain(n), field, formatGroup(g), problems[0])
	}
	return fmt.Errorf("resolve: %s: %s %s: no alternative can be satisfied: %s",
		chain(n), field, formatGroup(g), strings.Join(problems, "; "))
}

func (r *resolver) archQualOK(rel Relation) bool {
	switch rel.Arch {
	case "", "any", "native", "all", r.u.arch:
		return true
	}
	return false
}

// selectedFor reports the selected package that satisfies rel, if any: the real package of
// that name when its version fits, else a selected provider with a fitting version.
func (r *resolver) selectedFor(rel Relation) (string, bool) {
	if !r.archQualOK(rel) {
		return "", false
	}
	if n := r.sel[rel.Name]; n != nil && rel.satisfiedBy(n.pkg.Version) {
		return rel.Name, true
	}
	for _, p := range r.selPr[rel.Name] {
		if rel.satisfiedBy(p.version) {
			return p.pkg.Name, true
		}
	}
	return "", false
}

func (r *resolver) fittingProviders(rel Relation) []provider {
	var out []provider
	for _, p := range r.u.provides[rel.Name] {
		if rel.satisfiedBy(p.version) {
			out = append(out, p)
		}
	}
	return out
}

func (r *resolver) uncutProviders(rel Relation) []provider {
	var out []provider
	for _, p := range r.fittingProviders(rel) {
		if _, cut := r.cut.Reason(p.pkg.Name); !cut {
			out = append(out, p)
		}
	}
	return out
}

func (r *resolver) result() *Result {
	res := &Result{Packages: make([]Selected, 0, len(r.sel))}
	for _, n := range r.sel {
		res.Packages = append(res.Packages, Selected{Pkg: n.pkg, Why: n.why})
	}
	sort.Slice(res.Packages, func(i, j int) bool { return res.Packages[i].Pkg.Name < res.Packages[j].Pkg.Name })
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
		if a.Relation != b.Relation {
			return a.Relation < b.Relation
		}
		return a.Reason < b.Reason
	})
	return res
}

// chain renders how a package was reached: "python3.13 → libpython3.13-stdlib". BFS makes
// the first parent the one on a shortest path from a requested package.
func chain(n *node) string {
	var names []string
	for ; n != nil; n = n.parent {
		names = append(names, n.pkg.Name)
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return strings.Join(names, " → ")
}

const reasonExcluded = "excluded by spec"

// Cutter answers "is this name cut, and why" from the policy's cuts (exact names and globs),
// minus what the spec allows, plus what it excludes (an exclusion wins over an allow); the
// glob patterns are sorted once rather than per question. Alpine's resolver applies the same
// rule.
type Cutter struct {
	policy   string
	exact    map[string]string
	patterns []string
	allow    map[string]bool
}

// NewCutter builds the rule for one resolution.
func NewCutter(p Policy, exclude, allow []string) *Cutter {
	c := &Cutter{policy: p.Name, exact: make(map[string]string, len(p.Cut)+len(exclude)), allow: map[string]bool{}}
	for _, k := range allow {
		c.allow[strings.TrimSpace(k)] = true
	}
	add := func(k, reason string) {
		if strings.ContainsAny(k, "*?[") {
			if _, dup := c.exact[k]; !dup {
				c.patterns = append(c.patterns, k)
			}
		}
		c.exact[k] = reason
	}
	for k, reason := range p.Cut {
		if !c.allow[k] {
			add(k, reason)
		}
	}
	// Excludes come last so that an explicit exclusion's reason wins over the profile's.
	for _, k := range exclude {
		if k = strings.TrimSpace(k); k != "" {
			add(k, reasonExcluded)
		}
	}
	sort.Strings(c.patterns)
	return c
}

// Reason says why name may not be installed, if it may not.
func (c *Cutter) Reason(name string) (string, bool) {
	if r, ok := c.exact[name]; ok {
		return r, true
	}
	if c.allow[name] {
		return "", false
	}
	for _, pat := range c.patterns {
		if ok, _ := path.Match(pat, name); ok {
			return c.exact[pat], true
		}
	}
	return "", false
}
