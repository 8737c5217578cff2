package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/atomicfile"
	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/sbom"
	"github.com/spartan-images/spartan/internal/sign"
)

func newSBOMCmd(g *globals) *cobra.Command {
	var format, arch, output, name, keyPath string
	var fromCache bool
	cmd := &cobra.Command{
		Use:   "sbom SRC | sbom REF --key PUB",
		Short: "Write the SBOM (SPDX 2.3 or CycloneDX 1.6 JSON) of an image",
		Long: `Sbom reads an image — an OCI layout directory (spartan build --oci), an oci-archive or
docker-archive, or a registry reference; of a multi-arch index the host's platform unless
--arch names another — and writes its software bill of materials to standard output (or
--output). The package set is the image's /var/lib/dpkg/status.d records, so it is exactly
what scanners see; licenses come from the copyright files, the distribution from /etc/os-release.
The .debs' SHA-256 digests are taken from the download cache when the packages there match
the image's records (name, version, architecture and md5sums). See docs/sbom.md.

With --key, sbom prints the SBOM attached to REF (a registry reference or oci:DIR) instead,
once its attestation's signature verifies with the key and names the image as its subject.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := sbom.ParseFormat(format)
			if err != nil {
				return err
			}
			if keyPath != "" {
				out, err := attachedSBOM(cmd, args[0], arch, keyPath, f)
				if err != nil {
					return err
				}
				if output == "" || output == "-" {
					_, err = cmd.OutOrStdout().Write(out)
					return err
				}
				return writeSBOMFile(output, out)
			}
			src, img, err := openImage(cmd.Context(), cmd.ErrOrStderr(), args[0], arch)
			if err != nil {
				return err
			}
			defer src.Close()
			inv, err := sbom.Read(img)
			if err != nil {
				return fmt.Errorf("SBOM of %s: %w", args[0], err)
			}
			log := g.logger()
			for _, w := range inv.Warnings {
				log.Warn("dpkg record", "problem", w)
			}
			o := sbom.Options{Name: name, ToolVersion: version}
			if fromCache {
				c, err := cache.New(g.cacheDir)
				if err != nil {
					return fmt.Errorf("cache %s: %w", g.cacheDir, err)
				}
				if o.Debs, err = sbom.DebsFromCache(c, inv); err != nil {
					return err
				}
				log.Info("matched .debs in the download cache", "matched", len(o.Debs), "packages", len(inv.Packages), "cache", g.cacheDir)
			}
			out, err := sbom.Write(inv, f, o)
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			return writeSBOMFile(output, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "spdx", "spdx (SPDX 2.3 JSON) or cyclonedx (CycloneDX 1.6 JSON)")
	fl.StringVar(&keyPath, "key", "", "print the SBOM attached to REF, verified with this public key (cosign.pub)")
	fl.StringVar(&arch, "arch", "", "platform to take from a multi-arch image (amd64, arm64, linux/arm/v7…; default: the host's)")
	fl.StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	fl.StringVar(&name, "name", "", "image name for the document (default: the image's title annotation)")
	fl.BoolVar(&fromCache, "debs-from-cache", true, "look up the .debs' SHA-256 in the download cache (--cache)")
	return cmd
}

// writeSBOMFile writes atomically, so a reader never sees half a document.
func writeSBOMFile(path string, data []byte) error {
	return atomicfile.WriteBytes(path, 0o644, data)
}

// attachedSBOM fetches the signed SBOM attestation of ref's image (the host's or the --arch
// platform of an index) and returns its predicate: the SBOM document itself.
func attachedSBOM(cmd *cobra.Command, ref, arch, keyPath string, f sbom.Format) ([]byte, error) {
	pub, err := sign.LoadPublicKey(keyPath)
	if err != nil {
		return nil, err
	}
	src, img, err := openImage(cmd.Context(), cmd.ErrOrStderr(), ref, arch)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	t, err := src.Target()
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	digest := d.String()
	want := attest.PredicateSPDX
	if f == sbom.CycloneDX {
		want = attest.PredicateCycloneDX
	}
	a, err := sign.Attested(cmd.Context(), t.Store, pub, digest, want+" SBOM attestation", want)
	if err != nil {
		return nil, err
	}
	return append([]byte(a.Statement.Predicate), '\n'), nil
}
