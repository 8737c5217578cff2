// Package publish is what happens to a built image once it exists: it is written where it
// was asked for (an OCI layout, an archive), its SBOMs, provenance and OpenVEX are attested and
// signed, and it is pushed with them. `spartan build` and `spartan update` both end here.
//
// The order is the point: everything is signed before anything is pushed — into the OCI
// layout when there is one, so that it stays a complete offline copy, else into attachments
// held in memory and pushed with the image — so a failed signature pushes nothing, and a
// registry never serves the image without its signatures.
package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
)

// Signer signs a target (an index and each of its images) and attaches the attestations to
// the digests they are about, in the target's store. Key is the real one; tests put a failing
// one in its place.
type Signer interface {
	Sign(ctx context.Context, t *registry.Target, atts []sign.Attestation) error
}

// Key signs with a cosign private key.
type Key struct{ Signer sign.Signer }

// Sign implements Signer.
func (k Key) Sign(ctx context.Context, t *registry.Target, atts []sign.Attestation) error {
	return t.Sign(ctx, k.Signer, atts)
}

// LoadKey reads a cosign private key, asking for its password ($COSIGN_PASSWORD, else the
// terminal). Commands call it before building, so that a typo or a wrong password fails in a
// second rather than after the build.
func LoadKey(path string) (Key, error) {
	key, err := sign.LoadPrivateKey(path, func() ([]byte, error) { return sign.Password(false) })
	if err != nil {
		return Key{}, err
	}
	return Key{Signer: sign.Signer{Key: key}}, nil
}

// Pusher sends an image or index with its attachments to a registry reference;
// *registry.Client is the real one.
type Pusher interface {
	Push(ctx context.Context, src *registry.Source, ref name.Reference) (string, registry.Stats, error)
}

// Options say where a built image goes.
type Options struct {
	Layout  string         // write an OCI layout to this directory (its parent is created)
	Archive string         // write a docker-archive (an oci-archive for an index) to this file
	Ref     name.Reference // push to this reference; nil: no push
	Signer  Signer         // sign and attest; nil: unsigned
	// VulnDB, when it holds a database, adds an OpenVEX attestation per image; VulnDBRequired
	// makes a missing one an error (the path was given explicitly).
	VulnDB         string
	VulnDBRequired bool
	// Client reads what the registry already holds (signatures by others are kept); Pusher
	// pushes, Client when nil. Needed with Ref.
	Client *registry.Client
	Pusher Pusher
	Log    io.Writer // progress lines: signed…, pushed…
}

// Built is a build's output with the build's options and the times it ran between, which the
// provenance records.
type Built struct {
	Options           build.Options
	Output            *build.Output
	Started, Finished time.Time
}

// Result says what Publish did.
type Result struct {
	Digest string // the image's or index's
	Signed bool
	Pushed bool
}

// Publish writes, signs and pushes b as o says, in that order; it stops at the first failure.
func Publish(ctx context.Context, b Built, o Options) (Result, error) {
	if o.Signer != nil && o.Layout == "" && o.Ref == nil {
		return Result{}, errNowhere
	}
	var atts []sign.Attestation
	if o.Signer != nil {
		var err error
		if atts, err = Attestations(b, o.VulnDB, o.VulnDBRequired, o.log()); err != nil {
			return Result{}, err
		}
	}
	return Artifact(ctx, b.Output.Artifact(), b.Output.Tags, atts, o)
}

var errNowhere = errors.New("signing needs somewhere to store the signatures: an OCI layout or a registry reference")

func (o Options) log() io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}

// Artifact writes, signs and pushes an image or index as o says, with the attestations
// given (signed with it when o has a Signer): Publish's second half, for images a build did
// not make (a rebase). The first of tags names the layout's entry and the archive's image.
func Artifact(ctx context.Context, a oci.Artifact, tags []string, atts []sign.Attestation, o Options) (Result, error) {
	log := o.log()
	digest, err := oci.Digest(a)
	if err != nil {
		return Result{}, err
	}
	res := Result{Digest: digest}
	if o.Signer != nil && o.Layout == "" && o.Ref == nil {
		return res, errNowhere
	}
	if o.Layout != "" {
		ref := ""
		if len(tags) > 0 {
			ref = tags[0]
		}
		if err := os.MkdirAll(filepath.Dir(o.Layout), 0o755); err != nil {
			return res, fmt.Errorf("write OCI layout: %w", err)
		}
		if err := oci.WriteLayout(o.Layout, a, ref); err != nil {
			return res, fmt.Errorf("write OCI layout: %w", err)
		}
	}
	if o.Archive != "" {
		if img, ok := a.(v1.Image); ok {
			err = oci.WriteArchive(o.Archive, img, tags)
		} else {
			// podman refuses an oci-archive whose index names more than one image.
			err = oci.WriteOCIArchive(o.Archive, a, tags[:min(1, len(tags))])
		}
		if err != nil {
			return res, fmt.Errorf("write archive: %w", err)
		}
	}
	if o.Signer == nil && o.Ref == nil {
		return res, nil
	}
	var pusher Pusher = o.Client
	if o.Pusher != nil {
		pusher = o.Pusher
	}
	if o.Ref != nil && (pusher == nil || o.Client == nil) {
		return res, errors.New("publish: pushing needs a registry client")
	}
	if o.Layout != "" {
		return res, publishLayout(ctx, o, pusher, atts, log, &res)
	}
	return res, publishMemory(ctx, a, o, pusher, atts, log, &res)
}

// publishLayout signs into the layout just written, then pushes the layout with its
// attachments.
func publishLayout(ctx context.Context, o Options, pusher Pusher, atts []sign.Attestation, log io.Writer, res *Result) error {
	src, err := imagesource.Layout(o.Layout)
	if err != nil {
		return err
	}
	if o.Signer != nil {
		target, err := src.Target()
		if err != nil {
			return err
		}
		if o.Ref != nil {
			// The signatures travel with the layout to the pushed repository: name it.
			target.Repo = o.Ref.Context().Name()
		}
		if err := o.Signer.Sign(ctx, target, atts); err != nil {
			return fmt.Errorf("sign %s: %w", o.Layout, err)
		}
		res.Signed = true
		fmt.Fprintf(log, "signed %s in %s (%d attestations)\n", target.Digest, o.Layout, len(atts))
	}
	if o.Ref == nil {
		return nil
	}
	// Read after signing: the signatures just stored travel with the image.
	stored, err := src.Attachments(ctx)
	if err != nil {
		return err
	}
	return push(ctx, pusher, &registry.Source{Artifact: src.Artifact, Attachments: stored}, o.Ref, log, res)
}

// publishMemory signs into attachments held in memory (merged with what the repository
// already holds for this digest), then pushes the image with them.
func publishMemory(ctx context.Context, a oci.Artifact, o Options, pusher Pusher, atts []sign.Attestation, log io.Writer, res *Result) error {
	src := &registry.Source{Artifact: a}
	var target *registry.Target
	if o.Signer != nil {
		st := &pending{base: &registry.Store{Repo: o.Ref.Context(), Client: o.Client}}
		target = &registry.Target{Artifact: src.Artifact, Digest: res.Digest, Repo: o.Ref.Context().Name(), Store: st}
		if err := o.Signer.Sign(ctx, target, atts); err != nil {
			return fmt.Errorf("sign %s: %w", o.Ref, err)
		}
		src.Attachments = st.put
	}
	if err := push(ctx, pusher, src, o.Ref, log, res); err != nil {
		return err
	}
	if target != nil {
		res.Signed = true
		fmt.Fprintf(log, "signed %s in %s (%d attestations)\n", target.Digest, o.Ref, len(atts))
	}
	return nil
}

func push(ctx context.Context, pusher Pusher, src *registry.Source, ref name.Reference, log io.Writer, res *Result) error {
	_, st, err := pusher.Push(ctx, src, ref)
	if err != nil {
		return err
	}
	res.Pushed = true
	fmt.Fprintf(log, "pushed %s (%d attachments): %s\n", ref, len(src.Attachments), st)
	return nil
}
