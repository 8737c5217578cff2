package resolve

import (
	"path"
	"sort"
	"strings"
)

// Policy is a hardening profile: the packages an image of this kind must not contain, each with
// the reason shown to the user when a declared dependency on it is dropped. A key may be a
// glob (path.Match syntax, e.g. "perl-modules-*") to cover versioned package names. A key may
// also name a virtual package, which cuts every relation on that name.
type Policy struct {
	Name string
	Cut  map[string]string
}

// Reason reports whether the policy cuts name, and why. Exact keys win over globs; among
// globs the lexically first matching pattern wins, so the answer never depends on map order.
func (p Policy) Reason(name string) (string, bool) {
	if r, ok := p.Cut[name]; ok {
		return r, true
	}
	for _, pat := range p.patterns() {
		if ok, _ := path.Match(pat, name); ok {
			return p.Cut[pat], true
		}
	}
	return "", false
}

func (p Policy) patterns() []string {
	var pats []string
	for k := range p.Cut {
		if strings.ContainsAny(k, "*?[") {
			pats = append(pats, k)
		}
	}
	sort.Strings(pats)
	return pats
}

// Reasons shared by several entries of the runtime profile.
const (
	whyShell   = "shell: not in runtime images"
	whyPkgMgr  = "package manager: runtime images are immutable"
	whyDebconf = "debconf: only maintainer scripts use it, and none run"
	whyPerl    = "perl: only maintainer scripts and admin tools need it in a base system"
	whyTool    = "userland tool: runtime images ship no shell utilities"
	whyScript  = "maintainer-script helper: nothing runs at build time"
	whyAccount = "account tool: Spartan writes /etc/passwd and /etc/group itself"
	whyLdconf  = "libc-bin: ldconfig and friends; Spartan lays out libraries itself"
	whyInit    = "init system: containers run one process and no init"
	whyCompile = "compiler toolchain: belongs in the dev profile"
)

// RuntimePolicy is the profile for images that run an application: no shell, no package
// manager, no interpreter that only maintainer scripts need, no userland tools. What stays on
// purpose: libraries (libc6, libperl, libapt-pkg if something links it), data packages such as
// readline-common, tzdata and ca-certificates, base-files (os-release, copyright layout).
func RuntimePolicy() Policy {
	cut := map[string]string{}
	add := func(reason string, names ...string) {
		for _, n := range names {
			cut[n] = reason
		}
	}
	add(whyShell, "bash", "bash-static", "dash", "zsh", "zsh-static", "mksh", "ksh", "posh",
		"yash", "tcsh", "csh", "fish", "busybox", "busybox-static")
	add(whyPkgMgr, "dpkg", "apt", "apt-utils", "aptitude")
	// debconf-2.0 is the virtual name maintainers depend on as an alternative
	// ("debconf | debconf-2.0"); cutting it and cdebconf keeps the alternative from
	// sneaking a second debconf implementation in.
	add(whyDebconf, "debconf", "debconf-i18n", "debconf-2.0", "cdebconf")
	add(whyPerl, "perl", "perl-base", "perl-modules-*")
	add(whyTool, "coreutils", "findutils", "grep", "sed", "gawk", "mawk", "original-awk",
		"diffutils", "tar", "gzip", "bzip2", "xz-utils", "util-linux", "util-linux-extra",
		"mount", "bsdutils", "ncurses-bin", "hostname", "sensible-utils", "debianutils",
		"sysvinit-utils", "procps")
	add(whyScript, "install-info", "init-system-helpers", "lsb-base", "ucf")
	add(whyAccount, "adduser", "passwd", "login", "base-passwd")
	add(whyLdconf, "libc-bin")
	add(whyInit, "init", "systemd", "systemd-sysv", "sysvinit-core")
	add(whyCompile, "gcc", "g++", "cpp", "binutils", "make", "build-essential", "dpkg-dev")
	return Policy{Name: "runtime", Cut: cut}
}

// DebugPolicy is the runtime profile with one exception, busybox-static: the debug image's
// shell and tools, kept apart under /busybox.
func DebugPolicy() Policy {
	p := RuntimePolicy()
	p.Name = "debug"
	delete(p.Cut, "busybox-static")
	return p
}

// DevPolicy is the profile for build stages: it keeps everything the packages ask for.
func DevPolicy() Policy { return Policy{Name: "dev", Cut: map[string]string{}} }
