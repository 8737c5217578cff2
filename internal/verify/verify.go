// Package verify decides whether an image may be trusted: its signature (and its index's)
// verifies with the given key, the attestations a policy requires are present and signed,
// each is about this very image, and its SBOM lists exactly the packages the image records.
package verify

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
)

// Predicate types (the URIs cosign maps its --type names to).
const (
	PredicateSPDX      = "https://spdx.dev/Document"
	PredicateCycloneDX = "https://cyclonedx.org/bom"
	PredicateSLSA1     = "https://slsa.dev/provenance/v1"
	PredicateSLSA02    = "https://slsa.dev/provenance/v0.2"
)

// requirement is a named set of acceptable predicate types.
type requirement struct {
	name  string
	types []string
}

var requirements = map[string][]string{
	"sbom":       {PredicateSPDX, PredicateCycloneDX},
	"spdx":       {PredicateSPDX},
	"cyclonedx":  {PredicateCycloneDX},
	"provenance": {PredicateSLSA1, PredicateSLSA02},
}

// Policy says what must hold.
type Policy struct {
	Key     *ecdsa.PublicKey
	Require []string // "sbom", "spdx", "cyclonedx", "provenance", or predicate type URIs
}

func (p Policy) requirements() ([]requirement, error) {
	var out []requirement
	for _, r := range p.Require {
		r = strings.TrimSpace(r)
		switch {
		case r == "":
		case requirements[r] != nil:
			out = append(out, requirement{name: r, types: requirements[r]})
		case strings.Contains(r, "://"):
			out = append(out, requirement{name: r, types: []string{r}})
		default:
			return nil, fmt.Errorf("unknown requirement %q: use sbom, spdx, cyclonedx, provenance or a predicate type URI", r)
		}
	}
	return out, nil
}

// Report lists what was checked, one line per fact, for people.
type Report struct {
	Digest string
	Lines  []string
}

func (r *Report) add(format string, a ...any) { r.Lines = append(r.Lines, fmt.Sprintf(format, a...)) }

// Verify checks t against p. For an index it checks the index's signature and, when provenance
// is required, the index's own provenance (the tag users pull carries one, so that
// `cosign verify-attestation` on the tag works); then every platform image: signature,
// required attestations, SBOM contents. SBOMs are the platform images' alone: packages differ
// by architecture.
func Verify(ctx context.Context, t *registry.Target, p Policy) (*Report, error) {
	if p.Key == nil {
		return nil, errors.New("verify: no public key")
	}
	reqs, err := p.requirements()
	if err != nil {
		return nil, err
	}
	rep := &Report{Digest: t.Digest}
	if err := sign.VerifySignature(ctx, t.Store, p.Key, t.Digest); err != nil {
		return rep, fmt.Errorf("signature: %w", err)
	}
	rep.add("%s: signature verified", t.Digest)
	children, err := t.Children()
	if err != nil {
		return rep, err
	}
	if children == nil {
		return rep, verifyImage(ctx, t, t.Digest, reqs, p, rep)
	}
	if len(children) == 0 {
		return rep, fmt.Errorf("index %s lists no images", t.Digest)
	}
	var indexReqs []requirement
	for _, r := range reqs {
		if slices.ContainsFunc(r.types, isProvenance) {
			indexReqs = append(indexReqs, r)
		}
	}
	if err := verifyImage(ctx, t, t.Digest, indexReqs, p, rep); err != nil {
		return rep, fmt.Errorf("index: %w", err)
	}
	for _, d := range children {
		if err := sign.VerifySignature(ctx, t.Store, p.Key, d); err != nil {
			return rep, fmt.Errorf("platform image signature: %w", err)
		}
		rep.add("%s: signature verified", d)
		if err := verifyImage(ctx, t, d, reqs, p, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func verifyImage(ctx context.Context, t *registry.Target, digest string, reqs []requirement, p Policy, rep *Report) error {
	if len(reqs) == 0 {
		return nil
	}
	atts, rejected, err := sign.VerifyAttestations(ctx, t.Store, p.Key, digest)
	if err != nil {
		return err
	}
	for _, r := range rejected {
		rep.add("%s: ignored %s", digest, r)
	}
	byType := map[string][]sign.Verified{}
	for _, a := range atts {
		byType[a.PredicateType] = append(byType[a.PredicateType], a)
	}
	sbomChecked := false
	for _, r := range reqs {
		var found []sign.Verified
		for _, pt := range r.types {
			found = append(found, byType[pt]...)
		}
		if len(found) == 0 {
			return fmt.Errorf("%s: no verified %s attestation (%s)%s", digest, r.name, strings.Join(r.types, " or "), sign.RejectedNote(rejected))
		}
		for _, a := range found {
			rep.add("%s: %s attestation verified, subject matches", digest, a.PredicateType)
		}
		if sbomChecked || !slices.ContainsFunc(found, isSBOM) {
			continue
		}
		sbomChecked = true
		img, err := t.Image(digest)
		if err != nil {
			return fmt.Errorf("%s: read image: %w", digest, err)
		}
		installed, err := InstalledPackages(img)
		if err != nil {
			return fmt.Errorf("%s: %w", digest, err)
		}
		for _, a := range found {
			if !isSBOM(a) {
				continue
			}
			listed, err := SBOMPackages(a.PredicateType, a.Statement.Predicate)
			if err != nil {
				return fmt.Errorf("%s: %s SBOM: %w", digest, a.PredicateType, err)
			}
			if err := samePackages(installed, listed); err != nil {
				return fmt.Errorf("%s: %s SBOM does not match the image's installed packages: %w", digest, a.PredicateType, err)
			}
			rep.add("%s: %s SBOM lists the image's %d packages exactly", digest, a.PredicateType, len(listed))
		}
	}
	return nil
}

func isProvenance(predicateType string) bool {
	return predicateType == PredicateSLSA1 || predicateType == PredicateSLSA02
}

func isSBOM(a sign.Verified) bool {
	return a.PredicateType == PredicateSPDX || a.PredicateType == PredicateCycloneDX
}
