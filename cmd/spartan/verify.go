package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/verify"
)

func newVerifyCmd(_ *globals) *cobra.Command {
	var keyPath, require string
	cmd := &cobra.Command{
		Use:   "verify REF",
		Short: "Verify an image's signature and attestations with a public key",
		Long: `Verify checks that REF (a registry reference or oci:DIR) is signed with the key's
private half — the index and every platform image — and, with --require, that signed
attestations of those kinds are attached and about this very image: sbom (SPDX or
CycloneDX; its packages must equal the image's installed packages), spdx, cyclonedx,
provenance (SLSA), or any predicate type URI. For a multi-arch index, provenance is
required of the index itself too (the tag users pull), SBOMs of the platform images only.
It exits non-zero with the reason otherwise.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := sign.LoadPublicKey(keyPath)
			if err != nil {
				return err
			}
			var req []string
			if require != "" {
				req = strings.Split(require, ",")
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
			rep, err := verify.Verify(cmd.Context(), t, verify.Policy{Key: pub, Require: req})
			if rep != nil {
				for _, l := range rep.Lines {
					fmt.Fprintln(cmd.ErrOrStderr(), l)
				}
			}
			if err != nil {
				return fmt.Errorf("verify %s: %w", args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "verified %s\n", t.Digest)
			return err
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "public key file (cosign.pub)")
	cmd.Flags().StringVar(&require, "require", "", "comma-separated attestations that must be present: sbom, spdx, cyclonedx, provenance, or predicate type URIs")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}
