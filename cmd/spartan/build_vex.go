package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/vex"
	"github.com/spartan-images/spartan/internal/vuln"
)

// predicateOpenVEX is the predicate type `cosign attest --type openvex` uses: the OpenVEX
// context URL.
const predicateOpenVEX = vex.Context

// vexAttestations are OpenVEX documents about each built image, from the vulnerability database
// at dbPath: what the image is fixed for, not affected by (including the packages the profile
// cut), and still affected by. No database: none, unless required (--vuln-db given).
func vexAttestations(dbPath string, required bool, o build.Options, out *build.Output, when time.Time, log io.Writer) ([]sign.Attestation, error) {
	if dbPath == "" {
		return nil, nil
	}
	db, err := vuln.Open(dbPath)
	if errors.Is(err, vuln.ErrNoDatabase) && !required {
		fmt.Fprintf(log, "no VEX attestation: %v\n", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if o.Epoch != nil {
		when = *o.Epoch
	}
	name := o.ImageName()
	var atts []sign.Attestation
	for _, im := range out.Images {
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
		doc, err := vex.Build(db, inv, ms, vex.Options{Author: "spartan", Timestamp: when, Tooling: "spartan " + version, Cut: cuts})
		if err != nil {
			return nil, err
		}
		subject, err := attest.NewSubject(name, im.Digest)
		if err != nil {
			return nil, err
		}
		stmt, err := attest.Statement(predicateOpenVEX, doc, subject)
		if err != nil {
			return nil, err
		}
		atts = append(atts, sign.Attestation{PredicateType: predicateOpenVEX, Statement: stmt})
	}
	return atts, nil
}
