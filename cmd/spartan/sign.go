package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/sign"
)

func newSignCmd(_ *globals) *cobra.Command {
	var keyPath string
	var attest []string
	cmd := &cobra.Command{
		Use:   "sign REF",
		Short: "Sign an image or index (in a registry, or oci:DIR) in cosign's format",
		Long: `Sign signs REF's digest (and, for an index, each platform image) with a cosign key and
stores the signatures as cosign does: an image tagged sha256-<hex>.sig next to it. REF is a
registry reference (the signatures are pushed there) or oci:DIR, an OCI layout (they are
stored in the layout, to be pushed with it by spartan push).

--attest FILE attaches an in-toto statement (JSON), signed into a DSSE envelope, to the
digests its subjects name (tag sha256-<hex>.att).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := sign.LoadPrivateKey(keyPath, func() ([]byte, error) { return sign.Password(false) })
			if err != nil {
				return err
			}
			var atts []sign.Attestation
			for _, f := range attest {
				data, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("--attest: %w", err)
				}
				st, err := sign.ParseStatement(data)
				if err != nil {
					return fmt.Errorf("--attest %s: %w", f, err)
				}
				atts = append(atts, sign.Attestation{PredicateType: st.PredicateType, Statement: data})
			}
			src, err := openSource(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer src.Close()
			t, err := src.Target()
			if err != nil {
				return err
			}
			if err := t.Sign(cmd.Context(), sign.Signer{Key: key}, atts); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "signed %s\n", t.Digest)
			return err
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "private key file (cosign.key)")
	cmd.Flags().StringArrayVar(&attest, "attest", nil, "in-toto statement JSON file to attach; repeatable")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}
