package registry

import (
	"context"
	"fmt"

	"github.com/spartan-images/spartan/internal/sign"
)

// Sign signs the target and, for an index, each of its platform images (a verifier may be
// handed either digest), and attaches the attestations to the digests they are about.
func (t *Target) Sign(ctx context.Context, s sign.Signer, atts []sign.Attestation) error {
	children, err := t.Children()
	if err != nil {
		return err
	}
	digests := append([]string{t.Digest}, children...)
	for _, d := range digests {
		if err := s.Sign(ctx, t.Store, t.Repo, d); err != nil {
			return fmt.Errorf("sign %s: %w", d, err)
		}
	}
	byDigest := map[string][]sign.Attestation{}
	for _, a := range atts {
		st, err := sign.ParseStatement(a.Statement)
		if err != nil {
			return fmt.Errorf("attestation %s: %w", a.PredicateType, err)
		}
		about := 0
		for _, d := range digests {
			if st.About(d) {
				byDigest[d] = append(byDigest[d], a)
				about++
			}
		}
		if about == 0 {
			return fmt.Errorf("attestation %s is about none of %v", a.PredicateType, digests)
		}
	}
	for _, d := range digests {
		if err := s.Attest(ctx, t.Store, d, byDigest[d]); err != nil {
			return fmt.Errorf("attest %s: %w", d, err)
		}
	}
	return nil
}
