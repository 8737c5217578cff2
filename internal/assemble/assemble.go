package assemble

import (
	"fmt"
	"runtime"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
)

type assembler struct {
	opts      Options
	tree      *tree
	pkgs      []*loaded          // sorted by package name
	installed map[string]*loaded // by package name
	notes     []string
}

// Assemble builds the image's layers from the resolved packages. Inputs may come in any
// order: the result depends only on their content and opts.
func Assemble(inputs []Input, opts Options) (*Result, error) {
	ins, err := checkInputs(inputs, opts.Arch)
	if err != nil {
		return nil, err
	}
	a := &assembler{opts: opts, tree: newTree(), installed: map[string]*loaded{}}
	if err := a.load(ins); err != nil {
		return nil, err
	}
	res := &Result{}
	shipped := map[string]bool{}
	for _, l := range a.pkgs {
		for _, e := range l.entries {
			if err := a.tree.add(l.in.Pkg.Name, e.path, e.n); err != nil {
				return nil, fmt.Errorf("assemble %s: %w", l.in.Pkg.ID(), err)
			}
		}
		for _, alias := range l.aliasLinks {
			shipped[alias] = true
		}
		a.notes = append(a.notes, l.notes...)
		res.Trimmed += l.trimmed
	}
	steps := []func() error{
		a.synthesize,
		a.javaModules,
		a.javaTrustStore,
		a.busyboxLinks,
		a.userPaths,
		func() error { return a.compatLinks(shipped) },
		a.checkLoader,
		a.statusRecords,
		a.dpkgDB,
		a.aptSources,
		a.rootfsRecord, // last: it sums up everything the earlier steps synthesized
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("assemble: %w", err)
		}
	}
	res.Epoch = a.epoch()
	res.Layers, err = a.writeLayers(a.planLayers(), res.Epoch)
	if err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	for _, n := range a.tree.nodes {
		if n.kind != kindDir {
			res.Files++
		}
	}
	res.Notes = a.notes
	return res, nil
}

func checkInputs(inputs []Input, arch string) ([]Input, error) {
	seen := map[string]bool{}
	out := make([]Input, 0, len(inputs))
	for i, in := range inputs {
		if in.Pkg == nil || in.Pkg.Name == "" {
			return nil, fmt.Errorf("assemble: input %d has no package", i)
		}
		name := in.Pkg.Name
		if in.Deb == "" {
			return nil, fmt.Errorf("assemble %s: no .deb path", in.Pkg.ID())
		}
		if name == RootfsPackage {
			return nil, fmt.Errorf("assemble: package name %s is reserved for Spartan's synthesized files", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("assemble: package %s given twice", name)
		}
		seen[name] = true
		if pa := in.Pkg.Architecture; arch != "" && pa != "" && pa != "all" && pa != arch {
			return nil, fmt.Errorf("assemble %s: built for %s, the image is %s", in.Pkg.ID(), pa, arch)
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pkg.Name < out[j].Pkg.Name })
	return out, nil
}

// load decompresses the packages in parallel (xz dominates build time); merging into the tree
// stays sequential and in name order so the result never depends on scheduling.
func (a *assembler) load(ins []Input) error {
	a.pkgs = make([]*loaded, len(ins))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	errs := make([]error, len(ins))
	for i, in := range ins {
		g.Go(func() error {
			l, err := load(in, &a.opts)
			if err != nil {
				errs[i] = fmt.Errorf("assemble %s: %w", in.Pkg.ID(), err)
				return nil
			}
			a.pkgs[i] = l
			return nil
		})
	}
	_ = g.Wait()
	// Report the first failure in name order, not whichever goroutine lost the race.
	if err := firstErr(errs); err != nil {
		return err
	}
	for _, l := range a.pkgs {
		a.installed[l.in.Pkg.Name] = l
	}
	return nil
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// epoch is the mtime of every entry: the caller's (SOURCE_DATE_EPOCH, release date) or else
// the newest mtime inside the packages, which the package set alone determines.
func (a *assembler) epoch() time.Time {
	e := a.opts.Epoch
	if e.IsZero() {
		for _, l := range a.pkgs {
			if l.newest.After(e) {
				e = l.newest
			}
		}
	}
	if e.Before(time.Unix(0, 0)) {
		e = time.Unix(0, 0)
	}
	return e.UTC().Truncate(time.Second)
}
