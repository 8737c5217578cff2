package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/atomicfile"
	"github.com/spartan-images/spartan/internal/policy"
)

func newPolicyCmd(_ *globals) *cobra.Command {
	var keyPath, output, engine string
	var o policy.Options
	cmd := &cobra.Command{
		Use:   "policy --key cosign.pub",
		Short: "Write Kubernetes admission policies requiring Spartan's signature and SLSA provenance",
		Long: `Policy writes admission policies that admit a Pod only when its images are signed with
the key's private half and carry a signed SLSA provenance attestation (predicate type
https://slsa.dev/provenance/v1) whose builder is Spartan: two sigstore policy-controller
ClusterImagePolicies (one for the signature, one for the provenance; every matching policy
must pass) and a Kyverno ClusterPolicy (verifyImages with attestors and attestations,
digests pinned). Signatures are checked against the key alone, without a transparency log,
as Spartan signs. --images takes policy-controller globs (* within a path segment, ** across
them; Kyverno gets ** as *). The YAML goes to standard output, or to --output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, err := os.ReadFile(keyPath)
			if err != nil {
				return fmt.Errorf("read public key: %w", err)
			}
			o.PublicKey = pub
			out, err := policy.Write(o, engine)
			if err != nil {
				return fmt.Errorf("policy for %s: %w", keyPath, err)
			}
			if output == "" {
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			return atomicfile.WriteBytes(output, 0o644, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "public key file (cosign.pub) the images must be signed with")
	f.StringArrayVar(&o.Images, "images", nil, "image reference glob the policies apply to, e.g. registry.example.com/spartan/** (repeatable; default: all images, "+policy.AllImages+")")
	f.StringVar(&o.Name, "name", policy.DefaultName, "name of the policies (the ClusterImagePolicies get -signature and -provenance)")
	f.BoolVar(&o.Warn, "warn", false, "admit failing images with a warning (policy-controller mode warn, Kyverno Audit) instead of refusing them")
	f.StringVar(&engine, "engine", "all", "which admission controller: "+policy.EnginePolicyController+", "+policy.EngineKyverno+" or all")
	f.StringVarP(&output, "output", "o", "", "write the YAML to this file instead of standard output")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}
