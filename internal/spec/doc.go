package spec

import (
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// doc is a spec as written: nil means "not set", which is what variant
// overlays and defaults need to know. Values are already checked one by
// one; rules that involve several fields run after merging (resolve.go).
type doc struct {
	at                                                            where
	name, description, distro, release, profile, workdir          *sval
	archs, packages, exclude, allow, entrypoint, cmd, certs, tags *slist
	repos                                                         *repoList
	accounts                                                      *accountsDoc
	env, annotations, labels                                      *smap
	paths                                                         *pathList
	trim                                                          *trimDoc
	layers                                                        *ival
	variants                                                      []variantDoc
}

type repoList struct {
	items []repoDoc
	at    where
}

type repoDoc struct {
	r         Repository // Suites/Components nil: defaulted after merging
	keyringAt where
	at        where
}

type accountsDoc struct {
	users  *userList
	groups *groupList
	runAs  *sval
}

type userList struct {
	items []userDoc
	at    where
}

type userDoc struct {
	u             User
	at, uid, name where
}

type groupList struct {
	items []groupDoc
	at    where
}

type groupDoc struct {
	g       Group
	at, gid where
	members []sval
}

type pathList struct {
	items []pathDoc
	at    where
}

type pathDoc struct {
	p  Path
	at where
}

type trimDoc struct {
	docs, man, locales       *bval
	keep, paths, javaModules *slist
}

type variantDoc struct {
	name sval
	doc  *doc
}

// elsewhere points top-level keys that belong to a nested field, or that
// other tools spell differently, at the right place. Keys are norm()ed.
var elsewhere = map[string]string{
	"users": "accounts.users", "groups": "accounts.groups", "runas": "accounts.run-as",
	"user": "accounts.run-as", "docs": "trim.docs", "man": "trim.man",
	"locales": "trim.locales", "keeplocales": "trim.keep-locales",
	"suites": "repositories", "components": "repositories", "mirror": "repositories",
	"sources": "repositories", "repos": "repositories", "url": "repositories",
	"arch": "archs", "architectures": "archs", "platforms": "archs",
	"version": "release", "codename": "release", "suite": "release",
	"workingdir": "workdir", "cwd": "workdir", "environment": "env",
	"tag": "tags", "certs": "certificates", "cacerts": "certificates",
}

func norm(s string) string {
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(s))
}

// decodeDoc decodes the base spec (field == "") or one variant overlay
// (field == "variants.<name>").
func (d *decoder) decodeDoc(n *yaml.Node, field string, inVariant bool) *doc {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	s := &doc{at: d.at(n, field)}
	f := func(name string) string { return sub(field, name) }
	fs := fields{
		"name": func(k, v *yaml.Node) {
			if inVariant {
				d.errorf(k, f("name"), "cannot be set in a variant; variants share the base name")
				return
			}
			s.name = d.checked(v, f("name"), checkName)
		},
		"description": func(_, v *yaml.Node) { s.description = d.checked(v, f("description"), checkNoNUL) },
		"distro":      func(_, v *yaml.Node) { s.distro = d.checked(v, f("distro"), checkDistro) },
		"release":     func(_, v *yaml.Node) { s.release = d.checked(v, f("release"), checkRelease) },
		"archs": func(_, v *yaml.Node) {
			s.archs = d.nonEmpty(d.list(v, f("archs"), checkArch, true), "architecture")
		},
		"repositories": func(_, v *yaml.Node) { s.repos = d.repositories(v, f("repositories")) },
		"packages":     func(_, v *yaml.Node) { s.packages = d.list(v, f("packages"), checkPackage, true) },
		"exclude":      func(_, v *yaml.Node) { s.exclude = d.list(v, f("exclude"), checkPackage, true) },
		"allow":        func(_, v *yaml.Node) { s.allow = d.list(v, f("allow"), checkPackage, true) },
		"profile":      func(_, v *yaml.Node) { s.profile = d.checked(v, f("profile"), checkProfile) },
		"accounts":     func(_, v *yaml.Node) { s.accounts = d.accounts(v, f("accounts")) },
		"entrypoint":   func(_, v *yaml.Node) { s.entrypoint = d.list(v, f("entrypoint"), checkNoNUL, false) },
		"cmd":          func(_, v *yaml.Node) { s.cmd = d.list(v, f("cmd"), checkNoNUL, false) },
		"env":          func(_, v *yaml.Node) { s.env = d.strMap(v, f("env"), checkEnvKey) },
		"workdir":      func(_, v *yaml.Node) { s.workdir = d.checked(v, f("workdir"), checkAbs) },
		"paths":        func(_, v *yaml.Node) { s.paths = d.paths(v, f("paths")) },
		"certificates": func(_, v *yaml.Node) { s.certs = d.list(v, f("certificates"), checkNonEmpty, true) },
		"annotations":  func(_, v *yaml.Node) { s.annotations = d.strMap(v, f("annotations"), checkNonEmpty) },
		"labels":       func(_, v *yaml.Node) { s.labels = d.strMap(v, f("labels"), checkNonEmpty) },
		"tags":         func(_, v *yaml.Node) { s.tags = d.nonEmpty(d.tags(v, f("tags")), "tag") },
		"trim":         func(_, v *yaml.Node) { s.trim = d.trim(v, f("trim")) },
		"layers":       func(_, v *yaml.Node) { s.layers = d.integer(v, f("layers"), 2, 64) },
		"variants": func(k, v *yaml.Node) {
			if inVariant {
				d.errorf(k, f("variants"), "variants cannot be nested")
				return
			}
			s.variants = d.variants(v, f("variants"))
		},
	}
	var hints map[string]string
	what := "the spec"
	if inVariant {
		what = "variant " + strings.TrimPrefix(field, "variants.")
	} else {
		hints = elsewhere
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "", "%s must be a mapping of fields, got %s", what, describe(n))
		return nil
	}
	if d.object(n, field, fs, hints) == nil {
		return nil
	}
	return s
}

func (d *decoder) nonEmpty(l *slist, what string) *slist {
	if l != nil && len(l.items) == 0 {
		d.errs.at(l.at, "must list at least one %s", what)
		return nil
	}
	return l
}

func (d *decoder) tags(n *yaml.Node, field string) *slist {
	l := d.list(n, field, func(s string) string { _, msg := normalizeTag(s); return msg }, false)
	if l == nil {
		return nil
	}
	first := map[string]int{}
	for i := range l.items {
		it := &l.items[i]
		it.v, _ = normalizeTag(it.v)
		if line, dup := first[it.v]; dup {
			d.errs.at(it.at, "tag %q is listed twice (first at line %d)", it.v, line)
			return nil
		}
		first[it.v] = it.at.line
	}
	return l
}

func (d *decoder) repositories(n *yaml.Node, field string) *repoList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of repositories, got %s", describe(n))
		return nil
	}
	out := &repoList{at: d.at(n, field)}
	if len(n.Content) == 0 {
		d.errs.at(out.at, "must list at least one repository (omit the field for the defaults)")
		return nil
	}
	for i, item := range n.Content {
		if r := d.repository(item, index(field, i)); r != nil {
			out.items = append(out.items, *r)
		}
	}
	return out
}

func (d *decoder) repository(n *yaml.Node, field string) *repoDoc {
	var archive, u, keyring *sval
	var suites, comps *slist
	var urlKey *yaml.Node
	f := func(name string) string { return sub(field, name) }
	node := d.object(n, field, fields{
		"archive": func(_, v *yaml.Node) { archive = d.checked(v, f("archive"), checkArchive) },
		"url": func(k, v *yaml.Node) {
			urlKey = k
			if s := d.checked(v, f("url"), checkURL); s != nil {
				s.v = strings.TrimRight(s.v, "/")
				u = s
			}
		},
		"suites": func(_, v *yaml.Node) { suites = d.nonEmpty(d.list(v, f("suites"), checkSuite, true), "suite") },
		"components": func(_, v *yaml.Node) {
			comps = d.nonEmpty(d.list(v, f("components"), checkComponent, true), "component")
		},
		"keyring": func(_, v *yaml.Node) { keyring = d.checked(v, f("keyring"), checkNonEmpty) },
	}, nil)
	if node == nil {
		return nil
	}
	r := &repoDoc{at: d.at(node, field)}
	switch {
	case archive != nil && urlKey != nil:
		d.errorf(urlKey, field, "archive and url are mutually exclusive: archive picks a configured mirror, url names one")
		return nil
	case archive == nil && u == nil:
		if !d.present(node, f("archive")) && !d.present(node, f("url")) {
			d.errs.at(r.at, "set archive (main or security) or url")
		}
		return nil
	case archive != nil:
		r.r.Archive = archive.v
	default:
		r.r.URL = u.v
	}
	r.r.Suites = values(suites)
	r.r.Components = values(comps)
	if keyring != nil {
		r.r.Keyring = keyring.v
		r.keyringAt = keyring.at
	}
	return r
}

func checkArchive(s string) string {
	if s == ArchiveMain || s == ArchiveSecurity {
		return ""
	}
	return fmt.Sprintf("unknown archive %q; use main or security, or set url instead", s)
}

func checkURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("invalid URL %q: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("URL %q must start with http:// or https://", s)
	case u.Host == "":
		return fmt.Sprintf("URL %q has no host", s)
	case u.User != nil:
		return "URL must not contain credentials; a spec is meant to be published"
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("URL %q must not have a query or fragment", s)
	}
	return ""
}

func (d *decoder) accounts(n *yaml.Node, field string) *accountsDoc {
	a := &accountsDoc{}
	f := func(name string) string { return sub(field, name) }
	if d.object(n, field, fields{
		"users":  func(_, v *yaml.Node) { a.users = d.users(v, f("users")) },
		"groups": func(_, v *yaml.Node) { a.groups = d.groups(v, f("groups")) },
		"run-as": func(_, v *yaml.Node) { a.runAs = d.checked(v, f("run-as"), checkRunAs) },
	}, nil) == nil {
		return nil
	}
	return a
}

func checkRunAs(s string) string {
	if m := reRunAsIDs.FindStringSubmatch(s); m != nil {
		for _, id := range m[1:] {
			if id != "" && (len(id) > 10 || atoi(id) > maxID) {
				return fmt.Sprintf("id %s is out of range (at most %d)", id, maxID)
			}
		}
		return ""
	}
	if reAccount.MatchString(s) {
		return ""
	}
	return fmt.Sprintf("invalid run-as %q: use a user name or uid[:gid]", s)
}

func (d *decoder) users(n *yaml.Node, field string) *userList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of users, got %s", describe(n))
		return nil
	}
	out := &userList{at: d.at(n, field)}
	for i, item := range n.Content {
		if u := d.user(item, index(field, i)); u != nil {
			out.items = append(out.items, *u)
		}
	}
	return out
}

func (d *decoder) user(n *yaml.Node, field string) *userDoc {
	var name, home, shell *sval
	var uid, gid *ival
	f := func(s string) string { return sub(field, s) }
	node := d.object(n, field, fields{
		"name":  func(_, v *yaml.Node) { name = d.checked(v, f("name"), checkAccount) },
		"uid":   func(_, v *yaml.Node) { uid = d.integer(v, f("uid"), 0, maxID) },
		"gid":   func(_, v *yaml.Node) { gid = d.integer(v, f("gid"), 0, maxID) },
		"home":  func(_, v *yaml.Node) { home = d.checked(v, f("home"), checkAbs) },
		"shell": func(_, v *yaml.Node) { shell = d.checked(v, f("shell"), checkAbs) },
	}, nil)
	if node == nil {
		return nil
	}
	u := &userDoc{at: d.at(node, field)}
	ok := true
	if name == nil {
		ok = d.required(node, f("name"), "required") && ok
	} else if name.v == "root" {
		d.errs.at(name.at, `"root" is always present; do not declare it`)
		ok = false
	}
	if uid == nil {
		ok = d.required(node, f("uid"), "required") && ok
	} else if uid.v == 0 {
		d.errs.at(uid.at, "uid 0 is root, which is always present")
		ok = false
	}
	if !ok {
		return nil
	}
	u.u = User{Name: name.v, UID: int(uid.v), GID: int(uid.v), Home: "/home/" + name.v, Shell: "/sbin/nologin"}
	u.name, u.uid = name.at, uid.at
	if gid != nil {
		u.u.GID = int(gid.v)
	}
	if home != nil {
		u.u.Home = home.v
	}
	if shell != nil {
		u.u.Shell = shell.v
	}
	return u
}

// required reports a missing field at the enclosing mapping unless the
// field was present but invalid (already reported).
func (d *decoder) required(n *yaml.Node, field, msg string) bool {
	if !d.present(n, field) {
		d.errorf(n, field, "%s", msg)
	}
	return false
}

// present tells whether the mapping n has the last path element of field
// as a key, or a misspelling of it, to avoid "required" on top of the
// error already reported for that key.
func (d *decoder) present(n *yaml.Node, field string) bool {
	key := field[strings.LastIndex(field, ".")+1:]
	if d.suggested[n][key] {
		return true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return true
		}
	}
	return false
}

func (d *decoder) groups(n *yaml.Node, field string) *groupList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of groups, got %s", describe(n))
		return nil
	}
	out := &groupList{at: d.at(n, field)}
	for i, item := range n.Content {
		if g := d.group(item, index(field, i)); g != nil {
			out.items = append(out.items, *g)
		}
	}
	return out
}

func (d *decoder) group(n *yaml.Node, field string) *groupDoc {
	var name *sval
	var gid *ival
	var members *slist
	f := func(s string) string { return sub(field, s) }
	node := d.object(n, field, fields{
		"name":    func(_, v *yaml.Node) { name = d.checked(v, f("name"), checkAccount) },
		"gid":     func(_, v *yaml.Node) { gid = d.integer(v, f("gid"), 0, maxID) },
		"members": func(_, v *yaml.Node) { members = d.list(v, f("members"), checkAccount, true) },
	}, nil)
	if node == nil {
		return nil
	}
	ok := true
	if name == nil {
		ok = d.required(node, f("name"), "required") && ok
	} else if name.v == "root" {
		d.errs.at(name.at, `group "root" is always present; do not declare it`)
		ok = false
	}
	if gid == nil {
		ok = d.required(node, f("gid"), "required") && ok
	} else if gid.v == 0 {
		d.errs.at(gid.at, "gid 0 is root, which is always present")
		ok = false
	}
	if !ok {
		return nil
	}
	g := &groupDoc{g: Group{Name: name.v, GID: int(gid.v)}, at: d.at(node, field), gid: gid.at}
	if members != nil {
		g.members = members.items
		g.g.Members = values(members)
	}
	return g
}

func (d *decoder) paths(n *yaml.Node, field string) *pathList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of paths, got %s", describe(n))
		return nil
	}
	out := &pathList{at: d.at(n, field)}
	for i, item := range n.Content {
		if p := d.path(item, index(field, i)); p != nil {
			out.items = append(out.items, *p)
		}
	}
	return out
}

func (d *decoder) path(n *yaml.Node, field string) *pathDoc {
	var p, typ, mode, content, target *sval
	var uid, gid *ival
	f := func(s string) string { return sub(field, s) }
	node := d.object(n, field, fields{
		"path": func(_, v *yaml.Node) { p = d.checked(v, f("path"), checkFilePath) },
		"type": func(_, v *yaml.Node) { typ = d.checked(v, f("type"), checkPathType) },
		"mode": func(_, v *yaml.Node) {
			mode = d.checked(v, f("mode"), func(s string) string { _, m := parseMode(s); return m })
		},
		"uid":     func(_, v *yaml.Node) { uid = d.integer(v, f("uid"), 0, maxID) },
		"gid":     func(_, v *yaml.Node) { gid = d.integer(v, f("gid"), 0, maxID) },
		"content": func(_, v *yaml.Node) { content = d.checked(v, f("content"), nil) },
		"target":  func(_, v *yaml.Node) { target = d.checked(v, f("target"), checkTarget) },
	}, nil)
	if node == nil {
		return nil
	}
	ok := true
	if p == nil {
		ok = d.required(node, f("path"), "required") && ok
	}
	if typ == nil {
		ok = d.required(node, f("type"), "required (directory, file or symlink)") && ok
	}
	if !ok {
		return nil
	}
	out := &pathDoc{p: Path{Path: p.v, Type: PathType(typ.v)}, at: d.at(node, field)}
	forbid := func(v *sval) {
		if v != nil {
			d.errs.at(v.at, "not allowed for a %s", typ.v)
			ok = false
		}
	}
	switch out.p.Type {
	case Directory:
		out.p.Mode = 0o755
		forbid(content)
		forbid(target)
	case File:
		out.p.Mode = 0o644
		forbid(target)
		if content != nil {
			out.p.Content = content.v
		}
	case Symlink:
		forbid(mode)
		forbid(content)
		if target == nil {
			ok = d.required(node, f("target"), "required for a symlink") && ok
		} else {
			out.p.Target = target.v
		}
	}
	if !ok {
		return nil
	}
	if mode != nil {
		out.p.Mode, _ = parseMode(mode.v)
	}
	if uid != nil {
		out.p.UID = int(uid.v)
	}
	if gid != nil {
		out.p.GID = int(gid.v)
	}
	return out
}

func checkPathType(s string) string {
	switch PathType(s) {
	case Directory, File, Symlink:
		return ""
	}
	return fmt.Sprintf("unknown type %q; use directory, file or symlink", s)
}

func checkTarget(s string) string {
	if s == "" {
		return "symlink target must not be empty"
	}
	return checkNoNUL(s)
}

func (d *decoder) trim(n *yaml.Node, field string) *trimDoc {
	t := &trimDoc{}
	f := func(s string) string { return sub(field, s) }
	if d.object(n, field, fields{
		"docs":         func(_, v *yaml.Node) { t.docs = d.boolean(v, f("docs")) },
		"man":          func(_, v *yaml.Node) { t.man = d.boolean(v, f("man")) },
		"locales":      func(_, v *yaml.Node) { t.locales = d.boolean(v, f("locales")) },
		"keep-locales": func(_, v *yaml.Node) { t.keep = d.list(v, f("keep-locales"), checkLocale, true) },
		"paths":        func(_, v *yaml.Node) { t.paths = d.list(v, f("paths"), checkTrimPattern, true) },
		"java-modules": func(_, v *yaml.Node) { t.javaModules = d.list(v, f("java-modules"), checkJavaModule, true) },
	}, nil) == nil {
		return nil
	}
	return t
}

func (d *decoder) variants(n *yaml.Node, field string) []variantDoc {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	pairs, ok := d.mapping(n, field, "a mapping of variant names to overlays")
	if !ok {
		return nil
	}
	var out []variantDoc
	for _, p := range pairs {
		name := d.checked(p[0], field, checkVariantName)
		if name == nil {
			continue
		}
		if vd := d.decodeDoc(p[1], sub(field, name.v), true); vd != nil {
			out = append(out, variantDoc{name: *name, doc: vd})
		}
	}
	return out
}

func values(l *slist) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l.items))
	for i, it := range l.items {
		out[i] = it.v
	}
	return out
}

func atoi(s string) int64 {
	var v int64
	for _, c := range s {
		v = v*10 + int64(c-'0')
	}
	return v
}
