package archive

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// loadParallel bounds concurrent metadata requests: enough to overlap latency of a few
// suites, few enough to stay polite to public mirrors.
const loadParallel = 4

// DefaultComponents is used for a Source that names none.
var DefaultComponents = []string{"main"}

// Load verifies the release of every source and loads the packages of each of its components
// for arch, in parallel. Packages come back in source order, then component order, so callers
// that break ties by position see the same order every run; Releases in source order.
//
// Each source's indexes are requested as soon as its own release is verified rather than after
// every release: the largest index (the main suite's) is on the critical path of a cold build,
// and the other suites' releases need not hold it back.
func (c *Client) Load(ctx context.Context, srcs []Source, arch string) ([]*Package, []*Release, error) {
	rels := make([]*Release, len(srcs))
	results := make([][][]*Package, len(srcs))
	slots := make(chan struct{}, loadParallel)
	// limited runs one metadata request inside the bound, which holds across sources.
	limited := func(ctx context.Context, f func() error) error {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-slots }()
		return f()
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, src := range srcs {
		g.Go(func() error {
			var rel *Release
			err := limited(gctx, func() (err error) {
				rel, err = c.Release(gctx, src)
				return err
			})
			rels[i] = rel
			if err != nil {
				return err
			}
			comps := rel.Source.Components
			if len(comps) == 0 {
				comps = DefaultComponents
			}
			results[i] = make([][]*Package, len(comps))
			cg, cctx := errgroup.WithContext(gctx)
			for j, comp := range comps {
				cg.Go(func() error {
					return limited(cctx, func() (err error) {
						results[i][j], err = c.Packages(cctx, rel, comp, arch)
						return err
					})
				})
			}
			return cg.Wait()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	n := 0
	for _, rs := range results {
		for _, r := range rs {
			n += len(r)
		}
	}
	all := make([]*Package, 0, n)
	for _, rs := range results {
		for _, r := range rs {
			all = append(all, r...)
		}
	}
	return all, rels, nil
}
