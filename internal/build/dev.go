package build

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/assemble"
	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/spec"
)

// debugPackage is the debug profile's toolbox.
const debugPackage = "busybox-static"

// requestedPackages is what the resolver is asked for. A dev image also gets the release's
// Essential packages: dpkg and every maintainer script assume them (sh, rm, tar, sed…), and
// an apt-get install inside a build stage runs those scripts.
// A debug image gets busybox-static, whose applets it links under /busybox.
func (o Options) requestedPackages(pkgs []*archive.Package, arch string) []string {
	switch o.Spec.Profile {
	case spec.Debug:
		if slices.Contains(o.Spec.Packages, debugPackage) {
			return o.Spec.Packages
		}
		return append(slices.Clone(o.Spec.Packages), debugPackage)
	case spec.Dev:
	default:
		return o.Spec.Packages
	}
	excluded := map[string]bool{}
	for _, e := range o.Spec.Exclude {
		excluded[e] = true
	}
	seen := map[string]bool{}
	var essential []string
	for _, p := range pkgs {
		if !p.Essential || excluded[p.Name] || seen[p.Name] || (p.Architecture != arch && p.Architecture != "all") {
			continue
		}
		seen[p.Name] = true
		essential = append(essential, p.Name)
	}
	sort.Strings(essential)
	out := slices.Clone(o.Spec.Packages)
	for _, n := range essential {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// checkDevClosure refuses a dev image whose dependencies were cut: apt treats unmet
// dependencies of installed packages as a broken system and installs nothing until they are
// fixed, which would defeat the point of a dev image.
func checkDevClosure(s *spec.Spec, res *resolve.Result) error {
	if s.Profile != spec.Dev || len(res.Cuts) == 0 {
		return nil
	}
	var names []string
	for _, c := range res.Cuts {
		if !slices.Contains(names, c.To) {
			names = append(names, c.To)
		}
	}
	sort.Strings(names)
	return fmt.Errorf("dev image %s: dependencies cut (%s), so apt-get would refuse to install anything; add them to the variant's allow list", s.Name, strings.Join(names, ", "))
}

// aptSources are the repositories the image was resolved from, as the dev image's apt should
// see them: the same mirrors and suites, signed by the same keys.
func (o Options) aptSources() ([]assemble.AptSource, error) {
	var out []assemble.AptSource
	for i, r := range o.Spec.Repositories {
		as := assemble.AptSource{URI: repoURL(r, o.Mirrors), Suites: slices.Clone(r.Suites), Components: slices.Clone(r.Components)}
		if r.Keyring != "" {
			key, err := os.ReadFile(r.Keyring)
			if err != nil {
				return nil, fmt.Errorf("repository %s: %w", as.URI, err)
			}
			as.Key, as.KeyName = key, fmt.Sprintf("spartan-repository-%d", i+1)
		}
		if as.URI == "" {
			return nil, fmt.Errorf("repository %s: no mirror configured: pass --mirror URL or set %s", strings.Join(r.Suites, ","), EnvMirror)
		}
		out = append(out, as)
	}
	return out, nil
}

func repoURL(r spec.Repository, m Mirrors) string {
	switch {
	case r.URL != "":
		return r.URL
	case r.Archive == spec.ArchiveSecurity:
		return m.Security
	}
	return m.Main
}

// aptUID is the uid apt's maintainer script gives its sandbox user on a fresh Debian system.
const aptUID = 42

// withAptUser adds _apt, the unprivileged user apt downloads as (its postinst would have
// created it); without it apt warns and downloads as root.
func withAptUser(users []assemble.User) []assemble.User {
	for _, u := range users {
		if u.Name == "_apt" || u.UID == aptUID {
			return users
		}
	}
	return append(slices.Clone(users), assemble.User{Name: "_apt", UID: aptUID, GID: 65534})
}
