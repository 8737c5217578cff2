package spec

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Defaults that do not depend on other fields.
const (
	DefaultDistro  = "debian"
	DefaultRelease = "trixie"
	DefaultArch    = "amd64"
	DefaultLayers  = 10
	DefaultLocale  = "C.UTF-8"
	nonrootID      = 65532
	nonrootName    = "nonroot"
)

// resolver turns a merged doc into a Spec: it applies the defaults and
// checks the rules that involve several fields or the file system.
type resolver struct {
	errs       *errList
	dir        string
	display    string // the spec's file as the user named it, for the names of its bases
	checkFiles bool
}

// defaultUsers gives the base spec the distroless-style nonroot account
// when it declares no users, before variants are merged so that a
// variant's users add to it instead of replacing it.
func defaultUsers(b *doc) {
	if b.accounts == nil {
		b.accounts = &accountsDoc{}
	}
	if b.accounts.users == nil {
		b.accounts.users = &userList{items: []userDoc{{u: User{
			Name: nonrootName, UID: nonrootID, GID: nonrootID,
			Home: "/home/" + nonrootName, Shell: "/sbin/nologin",
		}}}}
	}
}

func str(v *sval, def string) string {
	if v == nil {
		return def
	}
	return v.v
}

func (r *resolver) resolve(d *doc, variant string, tags []string) *Spec {
	s := &Spec{
		VariantName: variant,
		Name:        str(d.name, ""),
		Description: str(d.description, ""),
		Distro:      str(d.distro, DefaultDistro),
		Release:     str(d.release, DefaultRelease),
		Profile:     Profile(str(d.profile, string(Runtime))),
		Entrypoint:  orEmpty(values(d.entrypoint)),
		Cmd:         orEmpty(values(d.cmd)),
		Env:         mapOf(d.env),
		Annotations: mapOf(d.annotations),
		Labels:      mapOf(d.labels),
		Layers:      DefaultLayers,
		Archs:       values(d.archs),
	}
	s.ReleaseVersion = releases[s.Release]
	r.distroRelease(s, d)
	if d.name == nil {
		r.errs.at(where{line: d.at.line, col: d.at.col, field: "name", file: d.at.file}, "required (the image name, e.g. name: python)")
	}
	if len(s.Archs) == 0 {
		s.Archs = []string{DefaultArch}
	}
	if d.layers != nil {
		s.Layers = int(d.layers.v)
	}
	r.packages(s, d)
	if s.Distro == DistroAlpine {
		s.Repositories = r.alpineRepositories(d.repos)
	} else {
		s.Repositories = r.repositories(d.repos, s.Release)
	}
	s.Accounts = r.accounts(d.accounts, s.Profile)
	s.Workdir = str(d.workdir, r.home(s.Accounts))
	s.Paths = r.paths(d.paths)
	s.Certificates = r.certificates(d.certs)
	s.Files = r.fileSets(d.files, s.Accounts)
	s.Healthcheck = r.health(d.healthcheck)
	s.Probe = pickBool(d.probe, false) || s.Healthcheck != nil && s.Healthcheck.Probe != ""
	// tags, when given, are a variant's defaults derived from the base's
	// tags; they win over the base's tags the overlay carried over.
	s.Tags = tags
	if s.Tags == nil {
		s.Tags = values(d.tags)
	}
	if s.Tags == nil {
		s.Tags = []string{s.Name + ":latest"}
	}
	s.Trim = Trim{Docs: true, Man: true, Locales: true, KeepLocales: []string{DefaultLocale}}
	if t := d.trim; t != nil {
		s.Trim.Docs = pickBool(t.docs, true)
		s.Trim.Man = pickBool(t.man, true)
		s.Trim.Locales = pickBool(t.locales, true)
		if t.keep != nil {
			s.Trim.KeepLocales = orEmpty(values(t.keep))
		}
		s.Trim.Paths = values(t.paths)
		s.Trim.JavaModules = values(t.javaModules)
	}
	return s
}

func (r *resolver) packages(s *Spec, d *doc) {
	requested := map[string]where{}
	// A variant may list a package the base already has; that is fine.
	if d.packages != nil {
		for _, it := range d.packages.items {
			if _, dup := requested[it.v]; !dup {
				requested[it.v] = it.at
				s.Packages = append(s.Packages, it.v)
			}
		}
	}
	if len(s.Packages) == 0 {
		at := where{line: d.at.line, col: d.at.col, field: "packages", file: d.at.file}
		if d.packages != nil {
			at = d.packages.at
		}
		r.errs.at(at, "required: list at least one package to install")
	}
	// allow lifts an exclude: a dev variant needs every dependency its runtime base cut,
	// or apt sees a broken system and refuses to install anything.
	allowed := map[string]bool{}
	s.Allow = []string{}
	if d.allow != nil {
		for _, it := range d.allow.items {
			if !allowed[it.v] {
				allowed[it.v] = true
				s.Allow = append(s.Allow, it.v)
			}
		}
	}
	excluded := map[string]bool{}
	s.Exclude = []string{}
	if d.exclude != nil {
		for _, it := range d.exclude.items {
			if allowed[it.v] {
				continue
			}
			if p, ok := requested[it.v]; ok && it.at.file != "" && p.file == "" {
				// The base excludes what this spec asks for: the fix is here, not in the base.
				r.errs.at(p, "package %q is both requested and excluded (%s line %d); list it in allow to take it back", it.v, it.at.file, it.at.line)
			} else if ok {
				r.errs.at(it.at, "package %q is both requested (line %d) and excluded", it.v, p.line)
			}
			if !excluded[it.v] {
				excluded[it.v] = true
				s.Exclude = append(s.Exclude, it.v)
			}
		}
	}
}

// repositories applies the suite and component defaults, which depend on
// the release and so must wait until variants are merged.
func (r *resolver) repositories(l *repoList, release string) []Repository {
	if l == nil {
		return []Repository{
			{Archive: ArchiveMain, Suites: []string{release, release + "-updates"}, Components: []string{"main"}},
			{Archive: ArchiveSecurity, Suites: []string{release + "-security"}, Components: []string{"main"}},
		}
	}
	var out []Repository
	for _, it := range l.items {
		repo := it.r
		repo.Suites = slices.Clone(repo.Suites)
		repo.Components = slices.Clone(repo.Components)
		if repo.Suites == nil {
			switch repo.Archive {
			case ArchiveMain:
				repo.Suites = []string{release, release + "-updates"}
			case ArchiveSecurity:
				repo.Suites = []string{release + "-security"}
			default:
				repo.Suites = []string{release}
			}
		}
		if repo.Components == nil {
			repo.Components = []string{"main"}
		}
		if repo.Keyring != "" {
			repo.Keyring = r.abs(repo.Keyring)
			if r.checkFiles {
				if msg := checkKeyringFile(repo.Keyring); msg != "" {
					r.errs.at(it.keyringAt, "%s", msg)
				}
			}
		}
		out = append(out, repo)
	}
	return out
}

func (r *resolver) abs(p string) string {
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(r.dir, p)
}

// firstAt says where a clashing entry was declared; entries without a
// line are the built-in defaults.
func firstAt(w where) string {
	if w.line == 0 {
		return "declared by default; set accounts.users in the base spec to replace the defaults"
	}
	if w.file != "" {
		return fmt.Sprintf("first declared at %s:%d", w.file, w.line)
	}
	return fmt.Sprintf("first declared at line %d", w.line)
}

func (r *resolver) accounts(a *accountsDoc, profile Profile) Accounts {
	out := Accounts{Users: []User{}, Groups: []Group{}}
	if a == nil {
		a = &accountsDoc{}
	}
	userNames := map[string]where{}
	uids := map[int]userDoc{}
	if a.users != nil {
		for _, u := range a.users.items {
			if w, dup := userNames[u.u.Name]; dup {
				r.errs.at(u.name, "duplicate user %q (%s)", u.u.Name, firstAt(w))
				continue
			}
			if o, dup := uids[u.u.UID]; dup {
				r.errs.at(u.uid, "uid %d is already used by %q (%s)", u.u.UID, o.u.Name, firstAt(o.at))
				continue
			}
			userNames[u.u.Name], uids[u.u.UID] = u.at, u
			out.Users = append(out.Users, u.u)
		}
	}
	groupNames := map[string]where{}
	gids := map[int]bool{}
	if a.groups != nil {
		for _, g := range a.groups.items {
			if w, dup := groupNames[g.g.Name]; dup {
				r.errs.at(g.at, "duplicate group %q (%s)", g.g.Name, firstAt(w))
				continue
			}
			if gids[g.g.GID] {
				r.errs.at(g.gid, "gid %d is already used by another group", g.g.GID)
				continue
			}
			for _, m := range g.members {
				if _, ok := userNames[m.v]; !ok && m.v != "root" {
					r.errs.at(m.at, "unknown user %q; declare it in accounts.users", m.v)
				}
			}
			groupNames[g.g.Name], gids[g.g.GID] = g.at, true
			g.g.Members = orEmpty(slices.Clone(g.g.Members))
			out.Groups = append(out.Groups, g.g)
		}
	}
	// A user's primary group gets a group named after the user unless
	// one with that gid is declared: /etc/passwd entries without a group
	// confuse id(1) and many runtimes.
	for _, u := range out.Users {
		if u.GID == 0 || gids[u.GID] {
			continue
		}
		if w, taken := groupNames[u.Name]; taken {
			// Blame the user, unless it is the built-in default user,
			// which has no line: then blame the group.
			at := uids[u.UID].at
			if at.line == 0 {
				at = w
			}
			r.errs.at(at, "user %q needs a group with gid %d, but group %q has another gid; declare a group with gid %d",
				u.Name, u.GID, u.Name, u.GID)
			continue
		}
		groupNames[u.Name], gids[u.GID] = uids[u.UID].at, true
		out.Groups = append(out.Groups, Group{Name: u.Name, GID: u.GID, Members: []string{}})
	}
	sort.SliceStable(out.Groups, func(i, j int) bool { return out.Groups[i].GID < out.Groups[j].GID })

	out.RunAs = fmt.Sprintf("%d:%d", nonrootID, nonrootID)
	if profile == Dev {
		out.RunAs = "0:0"
	}
	runAt := where{}
	if a.runAs != nil {
		out.RunAs, runAt = a.runAs.v, a.runAs.at
	}
	r.runAs(&out, runAt)
	return out
}

func (r *resolver) runAs(a *Accounts, at where) {
	if m := reRunAsIDs.FindStringSubmatch(a.RunAs); m != nil {
		a.RunAsUID = int(atoi(m[1]))
		switch {
		case m[2] != "":
			a.RunAsGID = int(atoi(m[2]))
		case a.RunAsUID == 0:
			a.RunAsGID = 0
		default:
			// Like the runtimes do with /etc/passwd: the user's primary
			// group, else (undeclared uid) a group id equal to the uid.
			a.RunAsGID = a.RunAsUID
			for _, u := range a.Users {
				if u.UID == a.RunAsUID {
					a.RunAsGID = u.GID
				}
			}
		}
		return
	}
	if a.RunAs == "root" {
		a.RunAsUID, a.RunAsGID = 0, 0
		return
	}
	var names []string
	for _, u := range a.Users {
		if u.Name == a.RunAs {
			a.RunAsUID, a.RunAsGID = u.UID, u.GID
			return
		}
		names = append(names, u.Name)
	}
	names = append(names, "root")
	r.errs.at(at, "unknown user %q (declared: %s); declare it in accounts.users or use uid[:gid]",
		a.RunAs, strings.Join(names, ", "))
}

// home is the default workdir: the run-as user's home when it is a
// declared user, else "/".
func (r *resolver) home(a Accounts) string {
	if a.RunAsUID == 0 {
		return "/"
	}
	for _, u := range a.Users {
		if u.UID == a.RunAsUID {
			return u.Home
		}
	}
	return "/"
}

func (r *resolver) paths(l *pathList) []Path {
	out := []Path{}
	if l == nil {
		return out
	}
	seen := map[string]where{}
	leaves := map[string]where{} // files and symlinks: nothing can live below them
	for _, it := range l.items {
		if w, dup := seen[it.p.Path]; dup {
			r.errs.at(it.at, "%s is already declared at line %d", it.p.Path, w.line)
			continue
		}
		seen[it.p.Path] = it.at
		if it.p.Type != Directory {
			leaves[it.p.Path] = it.at
		}
		out = append(out, it.p)
	}
	for _, it := range l.items {
		for dir := path.Dir(it.p.Path); dir != "/"; dir = path.Dir(dir) {
			if w, ok := leaves[dir]; ok {
				r.errs.at(it.at, "%s is inside %s, which line %d declares as a %s",
					it.p.Path, dir, w.line, typeAt(l, dir))
				break
			}
		}
	}
	return out
}

func typeAt(l *pathList, p string) PathType {
	for _, it := range l.items {
		if it.p.Path == p {
			return it.p.Type
		}
	}
	return ""
}

func (r *resolver) certificates(l *slist) []string {
	out := []string{}
	if l == nil {
		return out
	}
	for _, it := range l.items {
		p := r.abs(it.v)
		if slices.Contains(out, p) {
			continue
		}
		if r.checkFiles {
			if msg := checkCertFile(p); msg != "" {
				r.errs.at(it.at, "%s", msg)
			}
		}
		out = append(out, p)
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func mapOf(m *smap) map[string]string {
	out := map[string]string{}
	if m != nil {
		for k, v := range m.vals {
			out[k] = v
		}
	}
	return out
}

func pickBool(b *bval, def bool) bool {
	if b == nil {
		return def
	}
	return b.v
}

// DistroAlpine is the distro value of specs built from Alpine packages.
const DistroAlpine = "alpine"

// distroRelease checks that the release names a release of the distro: a Debian codename,
// or an Alpine branch (v3.22, edge), which Alpine specs must give since there is no default.
func (r *resolver) distroRelease(s *Spec, d *doc) {
	at := where{line: d.at.line, col: d.at.col, field: "release", file: d.at.file}
	if d.release != nil {
		at = d.release.at
	}
	alpineRelease := reAlpineRelease.MatchString(s.Release)
	switch {
	case s.Distro == DistroAlpine && d.release == nil:
		r.errs.at(at, "required for distro alpine: an Alpine branch such as v3.22")
	case s.Distro == DistroAlpine && !alpineRelease:
		r.errs.at(at, "%q is not an Alpine branch; use one such as v3.22 or edge", s.Release)
	case s.Distro == DistroAlpine:
		s.ReleaseVersion = strings.TrimPrefix(s.Release, "v")
	case alpineRelease:
		r.errs.at(at, "%q is an Alpine branch; set distro: alpine, or use a Debian codename (%s)", s.Release, strings.Join(sortedKeys(releases), ", "))
	}
}

// alpineRepositories: for Alpine a repository's suites are the repository names under the
// branch (main, community); the default is both, from the configured mirror.
func (r *resolver) alpineRepositories(l *repoList) []Repository {
	if l == nil {
		return []Repository{{Archive: ArchiveMain, Suites: []string{"main", "community"}}}
	}
	var out []Repository
	for _, it := range l.items {
		repo := it.r
		repo.Suites = slices.Clone(repo.Suites)
		if repo.Suites == nil {
			repo.Suites = []string{"main", "community"}
		}
		repo.Components = nil
		if repo.Keyring != "" {
			repo.Keyring = r.abs(repo.Keyring)
		}
		out = append(out, repo)
	}
	return out
}
