package attest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Provenance is a SLSA Provenance v1 predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition says what was built and from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   InternalParameters   `json:"internalParameters"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// ExternalParameters are the inputs a user controls: the spec, its variant, the architecture
// (for an index: the architectures it ties together) and where the spec came from.
type ExternalParameters struct {
	Spec    SpecRef  `json:"spec"`
	Variant string   `json:"variant"`
	Arch    string   `json:"arch,omitempty"`
	Archs   []string `json:"archs,omitempty"`
	Source  *Source  `json:"source,omitempty"`
}

// SpecRef identifies the spec file by path and content.
type SpecRef struct {
	Path   string            `json:"path"`
	Digest map[string]string `json:"digest"`
}

// Source is the git checkout the spec was read from.
type Source struct {
	Repository string `json:"repository,omitempty"`
	Commit     string `json:"commit"`
}

// InternalParameters are the builder's own settings.
type InternalParameters struct {
	SpartanVersion string `json:"spartanVersion"`
	Profile        string `json:"profile"`
}

// ResourceDescriptor is SLSA's/in-toto's reference to an artifact.
type ResourceDescriptor struct {
	URI       string            `json:"uri,omitempty"`
	Digest    map[string]string `json:"digest,omitempty"`
	Name      string            `json:"name,omitempty"`
	MediaType string            `json:"mediaType,omitempty"`
	// Annotations carry what a rebuild needs beyond the file: for a .deb its package name,
	// exact version (with epoch, which the file name drops) and architecture.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RunDetails say who built it and when.
type RunDetails struct {
	Builder    Builder              `json:"builder"`
	Metadata   BuildMetadata        `json:"metadata"`
	Byproducts []ResourceDescriptor `json:"byproducts,omitempty"`
}

// Builder identifies Spartan.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// BuildMetadata describes this invocation.
type BuildMetadata struct {
	InvocationID string     `json:"invocationId,omitempty"`
	StartedOn    *time.Time `json:"startedOn,omitempty"`
	FinishedOn   *time.Time `json:"finishedOn,omitempty"`
}

// Build is everything the provenance records about one architecture's build, or about a
// multi-arch build's index.
type Build struct {
	Subject    Subject
	SpecPath   string // as it should appear: repository-relative inside a checkout
	SpecSHA256 string
	Variant    string // "" is the base spec, recorded as "runtime"… as the caller says
	Arch       string
	// Archs, for an index, replaces Arch: an index is built for several architectures, and a
	// reader of Arch (a rebuild) must not mistake it for one platform's build.
	Archs          []string
	Images         []ResourceDescriptor // for an index: the platform images it lists
	Source         *Source
	SpartanVersion string
	Profile        string
	Releases       []ResourceDescriptor // the InRelease files
	Packages       []ResourceDescriptor // the .debs
	Inputs         []ResourceDescriptor // other files the spec names (extra certificates)
	SBOMs          []ResourceDescriptor // byproducts
	Started        time.Time
	Finished       time.Time
	InvocationID   string // "" → a random UUID
}

// Predicate builds the SLSA predicate. Dependencies are sorted (InRelease files first, then
// .debs by name) so that two builds of the same inputs differ only in run details.
func (b Build) Predicate() (*Provenance, error) {
	if b.SpecSHA256 == "" {
		return nil, fmt.Errorf("provenance: the spec's digest is unknown (spec not loaded from a file?)")
	}
	if (b.Arch == "") == (len(b.Archs) == 0) {
		return nil, fmt.Errorf("provenance: give one architecture, or an index's architectures")
	}
	id := b.InvocationID
	if id == "" {
		id = randomUUID()
	}
	p := &Provenance{
		BuildDefinition: BuildDefinition{
			BuildType: BuildType,
			ExternalParameters: ExternalParameters{
				Spec:    SpecRef{Path: b.SpecPath, Digest: map[string]string{"sha256": b.SpecSHA256}},
				Variant: b.Variant,
				Arch:    b.Arch,
				Archs:   b.Archs,
				Source:  b.Source,
			},
			InternalParameters: InternalParameters{SpartanVersion: b.SpartanVersion, Profile: b.Profile},
		},
		RunDetails: RunDetails{
			Builder:  Builder{ID: BuilderID},
			Metadata: BuildMetadata{InvocationID: id, StartedOn: utc(b.Started), FinishedOn: utc(b.Finished)},
		},
	}
	if b.SpartanVersion != "" {
		p.RunDetails.Builder.Version = map[string]string{"spartan": b.SpartanVersion}
	}
	// An index is made from its platform images: they come first.
	deps := append(sortedDescriptors(b.Images), sortedDescriptors(b.Releases)...)
	deps = append(deps, sortedDescriptors(b.Packages)...)
	p.BuildDefinition.ResolvedDependencies = append(deps, sortedDescriptors(b.Inputs)...)
	p.RunDetails.Byproducts = sortedDescriptors(b.SBOMs)
	return p, nil
}

// Statement is the provenance wrapped in an in-toto statement about b.Subject.
func (b Build) Statement() ([]byte, error) {
	p, err := b.Predicate()
	if err != nil {
		return nil, err
	}
	return Statement(PredicateSLSA, p, b.Subject)
}

func sortedDescriptors(in []ResourceDescriptor) []ResourceDescriptor {
	out := append([]ResourceDescriptor(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].URI < out[j].URI
	})
	return out
}

func utc(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}

// randomUUID is a version 4 UUID: the invocation id only has to be unique.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// GitSource describes the git checkout holding file: its origin URL (credentials removed)
// and HEAD commit, with file's path relative to the checkout's top. ok is false outside a
// checkout or without git, and then the provenance simply has no source.
func GitSource(ctx context.Context, file string) (src *Source, relPath string, ok bool) {
	dir := filepath.Dir(file)
	git := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil || top == "" {
		return nil, "", false
	}
	commit, err := git("rev-parse", "--verify", "HEAD")
	if err != nil || commit == "" {
		return nil, "", false // a repository without commits
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, "", false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if realTop, err := filepath.EvalSymlinks(top); err == nil {
		top = realTop
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, "", false
	}
	remote, _ := git("config", "--get", "remote.origin.url")
	return &Source{Repository: redact(remote), Commit: commit}, filepath.ToSlash(rel), true
}

// redact drops user info from a remote URL: a token in a clone URL must not be published.
func redact(remote string) string {
	u, err := url.Parse(remote)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return remote // scp-like "git@host:org/repo.git" carries no secret
	}
	u.User = nil
	return u.String()
}
