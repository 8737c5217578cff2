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
func (c *Client) Load(ctx context.Context, srcs []Source, arch string) ([]*Package, []*Release, error) {
	rels := make([]*Release, len(srcs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(loadParallel)
	for i, src := range srcs {
		g.Go(func() error {
			rel, err := c.Release(gctx, src)
			rels[i] = rel
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}

	type job struct {
		rel  *Release
		comp string
	}
	var jobs []job
	for _, rel := range rels {
		comps := rel.Source.Components
		if len(comps) == 0 {
			comps = DefaultComponents
		}
		for _, comp := range comps {
			jobs = append(jobs, job{rel, comp})
		}
	}
	results := make([][]*Package, len(jobs))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(loadParallel)
	for i, j := range jobs {
		g.Go(func() error {
			pkgs, err := c.Packages(gctx, j.rel, j.comp, arch)
			results[i] = pkgs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	n := 0
	for _, r := range results {
		n += len(r)
	}
	all := make([]*Package, 0, n)
	for _, r := range results {
		all = append(all, r...)
	}
	return all, rels, nil
}
