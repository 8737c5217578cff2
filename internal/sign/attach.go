package sign

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Store is where attachment images live next to the artifact they are about: a registry
// repository or an OCI layout, addressed by cosign's tags.
type Store interface {
	// Image returns the image tagged tag, or nil and no error when there is none.
	Image(ctx context.Context, tag string) (v1.Image, error)
	// PutImage tags img as tag, replacing what the tag pointed at.
	PutImage(ctx context.Context, tag string, img v1.Image) error
}

// Entry is one layer of a signature or attestation image.
type Entry struct {
	MediaType   types.MediaType
	Annotations map[string]string
	Payload     []byte
}

// Entries reads the layers of an attachment image. Each payload is checked against the digest
// in the manifest, so a blob swapped in storage is caught even where the store does not check.
func Entries(img v1.Image) ([]Entry, error) {
	if img == nil {
		return nil, nil
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("attachment manifest: %w", err)
	}
	out := make([]Entry, 0, len(m.Layers))
	for i, d := range m.Layers {
		l, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("attachment layer %d: %w", i, err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, fmt.Errorf("attachment layer %d: %w", i, err)
		}
		// Signatures and statements are small; a huge layer here is hostile.
		data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("attachment layer %d: %w", i, err)
		}
		sum := sha256.Sum256(data)
		if d.Digest.Algorithm != "sha256" || d.Digest.Hex != hex.EncodeToString(sum[:]) {
			return nil, fmt.Errorf("attachment layer %d: content does not match its digest %s", i, d.Digest)
		}
		out = append(out, Entry{MediaType: d.MediaType, Annotations: d.Annotations, Payload: data})
	}
	return out, nil
}

// attachmentImage builds an image with one layer per entry, the shape cosign writes: OCI
// manifest, OCI config, no platform.
func attachmentImage(entries []Entry) (v1.Image, error) {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	adds := make([]mutate.Addendum, len(entries))
	for i, e := range entries {
		adds[i] = mutate.Addendum{Layer: static.NewLayer(e.Payload, e.MediaType), Annotations: e.Annotations, MediaType: e.MediaType}
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, fmt.Errorf("attachment image: %w", err)
	}
	return img, nil
}

// Attestation is a statement to attach: the in-toto statement JSON and its predicate type
// (which becomes the layer annotation cosign filters on).
type Attestation struct {
	PredicateType string
	Statement     []byte
}

// Signer signs artifacts with one key and stores the results in a Store.
type Signer struct {
	Key *ecdsa.PrivateKey
}

// Sign attaches a signature of digest (claimed for repository repo) to the artifact's .sig
// image. A signature by the same key over the same payload already there is kept as is, so
// signing twice does not grow the image.
func (s Signer) Sign(ctx context.Context, st Store, repo, digest string) error {
	t, err := SignatureTag(digest)
	if err != nil {
		return err
	}
	payload, err := SimpleSigningPayload(repo, digest)
	if err != nil {
		return err
	}
	cur, err := st.Image(ctx, t)
	if err != nil {
		return fmt.Errorf("read signatures %s: %w", t, err)
	}
	entries, err := Entries(cur)
	if err != nil {
		return fmt.Errorf("read signatures %s: %w", t, err)
	}
	for _, e := range entries {
		if e.MediaType == SimpleSigningMediaType && bytes.Equal(e.Payload, payload) &&
			VerifyBlob(&s.Key.PublicKey, e.Payload, e.Annotations[AnnotationSignature]) == nil {
			return nil
		}
	}
	sig, err := SignBlob(s.Key, payload)
	if err != nil {
		return err
	}
	entries = append(entries, Entry{
		MediaType:   SimpleSigningMediaType,
		Annotations: map[string]string{AnnotationSignature: sig},
		Payload:     payload,
	})
	img, err := attachmentImage(entries)
	if err != nil {
		return err
	}
	if err := st.PutImage(ctx, t, img); err != nil {
		return fmt.Errorf("store signature %s: %w", t, err)
	}
	return nil
}

// Attest signs each statement into a DSSE envelope and attaches it to digest's .att image,
// one layer per statement. Earlier attestations of the same predicate type by the same key
// are replaced (a rebuild re-attests); others, e.g. by other signers, are kept.
func (s Signer) Attest(ctx context.Context, st Store, digest string, atts []Attestation) error {
	if len(atts) == 0 {
		return nil
	}
	t, err := AttestationTag(digest)
	if err != nil {
		return err
	}
	replace := map[string]bool{}
	var added []Entry
	for _, a := range atts {
		stmt, err := ParseStatement(a.Statement)
		if err != nil {
			return fmt.Errorf("attestation %s: %w", a.PredicateType, err)
		}
		if stmt.PredicateType != a.PredicateType {
			return fmt.Errorf("attestation %s: the statement's predicateType is %s", a.PredicateType, stmt.PredicateType)
		}
		if !stmt.About(digest) {
			return fmt.Errorf("attestation %s: the statement's subjects do not include %s", a.PredicateType, digest)
		}
		env, err := SignStatement(s.Key, a.Statement)
		if err != nil {
			return fmt.Errorf("attestation %s: %w", a.PredicateType, err)
		}
		replace[a.PredicateType] = true
		added = append(added, Entry{
			MediaType: DSSEMediaType,
			// cosign puts an empty signature annotation on attestation layers (the signature is
			// inside the envelope) and refuses layers without it.
			Annotations: map[string]string{AnnotationPredicateType: a.PredicateType, AnnotationSignature: ""},
			Payload:     env,
		})
	}
	cur, err := st.Image(ctx, t)
	if err != nil {
		return fmt.Errorf("read attestations %s: %w", t, err)
	}
	old, err := Entries(cur)
	if err != nil {
		return fmt.Errorf("read attestations %s: %w", t, err)
	}
	var entries []Entry
	for _, e := range old {
		if e.MediaType == DSSEMediaType && replace[e.Annotations[AnnotationPredicateType]] {
			if _, err := VerifyEnvelope(&s.Key.PublicKey, e.Payload); err == nil {
				continue
			}
		}
		entries = append(entries, e)
	}
	img, err := attachmentImage(append(entries, added...))
	if err != nil {
		return err
	}
	if err := st.PutImage(ctx, t, img); err != nil {
		return fmt.Errorf("store attestations %s: %w", t, err)
	}
	return nil
}
