package main

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
)

func init() { commands = append(commands, newRebuildCmd) }

// recorded is what one platform image's signed provenance says about its build.
type recorded struct {
	digest  string
	plan    *build.Plan
	created time.Time
	spec    attest.SpecRef
	variant string
}

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
			ctx := cmd.Context()
			pub, err := sign.LoadPublicKey(keyPath)
			if err != nil {
				return err
			}
			src, err := openSource(ctx, args[0])
			if err != nil {
				return err
			}
			defer src.Close()
			t, err := src.Target()
			if err != nil {
				return err
			}
			digests, err := t.Children()
			if err != nil {
				return err
			}
			if digests == nil {
				digests = []string{t.Digest}
			}
			var recs []recorded
			for _, d := range digests {
				r, err := readProvenance(cmd, t, pub, d)
				if err != nil {
					return err
				}
				recs = append(recs, r)
			}
			first := recs[0]
			path := specPath
			if path == "" {
				path = locateSpec(first.spec.Path)
			}
			variant := first.variant
			if variant == "runtime" {
				variant = ""
			}
			o, err := g.options(path, variant, "")
			if err != nil {
				return fmt.Errorf("rebuild: the spec recorded as %s: %w (give it with --spec)", first.spec.Path, err)
			}
			if want := first.spec.Digest["sha256"]; o.Spec.Digest() != want {
				return fmt.Errorf("rebuild: %s has sha256 %s, the image was built from %s: check out the commit the provenance names", path, o.Spec.Digest(), want)
			}
			plans := make([]*build.Plan, len(recs))
			o.Archs = nil
			for i, r := range recs {
				// Each recorded image's creation time is the epoch its files were clamped to.
				r.plan.Epoch = &recs[i].created
				plans[i] = r.plan
				o.Archs = append(o.Archs, r.plan.Arch)
			}
			out, err := build.BuildPlans(ctx, o, plans)
			if err != nil {
				return fmt.Errorf("rebuild: %w", err)
			}
			got, err := out.Digest()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for i, im := range out.Images {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: rebuilt %s, recorded %s\n", im.Plan.Arch, im.Digest, recs[i].digest)
				if check && im.Digest != recs[i].digest {
					return fmt.Errorf("rebuild --verify: %s image is %s, not %s: the build is not reproducible here", im.Plan.Arch, im.Digest, recs[i].digest)
				}
			}
			if check && got != t.Digest {
				return fmt.Errorf("rebuild --verify: rebuilt %s, %s is %s", got, args[0], t.Digest)
			}
			if check {
				_, err = fmt.Fprintf(w, "reproduced %s\n", got)
			} else {
				_, err = fmt.Fprintln(w, got)
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

// readProvenance returns the verified SLSA provenance of one platform image.
func readProvenance(cmd *cobra.Command, t *registry.Target, pub *ecdsa.PublicKey, digest string) (recorded, error) {
	r := recorded{digest: digest}
	atts, rejected, err := sign.VerifyAttestations(cmd.Context(), t.Store, pub, digest)
	if err != nil {
		return r, err
	}
	for _, a := range atts {
		if a.PredicateType != attest.PredicateSLSA {
			continue
		}
		var p attest.Provenance
		if err := json.Unmarshal(a.Statement.Predicate, &p); err != nil {
			return r, fmt.Errorf("%s: provenance: %w", digest, err)
		}
		if r.plan, err = build.PlanFromProvenance(&p); err != nil {
			return r, fmt.Errorf("%s: %w", digest, err)
		}
		r.spec = p.BuildDefinition.ExternalParameters.Spec
		r.variant = p.BuildDefinition.ExternalParameters.Variant
		img, err := t.Image(digest)
		if err != nil {
			return r, err
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return r, fmt.Errorf("%s: config: %w", digest, err)
		}
		r.created = cfg.Created.Time
		return r, nil
	}
	why := ""
	if len(rejected) > 0 {
		why = " (rejected: " + strings.Join(rejected, "; ") + ")"
	}
	return r, fmt.Errorf("%s: no SLSA provenance signed by this key%s", digest, why)
}

// locateSpec finds a recorded spec path: relative to the top of the current git checkout when
// there is one, else to the working directory.
func locateSpec(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err == nil {
		return filepath.Join(strings.TrimSpace(string(top)), p)
	}
	return p
}
