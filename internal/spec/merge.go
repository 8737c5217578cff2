package spec

// overlay merges a variant onto the base as written, before defaults, so
// that defaults follow the merged values (profile: dev in a variant makes
// run-as default to root). Rules, also in docs/spec.md:
//   - packages, exclude, allow, certificates, paths, files, accounts.users and
//     accounts.groups append;
//   - env, annotations and labels merge key by key, the variant winning;
//   - trim and accounts merge field by field;
//   - everything else (scalars, archs, repositories, entrypoint, cmd, tags, healthcheck, probe,
//     trim.keep-locales, trim.java-modules) is replaced when the variant sets it;
//   - accounts.run-as belongs to the profile: a variant that switches to or
//     from dev does not inherit the base's run-as, so a dev variant runs as
//     root even though the runtime base says run-as: nonroot (a debug variant
//     keeps the base's user).
func overlay(b, v *doc) *doc {
	m := *b
	m.variants = nil
	m.description = pick(b.description, v.description)
	m.distro = pick(b.distro, v.distro)
	m.release = pick(b.release, v.release)
	m.profile = pick(b.profile, v.profile)
	m.workdir = pick(b.workdir, v.workdir)
	m.archs = pick(b.archs, v.archs)
	m.entrypoint = pick(b.entrypoint, v.entrypoint)
	m.cmd = pick(b.cmd, v.cmd)
	m.tags = pick(b.tags, v.tags)
	m.repos = pick(b.repos, v.repos)
	m.layers = pick(b.layers, v.layers)
	m.packages = appendList(b.packages, v.packages)
	m.exclude = appendList(b.exclude, v.exclude)
	m.allow = appendList(b.allow, v.allow)
	m.certs = appendList(b.certs, v.certs)
	m.env = mergeMap(b.env, v.env)
	m.annotations = mergeMap(b.annotations, v.annotations)
	m.labels = mergeMap(b.labels, v.labels)
	if b.paths != nil || v.paths != nil {
		m.paths = &pathList{}
		for _, l := range []*pathList{b.paths, v.paths} {
			if l != nil {
				m.paths.items = append(m.paths.items, l.items...)
				m.paths.at = l.at
			}
		}
	}
	m.probe = pick(b.probe, v.probe)
	m.healthcheck = pick(b.healthcheck, v.healthcheck)
	if b.files != nil && v.files != nil {
		m.files = &fileList{at: v.files.at}
		m.files.items = append(append(m.files.items, b.files.items...), v.files.items...)
	} else {
		m.files = pick(b.files, v.files)
	}
	m.accounts = mergeAccounts(b.accounts, v.accounts)
	m.trim = mergeTrim(b.trim, v.trim)
	// Only a switch to or from dev changes who runs the image: debug keeps the runtime's user.
	if v.profile != nil && (v.profile.v == string(Dev)) != (str(b.profile, string(Runtime)) == string(Dev)) &&
		(v.accounts == nil || v.accounts.runAs == nil) && m.accounts != nil {
		acc := *m.accounts
		acc.runAs = nil
		m.accounts = &acc
	}
	return &m
}

func pick[T any](base, over *T) *T {
	if over != nil {
		return over
	}
	return base
}

// appendList builds a new list so the base's backing array is never shared
// between variants.
func appendList(b, v *slist) *slist {
	if b == nil || v == nil {
		return pick(b, v)
	}
	out := &slist{at: b.at, items: make([]sval, 0, len(b.items)+len(v.items))}
	out.items = append(append(out.items, b.items...), v.items...)
	return out
}

func mergeMap(b, v *smap) *smap {
	if b == nil || v == nil {
		return pick(b, v)
	}
	out := &smap{at: b.at, vals: map[string]string{}}
	for _, m := range []*smap{b, v} {
		for _, k := range m.keys {
			if _, seen := out.vals[k.v]; !seen {
				out.keys = append(out.keys, k)
			}
			out.vals[k.v] = m.vals[k.v]
		}
	}
	return out
}

func mergeAccounts(b, v *accountsDoc) *accountsDoc {
	if b == nil || v == nil {
		return pick(b, v)
	}
	out := &accountsDoc{runAs: pick(b.runAs, v.runAs)}
	out.users = pick(b.users, v.users)
	if b.users != nil && v.users != nil {
		out.users = &userList{at: b.users.at}
		out.users.items = append(append(out.users.items, b.users.items...), v.users.items...)
	}
	out.groups = pick(b.groups, v.groups)
	if b.groups != nil && v.groups != nil {
		out.groups = &groupList{at: b.groups.at}
		out.groups.items = append(append(out.groups.items, b.groups.items...), v.groups.items...)
	}
	return out
}

func mergeTrim(b, v *trimDoc) *trimDoc {
	if b == nil || v == nil {
		return pick(b, v)
	}
	return &trimDoc{
		docs:    pick(b.docs, v.docs),
		man:     pick(b.man, v.man),
		locales: pick(b.locales, v.locales),
		keep:    pick(b.keep, v.keep),
		paths:   appendList(b.paths, v.paths),
		// Replaced, not appended: a dev variant that installs the JDK sets [] to keep javac's modules.
		javaModules: pick(b.javaModules, v.javaModules),
	}
}
