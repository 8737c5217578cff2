package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/oci"
)

func newBuildCmd(g *globals) *cobra.Command {
	var variant, archs, layoutDir, archivePath, signKey, pushRef, vulnDB string
	var noLayerCache, locked bool
	var lockFile string
	cmd := &cobra.Command{
		Use:   "build SPEC",
		Short: "Build an image from a spec (an images/<name> folder or its spartan.yaml)",
		Long: `Build resolves the spec's packages against the signed Debian indexes, fetches and
verifies them, assembles deterministic layers and writes the image. The image (or index)
digest is the last line of standard output; logs and progress go to standard error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := g.options(args[0], variant, archs)
			if err != nil {
				return err
			}
			o.NoLayerCache = noLayerCache
			sc := &supplyChain{signKey: signKey, pushRef: pushRef, layoutDir: layoutDir, log: cmd.ErrOrStderr(),
				vulnDB: g.dbPath(vulnDB), vulnDBRequired: vulnDB != ""}
			if err := sc.prepare(); err != nil {
				return err
			}
			started := time.Now()
			out, err := buildMaybeLocked(cmd.Context(), o, locked, lockFile)
			if err != nil {
				return err
			}
			finished := time.Now()
			digest, err := out.Digest()
			if err != nil {
				return err
			}
			ref := ""
			if len(out.Tags) > 0 {
				ref = out.Tags[0]
			}
			if layoutDir != "" {
				if err := oci.WriteLayout(layoutDir, out.Artifact(), ref); err != nil {
					return fmt.Errorf("write OCI layout: %w", err)
				}
			}
			if archivePath != "" {
				if out.Index != nil {
					// podman refuses an oci-archive whose index names more than one image.
					err = oci.WriteOCIArchive(archivePath, out.Artifact(), out.Tags[:min(1, len(out.Tags))])
				} else {
					err = oci.WriteArchive(archivePath, out.Images[0].Image, out.Tags)
				}
				if err != nil {
					return fmt.Errorf("write archive: %w", err)
				}
			}
			if signKey != "" || pushRef != "" {
				if err := sc.run(cmd.Context(), o, out, started, finished); err != nil {
					return err
				}
			}
			for _, im := range out.Images {
				o.Log.Info("image", "arch", im.Plan.Arch, "digest", im.Digest, "packages", len(im.Plan.Result.Packages))
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), digest)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&variant, "variant", "", "variant of the spec to build (default: the base, runtime)")
	f.StringVar(&archs, "arch", "", "comma-separated Debian architectures, overriding the spec (e.g. amd64,arm64)")
	f.StringVar(&layoutDir, "oci", "", "write an OCI image layout to this directory")
	f.BoolVar(&locked, "locked", false, "build exactly what the spec's lock pins (spartan lock), without resolving; fails when the spec changed since")
	f.StringVar(&lockFile, "lockfile", "", "lock file to build from (implies --locked; default <spec dir>/spartan.lock.json)")
	f.BoolVar(&noLayerCache, "no-layer-cache", false, "assemble and compress again even when identical layers are cached")
	f.StringVar(&archivePath, "archive", "", "write an archive for `podman load -i` / `docker load -i` (docker-archive; oci-archive for multi-arch)")
	f.StringVar(&signKey, "sign-key", "", "sign the image with this cosign private key and attach its SBOMs and provenance (stored in --oci DIR and/or pushed with --push)")
	f.StringVar(&vulnDB, "vuln-db", "", "with --sign-key, also attach an OpenVEX attestation from this vulnerability database (default <cache dir>/vuln.db when it exists)")
	f.StringVar(&pushRef, "push", "", "push the image (with its signatures and attestations) to this registry reference")
	return cmd
}
