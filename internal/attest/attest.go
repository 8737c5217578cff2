// Package attest writes in-toto attestations: a SLSA Provenance v1 statement saying how an
// image was built (from which spec, which signed indexes and which .debs), and statements
// that wrap an SBOM the way cosign does for `cosign attest --type spdxjson|cyclonedx`. The
// statements are plain JSON with the field names of the in-toto and SLSA specifications;
// signing them (DSSE) is the sign package's job. docs/provenance.md explains every field.
package attest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Types and URIs fixed by the in-toto, SLSA, SPDX and CycloneDX specifications.
const (
	StatementType         = "https://in-toto.io/Statement/v1"
	PredicateSLSA         = "https://slsa.dev/provenance/v1"
	PredicateSPDX         = "https://spdx.dev/Document"
	PredicateCycloneDX    = "https://cyclonedx.org/bom"
	MediaTypeInTotoJSON   = "application/vnd.in-toto+json"
	MediaTypeDSSEEnvelope = "application/vnd.dsse.envelope.v1+json"
)

// Spartan's own identifiers, documented in docs/provenance.md.
const (
	BuildType = "https://github.com/spartan-images/spartan/buildtypes/debian-image/v1"
	BuilderID = "https://github.com/spartan-images/spartan/builder@v1"
)

// Subject is an artifact a statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// NewSubject makes a subject from an OCI digest ("sha256:<hex>").
func NewSubject(name, digest string) (Subject, error) {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok || alg == "" || hex == "" {
		return Subject{}, fmt.Errorf("subject %s: digest %q is not <algorithm>:<hex>", name, digest)
	}
	if name == "" {
		name = "image"
	}
	return Subject{Name: name, Digest: map[string]string{alg: hex}}, nil
}

// InTotoStatement is an in-toto Statement v1.
type InTotoStatement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     any       `json:"predicate"`
}

// Statement wraps predicate in an in-toto Statement v1 about subjects. A predicate given as
// []byte or json.RawMessage (an SBOM document) is embedded as is and must be JSON.
func Statement(predicateType string, predicate any, subjects ...Subject) ([]byte, error) {
	if predicateType == "" {
		return nil, fmt.Errorf("in-toto statement: empty predicate type")
	}
	if len(subjects) == 0 {
		return nil, fmt.Errorf("in-toto statement (%s): no subject", predicateType)
	}
	for _, s := range subjects {
		if len(s.Digest) == 0 {
			return nil, fmt.Errorf("in-toto statement (%s): subject %q has no digest", predicateType, s.Name)
		}
	}
	if b, ok := predicate.([]byte); ok {
		predicate = json.RawMessage(b)
	}
	if raw, ok := predicate.(json.RawMessage); ok && !json.Valid(raw) {
		return nil, fmt.Errorf("in-toto statement (%s): the predicate is not valid JSON", predicateType)
	}
	out, err := json.Marshal(InTotoStatement{Type: StatementType, Subject: subjects, PredicateType: predicateType, Predicate: predicate})
	if err != nil {
		return nil, fmt.Errorf("in-toto statement (%s): %w", predicateType, err)
	}
	return out, nil
}

// PredicateTypeFor returns the predicate type cosign uses for an SBOM media type.
func PredicateTypeFor(sbomMediaType string) (string, error) {
	switch sbomMediaType {
	case "application/spdx+json":
		return PredicateSPDX, nil
	case "application/vnd.cyclonedx+json":
		return PredicateCycloneDX, nil
	}
	return "", fmt.Errorf("no attestation predicate type for SBOM media type %q", sbomMediaType)
}
