package attest

import (
	"fmt"
	"strings"
	"time"
)

// RebaseBuildType is the buildType of an image made by `spartan rebase`: an application's
// own layers moved from one base onto another, nothing built. docs/provenance.md describes it.
const RebaseBuildType = "https://github.com/spartan-images/spartan/buildtypes/rebase/v1"

// Image names an image by reference and manifest digest ("sha256:…").
type Image struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// Rebase is everything the provenance of a rebased image records.
type Rebase struct {
	Subject               Subject
	App, OldBase, NewBase Image // the application as it was, the base it was on, the base it is on now
	Platform              string
	SpartanVersion        string
	SBOMs                 []ResourceDescriptor // byproducts
	Started, Finished     time.Time
	InvocationID          string // "" → a random UUID
}

// RebaseProvenance is the SLSA Provenance v1 predicate of a rebase: the same outer shape as
// a build's, with the rebase's own parameters.
type RebaseProvenance struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			Application Image  `json:"application"`
			OldBase     Image  `json:"oldBase"`
			NewBase     Image  `json:"newBase"`
			Platform    string `json:"platform"`
		} `json:"externalParameters"`
		InternalParameters struct {
			SpartanVersion string `json:"spartanVersion"`
		} `json:"internalParameters"`
		ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails RunDetails `json:"runDetails"`
}

// Predicate builds the SLSA predicate; the three images are also its resolved dependencies,
// by digest, so that a policy written against dependencies sees them.
func (r Rebase) Predicate() (*RebaseProvenance, error) {
	for what, im := range map[string]Image{"application": r.App, "old base": r.OldBase, "new base": r.NewBase} {
		if !strings.Contains(im.Digest, ":") {
			return nil, fmt.Errorf("rebase provenance: the %s %s has no digest", what, im.Name)
		}
	}
	id := r.InvocationID
	if id == "" {
		id = randomUUID()
	}
	p := &RebaseProvenance{}
	bd := &p.BuildDefinition
	bd.BuildType = RebaseBuildType
	bd.ExternalParameters.Application, bd.ExternalParameters.OldBase, bd.ExternalParameters.NewBase = r.App, r.OldBase, r.NewBase
	bd.ExternalParameters.Platform = r.Platform
	bd.InternalParameters.SpartanVersion = r.SpartanVersion
	for _, x := range []struct {
		role string
		im   Image
	}{{"application", r.App}, {"oldBase", r.OldBase}, {"newBase", r.NewBase}} {
		alg, hex, _ := strings.Cut(x.im.Digest, ":")
		bd.ResolvedDependencies = append(bd.ResolvedDependencies, ResourceDescriptor{
			Name: x.role, URI: x.im.Name, Digest: map[string]string{alg: hex}})
	}
	p.RunDetails = RunDetails{
		Builder:    Builder{ID: BuilderID},
		Metadata:   BuildMetadata{InvocationID: id, StartedOn: utc(r.Started), FinishedOn: utc(r.Finished)},
		Byproducts: sortedDescriptors(r.SBOMs),
	}
	if r.SpartanVersion != "" {
		p.RunDetails.Builder.Version = map[string]string{"spartan": r.SpartanVersion}
	}
	return p, nil
}

// Statement is the provenance wrapped in an in-toto statement about r.Subject.
func (r Rebase) Statement() ([]byte, error) {
	p, err := r.Predicate()
	if err != nil {
		return nil, err
	}
	return Statement(PredicateSLSA, p, r.Subject)
}

// String is name@digest, or the name when it already holds the digest.
func (i Image) String() string {
	if strings.HasSuffix(i.Name, "@"+i.Digest) {
		return i.Name
	}
	return i.Name + "@" + i.Digest
}
