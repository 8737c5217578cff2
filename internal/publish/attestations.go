package publish

import (
	"fmt"
	"io"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/vex"
	"github.com/spartan-images/spartan/internal/vuln"
)

// PredicateOpenVEX is the predicate type `cosign attest --type openvex` uses: the OpenVEX
// context URL.
const PredicateOpenVEX = vex.Context

// Attestations are the in-toto statements about each built image (for a multi-arch build,
// about the platform images, and the index's own SLSA provenance, so that the tag users pull
// carries one): SBOMs (SPDX, CycloneDX), SLSA provenance and, with a
// vulnerability database at vulnDB, OpenVEX — what the image is fixed for, not affected by
// (including the packages the profile cut), and still affected by. A missing database is
// noted on log and skipped, unless required.
func Attestations(b Built, vulnDB string, required bool, log io.Writer) ([]sign.Attestation, error) {
	var atts []sign.Attestation
	for _, im := range b.Output.Images {
		docs, err := b.Options.Documents(im, b.Started, b.Finished)
		if err != nil {
			return nil, err
		}
		stmts, err := docs.Attestations()
		if err != nil {
			return nil, err
		}
		atts = append(atts, stmts...)
	}
	if b.Output.Index != nil {
		p, err := b.Options.IndexProvenance(b.Output, b.Started, b.Finished)
		if err != nil {
			return nil, err
		}
		atts = append(atts, sign.Attestation{PredicateType: p.PredicateType, Statement: p.Statement})
	}
	if vulnDB == "" {
		return atts, nil
	}
	db, err := vuln.OpenOptional(vulnDB, required, func(missing error) { fmt.Fprintf(log, "no VEX attestation: %v\n", missing) })
	if err != nil || db == nil {
		return atts, err
	}
	defer db.Close()
	vexAtts, err := vexAttestations(db, b)
	return append(atts, vexAtts...), err
}

func vexAttestations(db *vuln.DB, b Built) ([]sign.Attestation, error) {
	when := b.Finished
	if b.Options.Epoch != nil {
		when = *b.Options.Epoch
	}
	name := b.Options.ImageName()
	var atts []sign.Attestation
	for _, im := range b.Output.Images {
		inv, err := scan.FromImage(im.Image, name)
		if err != nil {
			return nil, fmt.Errorf("VEX for %s (%s): %w", name, im.Plan.Arch, err)
		}
		ms, err := scan.Matches(db, inv)
		if err != nil {
			return nil, err
		}
		var cuts []string
		if im.Plan.Result != nil {
			for _, c := range im.Plan.Result.Cuts {
				cuts = append(cuts, c.To)
			}
		}
		doc, err := vex.Build(db, inv, ms, vex.Options{Author: "spartan", Timestamp: when, Tooling: "spartan " + b.Options.Version, Cut: cuts})
		if err != nil {
			return nil, err
		}
		subject, err := attest.NewSubject(name, im.Digest)
		if err != nil {
			return nil, err
		}
		stmt, err := attest.Statement(PredicateOpenVEX, doc, subject)
		if err != nil {
			return nil, err
		}
		atts = append(atts, sign.Attestation{PredicateType: PredicateOpenVEX, Statement: stmt})
	}
	return atts, nil
}
