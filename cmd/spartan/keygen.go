package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/sign"
)

func newKeygenCmd(_ *globals) *cobra.Command {
	var prefix string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate a cosign-compatible signing key pair (PREFIX.key, PREFIX.pub)",
		Long: `Keygen writes an ECDSA P-256 key pair in cosign's format: PREFIX.key, encrypted with a
password (from $COSIGN_PASSWORD, else asked on the terminal) and readable only by you, and
PREFIX.pub to hand to verifiers (spartan verify --key, cosign verify --key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := sign.Password(true)
			if err != nil {
				return err
			}
			key, pub, err := sign.WriteKeyPair(prefix, pw, force)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Private key written to %s\nPublic key written to %s\n", key, pub)
			return err
		},
	}
	cmd.Flags().StringVar(&prefix, "output-key-prefix", "cosign", "file name prefix of the key pair")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing key files")
	return cmd
}
