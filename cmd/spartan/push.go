package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/registry"
)

func newPushCmd(_ *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "push SRC REF",
		Short: "Push an OCI layout or archive, with its signatures and attestations, to a registry",
		Long: `Push sends SRC (an OCI layout directory, an oci-archive or a docker-archive) to REF, with
the signature and attestation images stored in the layout (sha256-<hex>.sig/.att) under the
same tags in REF's repository. Only blobs the registry lacks are uploaded. Credentials come
from docker's config and podman's auth.json; registries on localhost/127.0.0.1 are spoken to
over plain HTTP. The pushed digest is the last line of standard output.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := openSource(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer src.Close()
			atts, err := src.Attachments(cmd.Context())
			if err != nil {
				return err
			}
			ref, err := registry.ParseReference(args[1])
			if err != nil {
				return err
			}
			c := registry.New("spartan/" + version)
			d, st, err := c.Push(cmd.Context(), &registry.Source{Artifact: src.Artifact, Attachments: atts}, ref)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "pushed %s (%d attachments): %s\n", ref, len(atts), st)
			_, err = fmt.Fprintln(cmd.OutOrStdout(), d)
			return err
		},
	}
}
