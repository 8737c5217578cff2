package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
)

// supplyChain is what `build --sign-key/--push` does after the image is written: attest and
// sign it (in the OCI layout when there is one, so that it stays a complete offline copy)
// and push it with its attachments.
type supplyChain struct {
	signKey, pushRef, layoutDir string
	log                         io.Writer
	// vulnDB, when it holds a database, adds an OpenVEX attestation; vulnDBRequired makes a
	// missing one an error (the path was given explicitly).
	vulnDB         string
	vulnDBRequired bool

	signer *sign.Signer
	ref    name.Reference
}

// prepare checks the flags and unlocks the key before the build, so that a typo or a wrong
// password fails in a second rather than after the build.
func (s *supplyChain) prepare() error {
	if s.signKey != "" {
		if s.layoutDir == "" && s.pushRef == "" {
			return fmt.Errorf("--sign-key needs somewhere to store the signatures: --oci DIR or --push REF")
		}
		key, err := sign.LoadPrivateKey(s.signKey, func() ([]byte, error) { return sign.Password(false) })
		if err != nil {
			return err
		}
		s.signer = &sign.Signer{Key: key}
	}
	if s.pushRef != "" {
		ref, err := registry.ParseReference(s.pushRef)
		if err != nil {
			return fmt.Errorf("--push: %w", err)
		}
		s.ref = ref
	}
	return nil
}

func (s *supplyChain) run(ctx context.Context, o build.Options, out *build.Output, started, finished time.Time) error {
	var atts []sign.Attestation
	if s.signer != nil {
		var err error
		if atts, err = attestations(o, out, started, finished); err != nil {
			return err
		}
		vexAtts, err := vexAttestations(s.vulnDB, s.vulnDBRequired, o, out, finished, s.log)
		if err != nil {
			return err
		}
		atts = append(atts, vexAtts...)
	}
	client := registry.New("spartan/" + version)

	if s.layoutDir != "" {
		src, err := imagesource.Layout(s.layoutDir)
		if err != nil {
			return err
		}
		if s.signer != nil {
			target, err := src.Target()
			if err != nil {
				return err
			}
			if s.ref != nil {
				// The signatures travel with the layout to --push's repository: name it.
				target.Repo = s.ref.Context().Name()
			}
			if err := target.Sign(ctx, *s.signer, atts); err != nil {
				return fmt.Errorf("sign %s: %w", s.layoutDir, err)
			}
			fmt.Fprintf(s.log, "signed %s in %s (%d attestations)\n", target.Digest, s.layoutDir, len(atts))
		}
		if s.ref == nil {
			return nil
		}
		// Read after signing: the signatures just stored travel with the image.
		stored, err := src.Attachments(ctx)
		if err != nil {
			return err
		}
		return s.push(ctx, client, &registry.Source{Artifact: src.Artifact, Attachments: stored})
	}

	if err := s.push(ctx, client, &registry.Source{Artifact: out.Artifact()}); err != nil {
		return err
	}
	if s.signer == nil {
		return nil
	}
	src, err := imagesource.Remote(ctx, s.ref.String(), client)
	if err != nil {
		return err
	}
	target, err := src.Target()
	if err != nil {
		return err
	}
	if err := target.Sign(ctx, *s.signer, atts); err != nil {
		return fmt.Errorf("sign %s: %w", s.ref, err)
	}
	fmt.Fprintf(s.log, "signed %s in %s (%d attestations)\n", target.Digest, s.ref, len(atts))
	return nil
}

func (s *supplyChain) push(ctx context.Context, c *registry.Client, src *registry.Source) error {
	_, st, err := c.Push(ctx, src, s.ref)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.log, "pushed %s (%d attachments): %s\n", s.ref, len(src.Attachments), st)
	return nil
}

// attestations are the SBOMs (SPDX, CycloneDX) and SLSA provenance of each built image, as
// in-toto statements about that image; for a multi-arch build they go to the platform images.
func attestations(o build.Options, out *build.Output, started, finished time.Time) ([]sign.Attestation, error) {
	var atts []sign.Attestation
	for _, im := range out.Images {
		docs, err := o.Documents(im, started, finished)
		if err != nil {
			return nil, err
		}
		stmts, err := docs.Attestations()
		if err != nil {
			return nil, err
		}
		for _, s := range stmts {
			atts = append(atts, sign.Attestation{PredicateType: s.PredicateType, Statement: s.Statement})
		}
	}
	return atts, nil
}
