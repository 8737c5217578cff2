package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/rebuild"
	"github.com/spartan-images/spartan/internal/sign"
)

func newRebuildCmd(g *globals) *cobra.Command {
	var keyPath, specPath string
	var check bool
	cmd := &cobra.Command{
		Use:   "rebuild REF --key PUB --verify",
		Short: "Rebuild an image from its signed provenance and check the digest matches",
		Long: `Rebuild reads the SLSA provenance attached to REF (a registry reference or oci:DIR),
verifies its signature with --key, and builds again from what it records: the spec (whose
SHA-256 must match; found at the recorded path from the current git checkout or given with
--spec) and the exact .debs by URI and SHA-256 — nothing is resolved again. With --verify the
rebuilt digest must equal REF's, for every platform and for the index.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := sign.LoadPublicKey(keyPath)
			if err != nil {
				return err
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
			res, err := rebuild.Rebuild(cmd.Context(), t, rebuild.Options{Key: pub, Spec: specPath, Verify: check, Name: args[0], Log: cmd.ErrOrStderr(),
				BuildOptions: func(spec, variant string) (build.Options, error) { return g.options(spec, variant, "") }})
			if err != nil {
				return err
			}
			if check {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "reproduced %s\n", res.Digest)
			} else {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), res.Digest)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "public key that signed the provenance (cosign.pub)")
	cmd.Flags().StringVar(&specPath, "spec", "", "the spec file, when not at the recorded path in this checkout")
	cmd.Flags().BoolVar(&check, "verify", false, "fail unless the rebuilt digest equals REF's")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}
