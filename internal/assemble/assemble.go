package assemble

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
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
	return AssembleWhileFetching(inputs, nil, opts)
}

// AssembleWhileFetching is Assemble for inputs whose .debs are still downloading: arrived
// carries the index (into inputs) of each one once its Deb is in place, and is closed after
// the last, so that decoding overlaps the downloads. An input that never arrives (the channel
// closed early: a download failed) is an error naming it; the caller has the download's own.
// A nil channel means every .deb is in place.
func AssembleWhileFetching(inputs []Input, arrived <-chan int, opts Options) (*Result, error) {
	ins, err := checkInputs(inputs, opts.Arch)
	if err != nil {
		return nil, err
	}
	a := &assembler{opts: opts, tree: newTree(), installed: map[string]*loaded{}}
	if err := a.load(ins, sortedArrivals(inputs, ins, arrived)); err != nil {
		return nil, err
	}
	for _, p := range opts.BasePackages {
		if a.installed[p] == nil {
			return nil, fmt.Errorf("assemble: base package %s is not among the packages", p)
		}
	}
	res := &Result{}
	shipped := map[string]bool{}
	for _, l := range a.addOrder() {
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
	res.Epoch = a.created()
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

// load decompresses the packages in parallel (xz dominates build time) as they arrive;
// merging into the tree stays sequential and in name order so the result never depends on
// scheduling or on the order the downloads finished in.
func (a *assembler) load(ins []Input, arrived <-chan int) error {
	a.pkgs = make([]*loaded, len(ins))
	errs := make([]error, len(ins))
	q := &arrivals{ins: ins, ch: arrived}
	var g errgroup.Group
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			for {
				i, ok := q.next()
				if !ok {
					return nil
				}
				in := ins[i]
				l, err := load(in, &a.opts)
				if err != nil {
					errs[i] = fmt.Errorf("assemble %s: %w", in.Pkg.ID(), err)
					continue
				}
				a.pkgs[i] = l
			}
		})
	}
	_ = g.Wait()
	for i, l := range a.pkgs {
		if l == nil && errs[i] == nil {
			errs[i] = fmt.Errorf("assemble %s: its .deb was not downloaded", ins[i].Pkg.ID())
		}
	}
	// Report the first failure in name order, not whichever goroutine lost the race.
	if err := firstErr(errs); err != nil {
		return err
	}
	for _, l := range a.pkgs {
		a.installed[l.in.Pkg.Name] = l
	}
	return nil
}

// sortedArrivals translates arrivals from the caller's input order to ins's (sorted by name);
// nil when every .deb is already in place.
func sortedArrivals(inputs, ins []Input, arrived <-chan int) <-chan int {
	if arrived == nil {
		all := make(chan int, len(ins))
		for i := range ins {
			all <- i
		}
		close(all)
		return all
	}
	at := make(map[string]int, len(ins))
	for i, in := range ins {
		at[in.Pkg.Name] = i
	}
	out := make(chan int, len(ins))
	go func() {
		defer close(out)
		for i := range arrived {
			if i >= 0 && i < len(inputs) {
				out <- at[inputs[i].Pkg.Name]
			}
		}
	}()
	return out
}

// arrivals hands out the packages that have arrived, the largest first, so that no big
// package starts last and decodes alone on one core while the other idles.
type arrivals struct {
	ins     []Input
	ch      <-chan int
	mu      sync.Mutex
	pending []int
	closed  bool
}

func (q *arrivals) next() (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for !q.closed { // take everything that has arrived, without waiting
			select {
			case i, ok := <-q.ch:
				q.add(i, ok)
				continue
			default:
			}
			break
		}
		if len(q.pending) > 0 {
			best := 0
			for k, i := range q.pending {
				if q.ins[i].Pkg.Size > q.ins[q.pending[best]].Pkg.Size {
					best = k
				}
			}
			i := q.pending[best]
			q.pending = slices.Delete(q.pending, best, best+1)
			return i, true
		}
		if q.closed {
			return 0, false
		}
		i, ok := <-q.ch // wait for the next download; other workers wait on the lock
		q.add(i, ok)
	}
}

func (q *arrivals) add(i int, ok bool) {
	if !ok {
		q.closed = true
		return
	}
	q.pending = append(q.pending, i)
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// clamp is the time a package's entries carry: its own newest mtime, no later than the caller's
// epoch (SOURCE_DATE_EPOCH) when one is set, never before 1970, in whole seconds. It depends on
// that package alone, so an update of another package leaves this one's layer unchanged.
func (a *assembler) clamp(t time.Time) time.Time {
	if e := a.opts.Epoch; !e.IsZero() && t.After(e) {
		t = e
	}
	if t.Before(time.Unix(0, 0)) {
		t = time.Unix(0, 0)
	}
	return t.UTC().Truncate(time.Second)
}

// created is the image's creation time and the mtime of the synthesized entries: the caller's
// epoch when set, else the newest package time, which the package set alone determines.
func (a *assembler) created() time.Time {
	if !a.opts.Epoch.IsZero() {
		return a.clamp(a.opts.Epoch)
	}
	e := a.clamp(time.Unix(0, 0))
	for _, l := range a.pkgs {
		if t := a.clamp(l.newest); t.After(e) {
			e = t
		}
	}
	return e
}

// addOrder is the order packages enter the tree: by name, the base image's packages first
// when there is one, so that a directory several packages ship gets its attributes from the
// base's packages, as in the base image, and the shared layers stay identical.
func (a *assembler) addOrder() []*loaded {
	if len(a.opts.BasePackages) == 0 {
		return a.pkgs
	}
	isBase := map[string]bool{}
	for _, p := range a.opts.BasePackages {
		isBase[p] = true
	}
	out := make([]*loaded, 0, len(a.pkgs))
	for _, first := range []bool{true, false} {
		for _, l := range a.pkgs {
			if isBase[l.in.Pkg.Name] == first {
				out = append(out, l)
			}
		}
	}
	return out
}
