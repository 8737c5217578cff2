package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/atomicfile"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/imageref"
	"github.com/spartan-images/spartan/internal/sbom"
)

func init() { commands = append(commands, newSBOMCmd) }

func newSBOMCmd(g *globals) *cobra.Command {
	var format, arch, output, name string
	var fromCache bool
	cmd := &cobra.Command{
		Use:   "sbom SRC",
		Short: "Write the SBOM (SPDX 2.3 or CycloneDX 1.6 JSON) of an image",
		Long: `Sbom reads an image — an OCI layout directory (spartan build --oci) or a docker
archive — and writes its software bill of materials to standard output (or --output). The
package set is the image's /var/lib/dpkg/status.d records, so it is exactly what scanners
see; licenses come from the copyright files, the distribution from /etc/os-release.
The .debs' SHA-256 digests are taken from the download cache when the packages there match
the image's records (name, version, architecture and md5sums). See docs/sbom.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := sbom.ParseFormat(format)
			if err != nil {
				return err
			}
			img, err := imageref.LoadImage(args[0], arch)
			if err != nil {
				return err
			}
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
	fl.StringVar(&arch, "arch", "", "architecture to pick from a multi-arch image (amd64, arm64…)")
	fl.StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	fl.StringVar(&name, "name", "", "image name for the document (default: the image's title annotation)")
	fl.BoolVar(&fromCache, "debs-from-cache", true, "look up the .debs' SHA-256 in the download cache (--cache)")
	return cmd
}

// writeSBOMFile writes atomically, so a reader never sees half a document.
func writeSBOMFile(path string, data []byte) error {
	return atomicfile.WriteBytes(path, 0o644, data)
}
