package spec

import (
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
	base                                                          *sval // another spec this one extends
	files                                                         *fileList
	healthcheck                                                   *healthDoc
	probe                                                         *bval
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
	"from": "base", "extends": "base", "copy": "files", "add": "files",
	"health": "healthcheck", "healthcheckprobe": "probe",
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
		"files":        func(_, v *yaml.Node) { s.files = d.files(v, f("files")) },
		"healthcheck":  func(_, v *yaml.Node) { s.healthcheck = d.healthcheck(v, f("healthcheck")) },
		"probe":        func(_, v *yaml.Node) { s.probe = d.boolean(v, f("probe")) },
		"base": func(k, v *yaml.Node) {
			if inVariant {
				d.errorf(k, f("base"), "cannot be set in a variant; a variant extends the same base as its spec")
				return
			}
			s.base = d.checked(v, f("base"), checkNonEmpty)
		},
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
