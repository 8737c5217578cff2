package spec

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var (
	// Image names become the repository part of the default tag, so they
	// follow the OCI distribution repository grammar.
	reName     = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	rePackage  = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`) // Debian policy 5.6.1
	reSuite    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
	reComp     = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*$`)
	reEnvKey   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	reAccount  = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`) // portable useradd names
	reLocale   = regexp.MustCompile(`^[A-Za-z0-9_.@-]+$`)
	reVariant  = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	reTag      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	reRegistry = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$`)
	reRepoPart = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	reRunAsIDs = regexp.MustCompile(`^([0-9]+)(?::([0-9]+))?$`)
	// Alpine releases are branch names: v3.22, or edge.
	reAlpineRelease = regexp.MustCompile(`^(v[0-9]+\.[0-9]+|edge)$`)
)

// maxID is the largest uid/gid accepted: 2^31-1 is safe for every libc and
// container runtime, and (uid_t)-1 means "no change" to chown.
const maxID = 1<<31 - 1

// releases maps the supported Debian codenames to their VERSION_ID.
var releases = map[string]string{
	"bookworm": "12",
	"trixie":   "13",
}

var archs = []string{"amd64", "arm64", "armhf", "ppc64el", "riscv64", "s390x"}

// archAliases catches the names other ecosystems use for Debian's archs.
var archAliases = map[string]string{
	"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "arm64/v8": "arm64",
	"arm": "armhf", "arm/v7": "armhf", "armv7": "armhf", "armv7l": "armhf",
	"ppc64le": "ppc64el", "riscv": "riscv64",
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checkName(s string) string {
	if len(s) > 128 || !reName.MatchString(s) {
		return fmt.Sprintf("invalid image name %q: use lowercase letters, digits and . _ - (e.g. python)", s)
	}
	return ""
}

func checkDistro(s string) string {
	switch s {
	case "debian", "alpine":
		return ""
	}
	return fmt.Sprintf("unknown distro %q; supported: debian, alpine", s)
}

func checkRelease(s string) string {
	if _, ok := releases[s]; ok {
		return ""
	}
	if reAlpineRelease.MatchString(s) {
		return "" // whether it fits the distro is checked once both are known
	}
	for name, v := range releases {
		if s == v {
			return fmt.Sprintf("use the codename %q instead of the version number %s", name, v)
		}
	}
	var names []string
	for _, name := range sortedKeys(releases) {
		names = append(names, fmt.Sprintf("%s (%s)", name, releases[name]))
	}
	return fmt.Sprintf("unknown release %q; supported: %s", s, strings.Join(names, ", "))
}

func checkArch(s string) string {
	for _, a := range archs {
		if s == a {
			return ""
		}
	}
	if a, ok := archAliases[strings.ToLower(strings.TrimPrefix(s, "linux/"))]; ok {
		return fmt.Sprintf("unknown architecture %q (Debian calls it %q)", s, a)
	}
	return fmt.Sprintf("unknown architecture %q; supported: %s", s, strings.Join(archs, ", "))
}

func checkProfile(s string) string {
	switch Profile(s) {
	case Runtime, Dev, Debug:
		return ""
	}
	return fmt.Sprintf("unknown profile %q; use runtime, dev or debug", s)
}

func checkPackage(s string) string {
	if !rePackage.MatchString(s) {
		hint := ""
		if strings.ContainsAny(s, "=<>: ") {
			hint = " (list bare package names; versions come from the archive)"
		}
		return fmt.Sprintf("invalid package name %q%s", s, hint)
	}
	return ""
}

func checkSuite(s string) string {
	if !reSuite.MatchString(s) || strings.Contains(s, "..") {
		return fmt.Sprintf("invalid suite %q", s)
	}
	return ""
}

func checkComponent(s string) string {
	if !reComp.MatchString(s) || strings.Contains(s, "..") {
		return fmt.Sprintf("invalid component %q", s)
	}
	return ""
}

func checkEnvKey(s string) string {
	if !reEnvKey.MatchString(s) {
		return fmt.Sprintf("invalid variable name %q: use letters, digits and _, not starting with a digit", s)
	}
	return ""
}

func checkAccount(s string) string {
	if !reAccount.MatchString(s) {
		return fmt.Sprintf("invalid name %q: use lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters", s)
	}
	return ""
}

func checkTrimPattern(s string) string {
	if !strings.HasPrefix(s, "/") {
		return fmt.Sprintf("trim pattern %q must be absolute (start with /)", s)
	}
	if _, err := path.Match(strings.TrimSuffix(s, "/**"), ""); err != nil {
		return fmt.Sprintf("trim pattern %q: %v", s, err)
	}
	if strings.Contains(s, "/copyright") {
		return fmt.Sprintf("trim pattern %q: copyright files are always kept (license compliance)", s)
	}
	return ""
}

func checkLocale(s string) string {
	if !reLocale.MatchString(s) {
		return fmt.Sprintf("invalid locale %q (e.g. C.UTF-8, en_US.UTF-8)", s)
	}
	return ""
}

// reJavaModule is a Java module name: dot-separated Java identifiers (ASCII is all the JDK uses).
var reJavaModule = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`)

func checkJavaModule(s string) string {
	if !reJavaModule.MatchString(s) {
		return fmt.Sprintf("invalid Java module name %q (e.g. jdk.compiler)", s)
	}
	if s == "java.base" {
		return "java.base cannot be removed: every Java program needs it"
	}
	return ""
}

func checkVariantName(s string) string {
	if s == string(Runtime) {
		return `variant name "runtime" is reserved for the base spec`
	}
	if !reVariant.MatchString(s) {
		return fmt.Sprintf("invalid variant name %q: use lowercase letters, digits and . _ - (it becomes a tag suffix)", s)
	}
	return ""
}

func checkNonEmpty(s string) string {
	if s == "" {
		return "must not be empty"
	}
	return ""
}

func checkNoNUL(s string) string {
	if strings.ContainsRune(s, 0) {
		return "must not contain NUL bytes"
	}
	return ""
}

// checkAbs requires a clean absolute path: the image is assembled without
// a chroot, so "..", "//" or relative paths would be ambiguous at best.
func checkAbs(s string) string {
	switch {
	case !strings.HasPrefix(s, "/"):
		return fmt.Sprintf("path %q must be absolute (start with /)", s)
	case strings.ContainsRune(s, 0):
		return "path must not contain NUL bytes"
	case path.Clean(s) != s:
		return fmt.Sprintf("path %q is not clean; write %q", s, path.Clean(s))
	}
	return ""
}

// checkFilePath is checkAbs for entries the spec creates: "/" itself is
// always there and cannot be replaced.
func checkFilePath(s string) string {
	if msg := checkAbs(s); msg != "" {
		return msg
	}
	if s == "/" {
		return `cannot manage "/" itself`
	}
	return ""
}

// normalizeTag validates an image reference used as a tag and adds
// ":latest" when the tag part is missing. Digests are not tags.
func normalizeTag(s string) (string, string) {
	if strings.Contains(s, "@") {
		return "", fmt.Sprintf("tag %q must not contain a digest", s)
	}
	repo, tag := s, "latest"
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		repo, tag = s[:i], s[i+1:]
	}
	bad := func() (string, string) {
		return "", fmt.Sprintf("invalid tag %q: expected [registry/]repository[:tag], e.g. python:3.13", s)
	}
	if !reTag.MatchString(tag) || repo == "" || len(repo) > 255 {
		return bad()
	}
	parts := strings.Split(repo, "/")
	// The first part is a registry host when it looks like one, as in
	// the docker reference grammar.
	if len(parts) > 1 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost") {
		if !reRegistry.MatchString(parts[0]) {
			return bad()
		}
		parts = parts[1:]
	}
	for _, p := range parts {
		if !reRepoPart.MatchString(p) {
			return bad()
		}
	}
	return repo + ":" + tag, ""
}

// parseMode reads permission bits as octal whatever the YAML type: both
// mode: "0755" and mode: 0755 mean rwxr-xr-x, as with chmod.
func parseMode(s string) (int64, string) {
	t := strings.TrimPrefix(s, "0o")
	v, err := strconv.ParseUint(t, 8, 32)
	if err != nil || t == "" || len(t) > 5 {
		return 0, fmt.Sprintf("invalid mode %q: write octal permission bits such as \"0755\"", s)
	}
	if v > 0o7777 {
		return 0, fmt.Sprintf("mode %q is out of range (at most 07777)", s)
	}
	if v&0o6000 != 0 {
		return 0, fmt.Sprintf("mode %q sets setuid/setgid bits, which hardened images do not allow", s)
	}
	return int64(v), ""
}
