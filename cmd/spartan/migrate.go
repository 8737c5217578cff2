package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/migrate"
)

func newMigrateCmd(_ *globals) *cobra.Command {
	var write bool
	cmd := &cobra.Command{
		Use:   "migrate DOCKERFILE",
		Short: "Rewrite a Dockerfile's FROM lines to Spartan images and warn about what will break",
		Long: `Migrate maps the FROM lines of common official images (python, node, eclipse-temurin and
openjdk, nginx, debian, distroless) to Spartan's: build stages (stages other stages copy from
or start FROM) get the -dev image, the final stage the runtime image. golang build stages
stay; a final stage that only runs a CGO_ENABLED=0 Go binary gets spartan/static.

It prints a unified diff on standard output and warnings on standard error: RUN, SHELL and
shell-form CMD/ENTRYPOINT/HEALTHCHECK in the final stage (no shell), HEALTHCHECKs calling
curl or wget, USER root or accounts the image does not have, EXPOSE of ports below 1024
(nonroot cannot bind them), versions Spartan does not ship. --write replaces the file.`,
		Example: `  spartan migrate Dockerfile            # show the diff and warnings
  spartan migrate Dockerfile --write    # apply it`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := migrate.File(args[0], write)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprint(cmd.OutOrStdout(), r.Diff(args[0])); err != nil {
				return err
			}
			errw := cmd.ErrOrStderr()
			for _, w := range r.Warnings {
				fmt.Fprintf(errw, "%s:%d: warning: %s\n", args[0], w.Line, w.Message)
			}
			switch {
			case len(r.Changes) == 0:
				fmt.Fprintf(errw, "%s: no FROM line to migrate\n", args[0])
			case write:
				fmt.Fprintf(errw, "%s: %d FROM line(s) migrated\n", args[0], len(r.Changes))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&write, "write", false, "replace the Dockerfile with the migrated one")
	return cmd
}
