package sign

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"slices"
	"strings"
)

// VerifySignature checks that digest's .sig image holds at least one signature that verifies
// with pub and whose payload names digest. The error explains what was found instead.
func VerifySignature(ctx context.Context, st Store, pub *ecdsa.PublicKey, digest string) error {
	t, err := SignatureTag(digest)
	if err != nil {
		return err
	}
	img, err := st.Image(ctx, t)
	if err != nil {
		return fmt.Errorf("read signatures %s: %w", t, err)
	}
	if img == nil {
		return fmt.Errorf("%s is not signed: no %s", digest, t)
	}
	entries, err := Entries(img)
	if err != nil {
		return fmt.Errorf("read signatures %s: %w", t, err)
	}
	var why []string
	for i, e := range entries {
		if e.MediaType != SimpleSigningMediaType {
			continue
		}
		if err := VerifyBlob(pub, e.Payload, e.Annotations[AnnotationSignature]); err != nil {
			why = append(why, fmt.Sprintf("layer %d: %v", i, err))
			continue
		}
		d, err := PayloadDigest(e.Payload)
		if err != nil {
			why = append(why, fmt.Sprintf("layer %d: %v", i, err))
			continue
		}
		if d != digest {
			why = append(why, fmt.Sprintf("layer %d: signed digest %s is not %s", i, d, digest))
			continue
		}
		return nil
	}
	if len(why) == 0 {
		return fmt.Errorf("%s: no signatures in %s", digest, t)
	}
	return fmt.Errorf("%s: no valid signature: %s", digest, strings.Join(why, "; "))
}

// Verified is an attestation whose envelope verified and whose statement is about the digest.
type Verified struct {
	PredicateType string
	Statement     *Statement
	Raw           []byte
}

// VerifyAttestations returns digest's attestations that verify with pub and name digest as a
// subject, and the reasons the others were rejected. Like cosign, an attestation that does not
// verify is skipped rather than fatal: other parties may attest the same image with their
// keys. Callers decide which predicate types they require.
func VerifyAttestations(ctx context.Context, st Store, pub *ecdsa.PublicKey, digest string) ([]Verified, []string, error) {
	t, err := AttestationTag(digest)
	if err != nil {
		return nil, nil, err
	}
	img, err := st.Image(ctx, t)
	if err != nil {
		return nil, nil, fmt.Errorf("read attestations %s: %w", t, err)
	}
	if img == nil {
		return nil, nil, nil
	}
	entries, err := Entries(img)
	if err != nil {
		return nil, nil, fmt.Errorf("read attestations %s: %w", t, err)
	}
	var ok []Verified
	var rejected []string
	for i, e := range entries {
		if e.MediaType != DSSEMediaType {
			continue
		}
		pt := e.Annotations[AnnotationPredicateType]
		raw, err := VerifyEnvelope(pub, e.Payload)
		if err == nil {
			var s *Statement
			if s, err = ParseStatement(raw); err == nil {
				switch {
				case !s.About(digest):
					err = fmt.Errorf("statement subjects do not include %s", digest)
				case pt != "" && pt != s.PredicateType:
					err = fmt.Errorf("annotated as %s but the signed statement is %s", pt, s.PredicateType)
				default:
					ok = append(ok, Verified{PredicateType: s.PredicateType, Statement: s, Raw: raw})
					continue
				}
			}
		}
		rejected = append(rejected, fmt.Sprintf("attestation layer %d (%s): %v", i, pt, err))
	}
	return ok, rejected, nil
}

// Attested returns digest's first attestation verified with pub whose predicate type is one
// of types; what names it in the error when there is none ("SLSA provenance"), with the
// reasons the others were rejected.
func Attested(ctx context.Context, st Store, pub *ecdsa.PublicKey, digest, what string, types ...string) (Verified, error) {
	atts, rejected, err := VerifyAttestations(ctx, st, pub, digest)
	if err != nil {
		return Verified{}, err
	}
	for _, a := range atts {
		if slices.Contains(types, a.PredicateType) {
			return a, nil
		}
	}
	return Verified{}, fmt.Errorf("%s: no %s signed by this key%s", digest, what, RejectedNote(rejected))
}

// RejectedNote says why attestations were rejected, for an error about a missing one: ""
// when none were.
func RejectedNote(rejected []string) string {
	if len(rejected) == 0 {
		return ""
	}
	return " (rejected: " + strings.Join(rejected, "; ") + ")"
}
