package attest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	provenancepb "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intotopb "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const hexA = "5e8e5a911c47da4bc921ae616adb8bf08f75c54312662beda042ba4549294ef5"

func sampleBuild(t *testing.T) Build {
	sub, err := NewSubject("example.com/spartan/python:3.13", "sha256:"+hexA)
	must(t, err)
	return Build{
		Subject:        sub,
		SpecPath:       "images/python/spartan.yaml",
		SpecSHA256:     strings.Repeat("1", 64),
		Variant:        "runtime",
		Arch:           "amd64",
		Source:         &Source{Repository: "https://example.com/org/images.git", Commit: strings.Repeat("a", 40)},
		SpartanVersion: "0.1.0",
		Profile:        "runtime",
		Releases: []ResourceDescriptor{
			{URI: "http://mirror.invalid/debian/dists/trixie-updates/InRelease", Digest: map[string]string{"sha256": strings.Repeat("3", 64)}},
			{URI: "http://mirror.invalid/debian/dists/trixie/InRelease", Digest: map[string]string{"sha256": strings.Repeat("2", 64)}},
		},
		Packages: []ResourceDescriptor{
			{Name: "zlib1g_1.3.dfsg-3.1_amd64.deb", URI: "http://mirror.invalid/debian/pool/main/z/zlib/zlib1g_1.3.dfsg-3.1_amd64.deb", Digest: map[string]string{"sha256": strings.Repeat("4", 64)}},
			{Name: "libc6_2.41-12_amd64.deb", URI: "http://mirror.invalid/debian/pool/main/g/glibc/libc6_2.41-12_amd64.deb", Digest: map[string]string{"sha256": strings.Repeat("5", 64)}},
		},
		SBOMs:    []ResourceDescriptor{{Name: "sbom.spdx.json", MediaType: "application/spdx+json", Digest: map[string]string{"sha256": strings.Repeat("6", 64)}}},
		Started:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Finished: time.Date(2026, 1, 2, 3, 4, 9, 0, time.UTC),
	}
}

// The statement must parse with the in-toto project's own (protobuf) types, which reject
// unknown fields, and pass their validation: field names and shapes are right.
func TestProvenanceParsesWithInTotoTypes(t *testing.T) {
	out, err := sampleBuild(t).Statement()
	must(t, err)
	var st intotopb.Statement
	must(t, protojson.Unmarshal(out, &st))
	must(t, st.Validate())
	if st.GetPredicateType() != PredicateSLSA || st.GetSubject()[0].GetDigest()["sha256"] != hexA {
		t.Fatalf("statement %v", &st)
	}
	pj, err := protojson.Marshal(st.GetPredicate())
	must(t, err)
	var prov provenancepb.Provenance
	must(t, protojson.Unmarshal(pj, &prov))
	must(t, prov.Validate())
	bd := prov.GetBuildDefinition()
	if bd.GetBuildType() != BuildType || prov.GetRunDetails().GetBuilder().GetId() != BuilderID {
		t.Errorf("buildType %s builder %s", bd.GetBuildType(), prov.GetRunDetails().GetBuilder().GetId())
	}
	deps := bd.GetResolvedDependencies()
	var names []string
	for _, d := range deps {
		names = append(names, d.GetName()+"|"+filepath.Base(d.GetUri()))
	}
	want := "|InRelease |InRelease libc6_2.41-12_amd64.deb|libc6_2.41-12_amd64.deb zlib1g_1.3.dfsg-3.1_amd64.deb|zlib1g_1.3.dfsg-3.1_amd64.deb"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("resolvedDependencies order\n got %s\nwant %s", got, want)
	}
	ext := bd.GetExternalParameters().AsMap()
	spec := ext["spec"].(map[string]any)
	if spec["path"] != "images/python/spartan.yaml" || spec["digest"].(map[string]any)["sha256"] != strings.Repeat("1", 64) ||
		ext["arch"] != "amd64" || ext["source"].(map[string]any)["commit"] != strings.Repeat("a", 40) {
		t.Errorf("externalParameters %v", ext)
	}
	in := bd.GetInternalParameters().AsMap()
	if in["spartanVersion"] != "0.1.0" || in["profile"] != "runtime" {
		t.Errorf("internalParameters %v", in)
	}
	md := prov.GetRunDetails().GetMetadata()
	if md.GetStartedOn().AsTime() != sampleBuild(t).Started || md.GetFinishedOn().AsTime().Sub(md.GetStartedOn().AsTime()) != 4*time.Second {
		t.Errorf("metadata %v", md)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(md.GetInvocationId()) {
		t.Errorf("invocationId %q", md.GetInvocationId())
	}
	if bp := prov.GetRunDetails().GetByproducts(); len(bp) != 1 || bp[0].GetMediaType() != "application/spdx+json" {
		t.Errorf("byproducts %v", bp)
	}
}

func TestProvenanceWithoutSourceOmitsIt(t *testing.T) {
	b := sampleBuild(t)
	b.Source = nil
	out, err := b.Statement()
	must(t, err)
	if strings.Contains(string(out), `"source"`) {
		t.Errorf("source present without a checkout: %s", out)
	}
	b.SpecSHA256 = ""
	if _, err := b.Statement(); err == nil {
		t.Error("a provenance without the spec digest was accepted")
	}
}

// TestIndexProvenance: an index's provenance names its architectures instead of one, lists its
// platform images first, and still parses with the in-toto project's types; one architecture
// and a list at once, or neither, is refused.
func TestIndexProvenance(t *testing.T) {
	b := sampleBuild(t)
	b.Arch, b.Archs = "", []string{"amd64", "arm64"}
	b.Images = []ResourceDescriptor{
		{Name: "linux/arm64", MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: map[string]string{"sha256": strings.Repeat("b", 64)}},
		{Name: "linux/amd64", MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: map[string]string{"sha256": strings.Repeat("c", 64)}},
	}
	out, err := b.Statement()
	must(t, err)
	var st intotopb.Statement
	must(t, protojson.Unmarshal(out, &st))
	must(t, st.Validate())
	pj, err := protojson.Marshal(st.GetPredicate())
	must(t, err)
	var prov provenancepb.Provenance
	must(t, protojson.Unmarshal(pj, &prov))
	must(t, prov.Validate())
	ext := prov.GetBuildDefinition().GetExternalParameters().AsMap()
	if _, ok := ext["arch"]; ok || len(ext["archs"].([]any)) != 2 {
		t.Errorf("externalParameters %v", ext)
	}
	deps := prov.GetBuildDefinition().GetResolvedDependencies()
	if deps[0].GetName() != "linux/amd64" || deps[1].GetName() != "linux/arm64" || !strings.HasSuffix(deps[2].GetUri(), "InRelease") {
		t.Errorf("resolvedDependencies begin %v %v %v", deps[0], deps[1], deps[2])
	}
	for _, bad := range []struct {
		arch  string
		archs []string
	}{{"amd64", []string{"amd64", "arm64"}}, {"", nil}} {
		b.Arch, b.Archs = bad.arch, bad.archs
		if _, err := b.Statement(); err == nil || !strings.Contains(err.Error(), "give one architecture, or an index's architectures") {
			t.Errorf("arch %q archs %v: %v", bad.arch, bad.archs, err)
		}
	}
}

func TestSBOMStatement(t *testing.T) {
	sub, err := NewSubject("img", "sha256:"+hexA)
	must(t, err)
	doc := []byte(`{"spdxVersion":"SPDX-2.3","name":"img"}`)
	out, err := Statement(PredicateSPDX, doc, sub)
	must(t, err)
	var st struct {
		Type          string `json:"_type"`
		PredicateType string
		Subject       []Subject
		Predicate     map[string]any
	}
	must(t, json.Unmarshal(out, &st))
	if st.Type != StatementType || st.PredicateType != PredicateSPDX || st.Predicate["spdxVersion"] != "SPDX-2.3" || st.Subject[0].Digest["sha256"] != hexA {
		t.Errorf("statement %+v", st)
	}
	var pb intotopb.Statement
	must(t, protojson.Unmarshal(out, &pb))
	must(t, pb.Validate())

	for _, tt := range []struct {
		name string
		pred any
		subs []Subject
	}{
		{"no subject", doc, nil},
		{"invalid JSON predicate", []byte("{"), []Subject{sub}},
		{"subject without digest", doc, []Subject{{Name: "x"}}},
	} {
		if _, err := Statement(PredicateSPDX, tt.pred, tt.subs...); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := NewSubject("x", "nodigest"); err == nil {
		t.Error("NewSubject accepted a digest without algorithm")
	}
	for mt, want := range map[string]string{"application/spdx+json": PredicateSPDX, "application/vnd.cyclonedx+json": PredicateCycloneDX} {
		if got, err := PredicateTypeFor(mt); err != nil || got != want {
			t.Errorf("PredicateTypeFor(%s) = %s, %v", mt, got, err)
		}
	}
}

func TestGitSource(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.invalid", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q")
	must(t, os.MkdirAll(filepath.Join(dir, "images", "py"), 0o755))
	file := filepath.Join(dir, "images", "py", "spartan.yaml")
	must(t, os.WriteFile(file, []byte("name: py\n"), 0o644))
	if _, _, ok := GitSource(context.Background(), file); ok {
		t.Error("a repository without commits gave a source")
	}
	run("add", ".")
	run("commit", "-q", "-m", "spec")
	run("remote", "add", "origin", "https://user:secret-token@example.com/org/images.git")
	src, rel, ok := GitSource(context.Background(), file)
	if !ok {
		t.Fatal("no source in a checkout")
	}
	if src.Commit != run("rev-parse", "HEAD") || rel != "images/py/spartan.yaml" {
		t.Errorf("source %+v path %s", src, rel)
	}
	if src.Repository != "https://example.com/org/images.git" {
		t.Errorf("repository %q: credentials must be removed", src.Repository)
	}
	outside := filepath.Join(t.TempDir(), "spartan.yaml")
	must(t, os.WriteFile(outside, []byte("name: x\n"), 0o644))
	if _, _, ok := GitSource(context.Background(), outside); ok {
		t.Error("a file outside any checkout gave a source")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://tok@example.com/o/r.git": "https://example.com/o/r.git",
		"https://u:p@example.com/o/r.git": "https://example.com/o/r.git",
		"git@example.com:o/r.git":         "git@example.com:o/r.git",
		"ssh://git@example.com/o/r.git":   "ssh://example.com/o/r.git",
		"":                                "",
		"https://example.com/o/r.git":     "https://example.com/o/r.git",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
