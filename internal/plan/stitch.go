package plan

import (
	"context"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
)

// Remote is a registry seen by the plan: *registry.Client behind Registry.
type Remote struct{ Client *registry.Client }

// Exists implements Registry.
func (r Remote) Exists(ctx context.Context, ref string) (bool, error) {
	nr, err := registry.ParseReference(ref)
	if err != nil {
		return false, err
	}
	_, ok, err := r.Client.Digest(ctx, nr)
	return ok, err
}

// Index returns the index step of image/variant ("static/runtime"; "static" is its runtime).
func (p *Plan) Index(id string) (*Index, error) {
	var ids []string
	for _, ix := range p.Indexes {
		if ix.ID == id || ix.ID == id+"/runtime" {
			return ix, nil
		}
		ids = append(ids, ix.ID)
	}
	return nil, fmt.Errorf("plan has no index %q; it has %v", id, ids)
}

// StitchOptions configure the final step of an image and variant.
type StitchOptions struct {
	Client *registry.Client
	Signer publish.Signer // nil: unsigned
	Log    io.Writer
}

// StitchResult says what Stitch did.
type StitchResult struct {
	Digest  string
	Skipped bool // the index's key was already tagged: nothing was done
}

// ErrUnitMissing is returned when a unit the index needs is not in the registry yet.
var ErrUnitMissing = errors.New("unit not built yet")

// Stitch is the final step of an image and variant: the per-architecture images the units
// pushed become the index a single-machine build of all architectures makes (the same
// annotations, from the first architecture's image, as build does; the same order), pushed,
// signed (the index and each image) and then tagged with the spec's tags. The key tag goes
// last, so that it exists only for a complete, signed index: a step that died halfway runs
// again.
func (p *Plan) Stitch(ctx context.Context, ix *Index, o StitchOptions) (StitchResult, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if p.Registry == "" {
		return StitchResult{}, errNoRegistry
	}
	keyRef, err := registry.ParseReference(ix.Ref)
	if err != nil {
		return StitchResult{}, err
	}
	if d, ok, err := o.Client.Digest(ctx, keyRef); err != nil {
		return StitchResult{}, err
	} else if ok {
		fmt.Fprintf(log, "%s: already done (%s)\n", ix.ID, ix.Ref)
		return StitchResult{Digest: d, Skipped: true}, nil
	}
	units := map[string]*Unit{}
	for _, u := range p.Units {
		units[u.ID] = u
	}
	var imgs []v1.Image
	for _, id := range ix.Units {
		u := units[id]
		ref, err := registry.ParseReference(u.Ref)
		if err != nil {
			return StitchResult{}, err
		}
		desc, err := o.Client.Get(ctx, ref)
		if registry.IsNotFound(err) {
			return StitchResult{}, fmt.Errorf("index %s: %w: %s (%s); run its build job first", ix.ID, ErrUnitMissing, u.ID, u.Ref)
		}
		if err != nil {
			return StitchResult{}, err
		}
		img, err := desc.Image()
		if err != nil {
			return StitchResult{}, fmt.Errorf("index %s: unit %s: %w", ix.ID, u.ID, err)
		}
		imgs = append(imgs, img)
	}
	var art oci.Artifact = imgs[0]
	if len(imgs) > 1 {
		m, err := imgs[0].Manifest()
		if err != nil {
			return StitchResult{}, fmt.Errorf("index %s: %w", ix.ID, err)
		}
		if art, err = oci.Index(imgs, m.Annotations); err != nil {
			return StitchResult{}, fmt.Errorf("index %s: %w", ix.ID, err)
		}
	}
	digest, err := oci.Digest(art)
	if err != nil {
		return StitchResult{}, err
	}
	// The index goes up by digest and is signed before any tag names it: a step that dies
	// halfway leaves no tag on an unsigned index, and the key tag, last, marks it all done.
	if err := o.Client.Write(ctx, keyRef.Context().Digest(digest), art); err != nil {
		return StitchResult{}, fmt.Errorf("index %s: %w", ix.ID, err)
	}
	if o.Signer != nil {
		t := &registry.Target{Artifact: art, Digest: digest, Repo: keyRef.Context().Name(),
			Store: &registry.Store{Repo: keyRef.Context(), Client: o.Client}}
		if err := o.Signer.Sign(ctx, t, nil); err != nil {
			return StitchResult{}, fmt.Errorf("sign index %s: %w", ix.ID, err)
		}
		fmt.Fprintf(log, "%s: signed %s\n", ix.ID, digest)
	}
	src := &registry.Source{Artifact: art}
	for _, t := range ix.Tags {
		ref, err := registry.ParseReference(t)
		if err != nil {
			return StitchResult{}, err
		}
		_, st, err := o.Client.Push(ctx, src, ref)
		if err != nil {
			return StitchResult{}, fmt.Errorf("index %s: %w", ix.ID, err)
		}
		fmt.Fprintf(log, "%s: pushed %s@%s: %s\n", ix.ID, t, digest, st)
	}
	if err := o.Client.Write(ctx, keyRef, art); err != nil {
		return StitchResult{}, fmt.Errorf("index %s: %w", ix.ID, err)
	}
	return StitchResult{Digest: digest}, nil
}
