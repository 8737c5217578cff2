package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/build"
)

func newResolveCmd(g *globals) *cobra.Command {
	var variant, archs string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "resolve SPEC",
		Short: "Print the packages a spec resolves to, with version, size and why each is there",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := g.options(args[0], variant, archs)
			if err != nil {
				return err
			}
			var rs []build.Resolution
			if build.IsAlpine(o.Spec) {
				rs, err = build.ResolveAlpine(cmd.Context(), o)
			} else {
				var plans []*build.Plan
				plans, err = build.Resolve(cmd.Context(), o)
				rs = build.Resolutions(plans)
			}
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rs)
			}
			return build.WriteResolutions(cmd.OutOrStdout(), rs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&variant, "variant", "", "variant of the spec")
	f.StringVar(&archs, "arch", "", "comma-separated Debian architectures, overriding the spec")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
