package sign

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// memStore is a Store in memory, for tests.
type memStore map[string]v1.Image

func (m memStore) Image(_ context.Context, tag string) (v1.Image, error) { return m[tag], nil }
func (m memStore) PutImage(_ context.Context, tag string, img v1.Image) error {
	m[tag] = img
	return nil
}

func TestSignAndVerify(t *testing.T) {
	ctx := context.Background()
	key := testKey(t)
	st := memStore{}
	s := Signer{Key: key}
	if err := VerifySignature(ctx, st, &key.PublicKey, testDigest); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("unsigned: %v", err)
	}
	if err := s.Sign(ctx, st, "r/python", testDigest); err != nil {
		t.Fatal(err)
	}
	if err := s.Sign(ctx, st, "r/python", testDigest); err != nil {
		t.Fatal(err)
	}
	tag, _ := SignatureTag(testDigest)
	m, err := st[tag].Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("signing twice made %d layers, want 1", len(m.Layers))
	}
	l := m.Layers[0]
	if l.MediaType != SimpleSigningMediaType || l.Annotations[AnnotationSignature] == "" || m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Fatalf("signature image shape: %+v", m)
	}
	if err := VerifySignature(ctx, st, &key.PublicKey, testDigest); err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(ctx, st, &testKey(t).PublicKey, testDigest); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("wrong key: %v", err)
	}
	// Another signer adds a layer; both verify with their own keys.
	other := testKey(t)
	if err := (Signer{Key: other}).Sign(ctx, st, "r/python", testDigest); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*Signer{&s, {Key: other}} {
		if err := VerifySignature(ctx, st, &k.Key.PublicKey, testDigest); err != nil {
			t.Fatal(err)
		}
	}
}

// A signature copied from another image's .sig (valid signature, other digest) must fail.
func TestVerifySignatureCopiedFromOtherImage(t *testing.T) {
	ctx := context.Background()
	key := testKey(t)
	st := memStore{}
	other := "sha256:" + strings.Repeat("1", 64)
	if err := (Signer{Key: key}).Sign(ctx, st, "r", other); err != nil {
		t.Fatal(err)
	}
	from, _ := SignatureTag(other)
	to, _ := SignatureTag(testDigest)
	st[to] = st[from]
	err := VerifySignature(ctx, st, &key.PublicKey, testDigest)
	if err == nil || !strings.Contains(err.Error(), "signed digest") {
		t.Fatalf("copied signature: %v", err)
	}
}

func TestEntriesCatchSwappedBlob(t *testing.T) {
	img, err := attachmentImage([]Entry{{MediaType: SimpleSigningMediaType, Payload: []byte(`{"a":1}`)}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	// Same descriptor (digest from the manifest), other bytes: what a tampered store serves.
	bad := &swapped{Image: img, digest: m.Layers[0].Digest, layer: static.NewLayer([]byte(`{"a":2}`), SimpleSigningMediaType)}
	if _, err := Entries(bad); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Fatalf("swapped blob: %v", err)
	}
}

type swapped struct {
	v1.Image
	digest v1.Hash
	layer  v1.Layer
}

func (s *swapped) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	if h == s.digest {
		return s.layer, nil
	}
	return s.Image.LayerByDigest(h)
}

func TestAttest(t *testing.T) {
	ctx := context.Background()
	key := testKey(t)
	st := memStore{}
	s := Signer{Key: key}
	prov := Attestation{"https://slsa.dev/provenance/v1", statement(t, "https://slsa.dev/provenance/v1", testDigest)}
	spdx := Attestation{"https://spdx.dev/Document", statement(t, "https://spdx.dev/Document", testDigest)}
	if err := s.Attest(ctx, st, testDigest, []Attestation{prov, spdx}); err != nil {
		t.Fatal(err)
	}
	// Re-attesting replaces this key's statements of the same type instead of piling up.
	if err := s.Attest(ctx, st, testDigest, []Attestation{prov}); err != nil {
		t.Fatal(err)
	}
	tag, _ := AttestationTag(testDigest)
	m, _ := st[tag].Manifest()
	if len(m.Layers) != 2 {
		t.Fatalf("%d layers, want 2", len(m.Layers))
	}
	for _, l := range m.Layers {
		if _, ok := l.Annotations[AnnotationSignature]; !ok || l.MediaType != DSSEMediaType || l.Annotations[AnnotationPredicateType] == "" {
			t.Fatalf("layer %+v", l)
		}
	}
	ok, rejected, err := VerifyAttestations(ctx, st, &key.PublicKey, testDigest)
	if err != nil || len(ok) != 2 || len(rejected) != 0 {
		t.Fatalf("verified %d, rejected %v, err %v", len(ok), rejected, err)
	}
	ok, rejected, err = VerifyAttestations(ctx, st, &testKey(t).PublicKey, testDigest)
	if err != nil || len(ok) != 0 || len(rejected) != 2 {
		t.Fatalf("wrong key: verified %d, rejected %v, err %v", len(ok), rejected, err)
	}

	// Statements about another image are refused when attaching…
	otherDigest := "sha256:" + strings.Repeat("2", 64)
	if err := s.Attest(ctx, st, otherDigest, []Attestation{prov}); err == nil || !strings.Contains(err.Error(), "subjects do not include") {
		t.Fatalf("foreign statement attached: %v", err)
	}
	// …and rejected when someone moves a valid envelope to another image's .att.
	otherTag, _ := AttestationTag(otherDigest)
	st[otherTag] = st[tag]
	ok, rejected, _ = VerifyAttestations(ctx, st, &key.PublicKey, otherDigest)
	if len(ok) != 0 || len(rejected) != 2 || !strings.Contains(rejected[0], "subjects do not include") {
		t.Fatalf("moved attestations: ok %d rejected %v", len(ok), rejected)
	}
}

func TestAttestationAnnotationMustMatchStatement(t *testing.T) {
	ctx := context.Background()
	key := testKey(t)
	env, err := SignStatement(key, statement(t, "https://spdx.dev/Document", testDigest))
	if err != nil {
		t.Fatal(err)
	}
	img, err := attachmentImage([]Entry{{MediaType: DSSEMediaType, Annotations: map[string]string{AnnotationPredicateType: "https://slsa.dev/provenance/v1"}, Payload: env}})
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := AttestationTag(testDigest)
	st := memStore{tag: img}
	ok, rejected, _ := VerifyAttestations(ctx, st, &key.PublicKey, testDigest)
	if len(ok) != 0 || len(rejected) != 1 || !strings.Contains(rejected[0], "annotated as") {
		t.Fatalf("ok %d rejected %v", len(ok), rejected)
	}
}

// TestAttested: the one attestation asked for, by type and key; none of that type, or only
// one by another key, is an error that says what was looked for and what was rejected.
func TestAttested(t *testing.T) {
	ctx := context.Background()
	key, other := testKey(t), testKey(t)
	st := memStore{}
	prov := Attestation{"https://slsa.dev/provenance/v1", statement(t, "https://slsa.dev/provenance/v1", testDigest)}
	spdx := Attestation{"https://spdx.dev/Document", statement(t, "https://spdx.dev/Document", testDigest)}
	if err := (Signer{Key: key}).Attest(ctx, st, testDigest, []Attestation{prov}); err != nil {
		t.Fatal(err)
	}
	if err := (Signer{Key: other}).Attest(ctx, st, testDigest, []Attestation{spdx}); err != nil {
		t.Fatal(err)
	}
	a, err := Attested(ctx, st, &key.PublicKey, testDigest, "SLSA provenance", "https://slsa.dev/provenance/v0.2", prov.PredicateType)
	if err != nil || a.PredicateType != prov.PredicateType {
		t.Fatalf("provenance: %+v, %v", a, err)
	}
	_, err = Attested(ctx, st, &key.PublicKey, testDigest, "SPDX SBOM", spdx.PredicateType)
	if err == nil || !strings.Contains(err.Error(), testDigest+": no SPDX SBOM signed by this key (rejected: attestation layer 1 (https://spdx.dev/Document)") {
		t.Fatalf("SBOM signed by another key: %v", err)
	}
	if note := RejectedNote(nil); note != "" {
		t.Errorf("nothing rejected: %q", note)
	}
}
