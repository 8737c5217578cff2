package imagesource

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/oci"
)

// Pick says which platform image Image took out of an index, for the caller to report.
type Pick struct {
	Platform v1.Platform
	// Among are the platforms the index offers, sorted.
	Among []v1.Platform
	// Default is true when the caller named no platform: the host's was taken, or the only
	// one the index has.
	Default bool
}

func (p *Pick) String() string {
	var among []string
	for _, q := range p.Among {
		among = append(among, q.String())
	}
	how := "as asked"
	if p.Default {
		how = "the host's platform"
		if len(p.Among) == 1 {
			how = "the only platform"
		}
	}
	return fmt.Sprintf("%s (%s; the index has %s)", p.Platform.String(), how, strings.Join(among, ", "))
}

// Image returns the source's image for platform arch — a Debian architecture (amd64, arm64,
// armhf, armel, ppc64el…), an OCI one (arm, ppc64le) or os/arch[/variant]. For an index, ""
// means the host's platform, as docker, podman and syft do (or the only platform an index
// has); an index without the platform is an error listing those it has. The Pick is nil when
// the source is a single image, which is returned whatever its platform unless arch names
// another.
func (s *Source) Image(arch string) (v1.Image, *Pick, error) {
	img, pick, err := resolve(s.Artifact, arch, Host())
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", s.Name, err)
	}
	return img, pick, nil
}

// Host is the platform images default to: linux (the images' OS, also when Spartan runs
// elsewhere, as docker does on a Mac) on this machine's architecture and arm variant.
func Host() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if p.Architecture == "arm" {
		p.Variant = "v" + goarm()
	}
	return p
}

// goarm is the arm version this binary was built for, which is the oldest CPU it runs on.
func goarm() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" && s.Value != "" {
				return strings.SplitN(s.Value, ",", 2)[0]
			}
		}
	}
	return "7"
}

// ParsePlatform reads an --arch value: a Debian or OCI architecture name, or
// os/arch[/variant].
func ParsePlatform(arch string) (v1.Platform, error) {
	if strings.Contains(arch, "/") {
		p, err := v1.ParsePlatform(arch)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return v1.Platform{}, fmt.Errorf("platform %q: want an architecture (amd64, arm64, armhf…) or os/arch[/variant]", arch)
		}
		return *p, nil
	}
	p := v1.Platform{OS: "linux", Architecture: oci.Arch(arch)}
	// Debian's two 32-bit arm ports are one OCI architecture in two variants.
	if arch == "armhf" || arch == "armel" {
		p.Variant = oci.Variant(arch)
	}
	return p, nil
}

func resolve(a oci.Artifact, arch string, host v1.Platform) (v1.Image, *Pick, error) {
	if img, ok := a.(v1.Image); ok {
		return img, nil, checkImage(img, arch)
	}
	idx, ok := a.(v1.ImageIndex)
	if !ok {
		return nil, nil, fmt.Errorf("%T is neither an image nor an index", a)
	}
	found, err := platformImages(idx)
	if err != nil {
		return nil, nil, err
	}
	if len(found) == 0 {
		return nil, nil, fmt.Errorf("the index holds no container image")
	}
	pick := &Pick{Among: platforms(found), Default: arch == ""}
	want := host
	if arch != "" {
		if want, err = ParsePlatform(arch); err != nil {
			return nil, nil, err
		}
	}
	match := matching(found, want, arch == "")
	if len(match) == 0 && arch == "" && len(pick.Among) == 1 {
		match = found
	}
	switch {
	case len(match) == 0 && arch == "":
		return nil, nil, fmt.Errorf("no image for this host's platform %s; the index has %s: choose one with --arch", want.String(), list(pick.Among))
	case len(match) == 0:
		return nil, nil, fmt.Errorf("no image for platform %s; the index has %s: choose one of them with --arch", want.String(), list(pick.Among))
	case len(match) > 1:
		return nil, nil, fmt.Errorf("%d different images for %s (%s): name the variant with --arch os/arch/variant", len(match), want.String(), list(platforms(match)))
	}
	pick.Platform = match[0].platform
	return match[0].img, pick, nil
}

// candidate is one runnable image of an index.
type candidate struct {
	img      v1.Image
	platform v1.Platform
	digest   v1.Hash
}

// platformImages walks an index (and nested indexes) for runnable images, once each. The
// descriptor's platform is used when it has one; otherwise the image config's. Signatures,
// attestations and buildkit's attestation manifests (platform unknown/unknown) are skipped.
func platformImages(idx v1.ImageIndex) ([]candidate, error) {
	var out []candidate
	seen := map[v1.Hash]bool{}
	var walk func(v1.ImageIndex) error
	walk = func(idx v1.ImageIndex) error {
		m, err := idx.IndexManifest()
		if err != nil {
			return err
		}
		for _, d := range m.Manifests {
			switch {
			case d.MediaType.IsIndex():
				child, err := idx.ImageIndex(d.Digest)
				if err != nil {
					return err
				}
				if err := walk(child); err != nil {
					return err
				}
			case d.MediaType.IsImage() && !seen[d.Digest]:
				img, err := idx.Image(d.Digest)
				if err != nil {
					return err
				}
				p, ok, err := platformOf(d, img)
				if err != nil {
					return fmt.Errorf("image %s: %w", d.Digest, err)
				}
				if ok {
					seen[d.Digest] = true
					out = append(out, candidate{img: img, platform: p, digest: d.Digest})
				}
			}
		}
		return nil
	}
	return out, walk(idx)
}

func platformOf(d v1.Descriptor, img v1.Image) (v1.Platform, bool, error) {
	if d.Platform != nil && d.Platform.Architecture != "" {
		p := *d.Platform
		return p, p.OS != "unknown" && p.Architecture != "unknown", nil
	}
	mf, err := img.Manifest()
	if err != nil {
		return v1.Platform{}, false, err
	}
	if mf.Config.MediaType != types.OCIConfigJSON && mf.Config.MediaType != types.DockerConfigJSON {
		return v1.Platform{}, false, nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return v1.Platform{}, false, err
	}
	if cf.OS == "" || cf.Architecture == "" {
		return v1.Platform{}, false, nil
	}
	return v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}, true, nil
}

// matching keeps the candidates for want. An arm64 image with variant "" or "v8" is the same
// platform. A want without variant takes any variant; the host's arm variant also runs older
// ones (v7 runs v6 and v5 images), the newest of which is taken.
func matching(cs []candidate, want v1.Platform, isHost bool) []candidate {
	norm := func(p v1.Platform) string {
		if p.Architecture == "arm64" && p.Variant == "v8" {
			return ""
		}
		return p.Variant
	}
	var exact, sameArch []candidate
	for _, c := range cs {
		if c.platform.OS != want.OS || c.platform.Architecture != want.Architecture {
			continue
		}
		sameArch = append(sameArch, c)
		if norm(c.platform) == norm(want) {
			exact = append(exact, c)
		}
	}
	switch {
	case len(exact) > 0:
		return exact
	case want.Variant == "" || want.Architecture == "arm64":
		return sameArch
	case isHost && want.Architecture == "arm":
		var older []candidate
		for _, c := range sameArch {
			if c.platform.Variant != "" && c.platform.Variant < want.Variant {
				older = append(older, c)
			}
		}
		slices.SortFunc(older, func(a, b candidate) int { return strings.Compare(b.platform.Variant, a.platform.Variant) })
		if len(older) > 0 {
			return older[:1]
		}
	}
	return nil
}

func platforms(cs []candidate) []v1.Platform {
	var out []v1.Platform
	seen := map[string]bool{}
	for _, c := range cs {
		if k := c.platform.String(); !seen[k] {
			seen[k] = true
			out = append(out, c.platform)
		}
	}
	slices.SortFunc(out, func(a, b v1.Platform) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func list(ps []v1.Platform) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

// checkImage refuses a single image of another platform than arch names.
func checkImage(img v1.Image, arch string) error {
	if arch == "" {
		return nil
	}
	want, err := ParsePlatform(arch)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("read image config: %w", err)
	}
	got := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	if got.OS == "" {
		got.OS = "linux" // older docker configs leave it out
	}
	if len(matching([]candidate{{platform: got}}, want, false)) == 0 {
		return fmt.Errorf("the image is for %s, not %s: it holds one platform only", got.String(), want.String())
	}
	return nil
}
