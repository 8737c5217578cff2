package resolve

import debresolve "github.com/spartan-images/spartan/internal/debian/resolve"

// Policy is the same hardening profile type the Debian resolver uses: names (or globs, or
// virtual names such as "/bin/sh" and "cmd:sh") an image of this kind must not contain, each
// with the reason shown when a declared dependency on it is dropped.
type Policy = debresolve.Policy

const (
	whyShell    = "shell: not in runtime images"
	whyPkgMgr   = "package manager: runtime images are immutable"
	whyTool     = "userland tool: runtime images ship no shell utilities"
	whyLibcUtil = "libc tools (ldd, ldconfig, getconf): Spartan lays out libraries itself"
	whyInit     = "init system: containers run one process and no init"
	whyCompile  = "compiler toolchain: belongs in the dev profile"
	whyAccount  = "account tool: Spartan writes /etc/passwd and /etc/group itself"
)

// RuntimePolicy is the Alpine profile for images that run an application: no busybox (it is
// Alpine's shell and userland), no /bin/sh provider, no apk-tools, no init, no compilers.
// What stays on purpose: musl, libraries, ca-certificates-bundle, tzdata, alpine-release
// (os-release) and alpine-baselayout-data (/etc/passwd skeleton, which Spartan rewrites).
func RuntimePolicy() Policy {
	cut := map[string]string{}
	add := func(reason string, names ...string) {
		for _, n := range names {
			cut[n] = reason
		}
	}
	add(whyShell, "busybox", "busybox-static", "busybox-binsh", "busybox-suid", "busybox-extras",
		"busybox-openrc", "bash", "dash", "dash-binsh", "zsh", "mksh", "yash", "oksh", "loksh",
		"/bin/sh", "cmd:sh", "cmd:bash", "cmd:busybox")
	add(whyPkgMgr, "apk-tools", "apk-tools-static", "apk-tools-doc", "alpine-keys", "cmd:apk")
	add(whyTool, "coreutils", "findutils", "grep", "sed", "gawk", "diffutils", "tar", "gzip",
		"bzip2", "xz", "util-linux", "util-linux-misc", "procps", "procps-ng", "less", "alpine-conf",
		"ssl_client", "scanelf", "pax-utils")
	add(whyLibcUtil, "musl-utils", "libc-utils")
	add(whyInit, "openrc", "alpine-base", "mkinitfs", "busybox-mdev-openrc", "busybox-initscripts")
	add(whyCompile, "gcc", "g++", "binutils", "make", "build-base", "musl-dev", "abuild")
	add(whyAccount, "shadow", "adduser")
	return Policy{Name: "runtime", Cut: cut}
}

// DebugPolicy is the runtime profile with busybox allowed: the debug image's tools, kept
// apart under /busybox (busybox-binsh, which would make it /bin/sh, stays cut).
func DebugPolicy() Policy {
	p := RuntimePolicy()
	p.Name = "debug"
	delete(p.Cut, "busybox")
	delete(p.Cut, "busybox-static")
	return p
}

// DevPolicy keeps everything the packages ask for, apk-tools included.
func DevPolicy() Policy { return Policy{Name: "dev", Cut: map[string]string{}} }
