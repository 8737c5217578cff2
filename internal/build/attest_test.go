package build

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/attest"
)

func TestDocuments(t *testing.T) {
	srv, repo := fakeArchive(t, "1.0")
	s := writeSpec(t, t.TempDir(), srv.URL, repo)
	o := options(t, s, t.TempDir())
	started := time.Now()
	out, err := Build(context.Background(), o)
	must(t, err)
	img := out.Images[0]
	docs, err := o.Documents(img, started, time.Now())
	must(t, err)

	if docs.Subject.Name != "example/app:1" || "sha256:"+docs.Subject.Digest["sha256"] != img.Digest {
		t.Errorf("subject %+v, image %s", docs.Subject, img.Digest)
	}
	for _, p := range img.Plan.Result.Packages {
		if !strings.Contains(string(docs.SPDX), p.Pkg.SHA256) || !strings.Contains(string(docs.CycloneDX), p.Pkg.SHA256) {
			t.Errorf("SBOMs lack the .deb digest of %s", p.Pkg.Name)
		}
	}

	var st struct {
		Subject   []attest.Subject
		Predicate attest.Provenance
	}
	must(t, json.Unmarshal(docs.Provenance, &st))
	bd := st.Predicate.BuildDefinition
	if bd.ExternalParameters.Spec.Digest["sha256"] != s.Digest() || bd.ExternalParameters.Arch != "amd64" ||
		bd.ExternalParameters.Variant != "runtime" || bd.InternalParameters.Profile != "runtime" || bd.InternalParameters.SpartanVersion != "test" {
		t.Errorf("parameters %+v %+v", bd.ExternalParameters, bd.InternalParameters)
	}
	deps := map[string]attest.ResourceDescriptor{}
	for _, d := range bd.ResolvedDependencies {
		deps[d.Name+d.URI] = d
	}
	for _, r := range img.Plan.Releases {
		if d, ok := deps[r.URL]; !ok || d.Digest["sha256"] != r.SHA256 {
			t.Errorf("InRelease %s missing or wrong: %+v", r.URL, d)
		}
	}
	for _, p := range img.Plan.Result.Packages {
		name := p.Pkg.Name + "_" + p.Pkg.Version + "_" + p.Pkg.Architecture + ".deb"
		if d, ok := deps[name+p.Pkg.URL()]; !ok || d.Digest["sha256"] != p.Pkg.SHA256 {
			t.Errorf(".deb %s missing or wrong", name)
		}
	}
	if _, ok := deps["certificates/extra.pem"]; !ok {
		t.Errorf("the spec's certificate file is not a resolved dependency: %v", deps)
	}
	if len(st.Predicate.RunDetails.Byproducts) != 2 {
		t.Errorf("byproducts %+v", st.Predicate.RunDetails.Byproducts)
	}

	atts, err := docs.Attestations()
	must(t, err)
	var types []string
	for _, a := range atts {
		types = append(types, a.PredicateType)
		var s attest.InTotoStatement
		must(t, json.Unmarshal(a.Statement, &s))
		if s.Type != attest.StatementType || s.PredicateType != a.PredicateType || s.Subject[0].Digest["sha256"] != docs.Subject.Digest["sha256"] {
			t.Errorf("statement %s: %+v", a.PredicateType, s)
		}
	}
	if got := strings.Join(types, " "); got != attest.PredicateSLSA+" "+attest.PredicateSPDX+" "+attest.PredicateCycloneDX {
		t.Errorf("predicate types %s", got)
	}
}
