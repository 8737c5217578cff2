package sign

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Media types and annotations cosign uses for what it attaches to an image (its pkg/types and
// pkg/oci/static); verifiers select layers by them, so they must match exactly.
const (
	SimpleSigningMediaType  = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEMediaType           = "application/vnd.dsse.envelope.v1+json"
	InTotoPayloadType       = "application/vnd.in-toto+json"
	AnnotationSignature     = "dev.cosignproject.cosign/signature"
	AnnotationPredicateType = "predicateType"
	simpleSigningType       = "cosign container image signature"
)

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// SignatureTag is the tag cosign stores an artifact's signatures under: "sha256-<hex>.sig".
// Registries without the referrers API (CNCF Distribution 2.8) need a tag, and this is the
// scheme every cosign-aware tool looks for.
func SignatureTag(digest string) (string, error) { return tag(digest, "sig") }

// AttestationTag is the tag of an artifact's attestations: "sha256-<hex>.att".
func AttestationTag(digest string) (string, error) { return tag(digest, "att") }

func tag(digest, suffix string) (string, error) {
	if !digestRE.MatchString(digest) {
		return "", fmt.Errorf("%q is not a sha256 digest", digest)
	}
	return strings.Replace(digest, ":", "-", 1) + "." + suffix, nil
}

// IsAttachmentTag tells a signature or attestation tag from an image's own tags.
func IsAttachmentTag(t string) bool {
	if len(t) != len("sha256-")+64+4 || !strings.HasPrefix(t, "sha256-") {
		return false
	}
	return strings.HasSuffix(t, ".sig") || strings.HasSuffix(t, ".att")
}

// simpleSigning is the payload cosign signs for an image; field order is the one cosign
// marshals, so payloads compare byte for byte.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// SimpleSigningPayload is the statement "repo's manifest digest is digest" that a signature
// covers.
func SimpleSigningPayload(repo, digest string) ([]byte, error) {
	if !digestRE.MatchString(digest) {
		return nil, fmt.Errorf("%q is not a sha256 digest", digest)
	}
	var p simpleSigning
	p.Critical.Identity.DockerReference = repo
	p.Critical.Image.DockerManifestDigest = digest
	p.Critical.Type = simpleSigningType
	return json.Marshal(p)
}

// PayloadDigest returns the manifest digest a simple-signing payload names.
func PayloadDigest(payload []byte) (string, error) {
	var p simpleSigning
	if err := json.Unmarshal(payload, &p); err != nil {
		return "", fmt.Errorf("signature payload is not simple-signing JSON: %w", err)
	}
	if p.Critical.Type != simpleSigningType {
		return "", fmt.Errorf("signature payload type %q, want %q", p.Critical.Type, simpleSigningType)
	}
	return p.Critical.Image.DockerManifestDigest, nil
}

// SignBlob returns the base64 ASN.1 ECDSA signature of SHA-256(data), the form cosign puts in
// the signature annotation and in DSSE signatures.
func SignBlob(key *ecdsa.PrivateKey, data []byte) (string, error) {
	h := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// ErrBadSignature means a signature does not verify with the key given.
var ErrBadSignature = errors.New("signature does not verify with the given public key")

// VerifyBlob checks a base64 signature made by SignBlob.
func VerifyBlob(pub *ecdsa.PublicKey, data []byte, b64sig string) error {
	sig, err := base64.StdEncoding.DecodeString(b64sig)
	if err != nil {
		return fmt.Errorf("signature is not base64: %w", err)
	}
	h := sha256.Sum256(data)
	if !ecdsa.VerifyASN1(pub, h[:], sig) {
		return ErrBadSignature
	}
	return nil
}

// SignStatement wraps an in-toto statement in a DSSE envelope signed with key over the
// pre-authentication encoding (PAE), as cosign attest does. keyid stays empty like cosign's
// for key-based signing: verifiers try the key they were given.
func SignStatement(key *ecdsa.PrivateKey, statement []byte) ([]byte, error) {
	if !json.Valid(statement) {
		return nil, errors.New("attestation statement is not JSON")
	}
	sig, err := SignBlob(key, dsse.PAE(InTotoPayloadType, statement))
	if err != nil {
		return nil, err
	}
	return json.Marshal(dsse.Envelope{
		PayloadType: InTotoPayloadType,
		Payload:     base64.StdEncoding.EncodeToString(statement),
		Signatures:  []dsse.Signature{{Sig: sig}},
	})
}

// VerifyEnvelope checks that one of a DSSE envelope's signatures verifies with pub and returns
// the statement it carries.
func VerifyEnvelope(pub *ecdsa.PublicKey, envelope []byte) ([]byte, error) {
	var e dsse.Envelope
	if err := json.Unmarshal(envelope, &e); err != nil {
		return nil, fmt.Errorf("not a DSSE envelope: %w", err)
	}
	if e.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("DSSE payload type %q, want %q", e.PayloadType, InTotoPayloadType)
	}
	payload, err := e.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("DSSE payload: %w", err)
	}
	if len(e.Signatures) == 0 {
		return nil, errors.New("DSSE envelope has no signatures")
	}
	pae := dsse.PAE(e.PayloadType, payload)
	for _, s := range e.Signatures {
		if VerifyBlob(pub, pae, s.Sig) == nil {
			return payload, nil
		}
	}
	return nil, fmt.Errorf("DSSE envelope: %w", ErrBadSignature)
}

// Statement is the part of an in-toto statement verification looks at.
type Statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []Subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is one artifact a statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// ParseStatement decodes an in-toto statement (v0.1 or v1).
func ParseStatement(data []byte) (*Statement, error) {
	var s Statement
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	if !strings.HasPrefix(s.Type, "https://in-toto.io/Statement/") {
		return nil, fmt.Errorf("in-toto statement: _type %q is not an in-toto statement", s.Type)
	}
	if s.PredicateType == "" {
		return nil, errors.New("in-toto statement: no predicateType")
	}
	return &s, nil
}

// About reports whether the statement names digest ("sha256:…") among its subjects.
func (s *Statement) About(digest string) bool {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return false
	}
	for _, sub := range s.Subject {
		if sub.Digest["sha256"] == hex {
			return true
		}
	}
	return false
}

// NewStatement wraps a predicate (an SBOM document, a provenance predicate) in an in-toto v1
// statement about one artifact.
func NewStatement(predicateType, subjectName, digest string, predicate []byte) ([]byte, error) {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || !digestRE.MatchString(digest) {
		return nil, fmt.Errorf("%q is not a sha256 digest", digest)
	}
	if !json.Valid(predicate) {
		return nil, fmt.Errorf("%s predicate is not JSON", predicateType)
	}
	return json.Marshal(Statement{
		Type:          "https://in-toto.io/Statement/v1",
		PredicateType: predicateType,
		Subject:       []Subject{{Name: subjectName, Digest: map[string]string{"sha256": hex}}},
		Predicate:     predicate,
	})
}
