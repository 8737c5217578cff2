package plan

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// Registry answers whether a reference exists; *registry.Client is the real one (a HEAD
// request for the manifest: nothing is downloaded).
type Registry interface {
	Exists(ctx context.Context, ref string) (bool, error)
}

var errNoRegistry = errors.New("plan: no registry to check or stitch against: pass --registry HOST[/PATH], where the images go")

// lookups is how many HEAD requests are in flight at once.
const lookups = 16

// Check asks the registry which units and indexes are already there, by their key tags.
func (p *Plan) Check(ctx context.Context, r Registry) error {
	if p.Registry == "" {
		return errNoRegistry
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(lookups)
	for _, u := range p.Units {
		g.Go(func() error {
			ok, err := r.Exists(ctx, u.Ref)
			if err != nil {
				return fmt.Errorf("check unit %s: %w", u.ID, err)
			}
			u.Satisfied = ok
			return nil
		})
	}
	for _, ix := range p.Indexes {
		g.Go(func() error {
			ok, err := r.Exists(ctx, ix.Ref)
			if err != nil {
				return fmt.Errorf("check index %s: %w", ix.ID, err)
			}
			ix.Satisfied = ok
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	p.Checked = true
	return nil
}

// Pending is the plan without what the registry already holds: the work left. An index
// whose units are all done but which is not itself stays, as the final step still has to run.
func (p *Plan) Pending() *Plan {
	out := *p
	out.Units, out.Indexes = []*Unit{}, []*Index{}
	for _, u := range p.Units {
		if !u.Satisfied {
			out.Units = append(out.Units, u)
		}
	}
	for _, ix := range p.Indexes {
		if !ix.Satisfied {
			out.Indexes = append(out.Indexes, ix)
		}
	}
	return &out
}
