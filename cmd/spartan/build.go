package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
)

func newBuildCmd(g *globals) *cobra.Command {
	var variant, archs, layoutDir, archivePath, signKey, pushRef, vulnDB string
	var noLayerCache, locked, skipExisting bool
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
			po := publish.Options{Layout: layoutDir, Archive: archivePath, Log: cmd.ErrOrStderr(),
				VulnDB: g.dbPath(vulnDB), VulnDBRequired: vulnDB != "", Client: registry.New("spartan/" + version)}
			// The key is unlocked before the build, so that a typo or a wrong password fails in a
			// second rather than after the build.
			if signKey != "" {
				if layoutDir == "" && pushRef == "" {
					return errors.New("--sign-key needs somewhere to store the signatures: --oci DIR or --push REF")
				}
				if po.Signer, err = publish.LoadKey(signKey); err != nil {
					return err
				}
			}
			if pushRef != "" {
				if po.Ref, err = registry.ParseReference(pushRef); err != nil {
					return fmt.Errorf("--push: %w", err)
				}
			}
			if skipExisting {
				if po.Ref == nil {
					return errors.New("--skip-existing needs --push REF")
				}
				p, err := po.Client.Check(cmd.Context(), po.Ref)
				if err != nil {
					return err
				}
				if p.Complete() {
					o.Log.Warn("already in the registry: nothing to build", "ref", pushRef)
					_, err = fmt.Fprintln(cmd.OutOrStdout(), p.Digest)
					return err
				}
				if p.Digest != "" {
					o.Log.Warn("in the registry but incomplete: building it again", "ref", pushRef, "missing", p.Missing())
				}
			}
			b := publish.Built{Options: o, Started: time.Now()}
			if b.Output, err = buildMaybeLocked(cmd.Context(), o, locked, lockFile); err != nil {
				return err
			}
			b.Finished = time.Now()
			res, err := publish.Publish(cmd.Context(), b, po)
			if err != nil {
				return err
			}
			for _, im := range b.Output.Images {
				o.Log.Info("image", "arch", im.Plan.Arch, "digest", im.Digest, "packages", im.Plan.PackageCount())
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), res.Digest)
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
	f.BoolVar(&skipExisting, "skip-existing", false, "with --push: when REF already exists with all its blobs (a plan's key tag), print its digest and build nothing")
	f.StringVar(&pushRef, "push", "", "push the image (with its signatures and attestations) to this registry reference")
	return cmd
}
