package audit

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/rootfs"
)

// Check is one rule. Dockle names the Dockle checkpoint it corresponds to (the same as ID for
// the checks that carry Dockle's id).
type Check struct {
	ID    string
	Title string
	Level Level // the level its findings usually have (SARIF's default configuration)
	Help  string
	// Applies returns why the check does not apply to an image, or "" when it does.
	Applies func(*Image) string
	Run     func(*Image) []Finding
}

// Checks is every check, in report order.
var Checks = []Check{
	{ID: "CIS-DI-0001", Title: "runs as a non-root user", Level: Warn, Run: checkUser,
		Help: "Set USER to a non-root account (Spartan's runtime images use 65532:65532 nonroot)."},
	{ID: "CIS-DI-0005", Title: "image is signed", Level: Warn, Applies: canCarrySignatures, Run: checkSignature,
		Help: "Sign the image (cosign sign) so that consumers can verify where it came from."},
	{ID: "CIS-DI-0006", Title: "HEALTHCHECK is set", Level: Info, Run: checkHealthcheck,
		Help: "Orchestrators usually probe health themselves; set HEALTHCHECK when the image runs under plain docker/podman."},
	{ID: "CIS-DI-0008", Title: "no setuid/setgid files", Level: Warn, Run: checkSetuid,
		Help: "Remove the setuid/setgid bits (chmod u-s,g-s): inside a container they only serve privilege escalation."},
	{ID: "CIS-DI-0009", Title: "no ADD of remote URLs", Level: Warn, Run: historyCheck("CIS-DI-0009", reAddURL, Warn, "ADD of a remote URL: the download is not verified"),
		Help: "Download with a checksum check, or COPY a file verified beforehand."},
	{ID: "CIS-DI-0010", Title: "no secrets in environment or files", Level: Fatal, Run: checkSecrets,
		Help: "Remove the credential from the image and rotate it: every layer keeps it for whoever pulls the image."},
	{ID: "DKL-DI-0001", Title: "no sudo in the build history", Level: Warn, Run: historyCheck("DKL-DI-0001", reSudo, Warn, "sudo in the build history"),
		Help: "Build steps already run as the build user; sudo in images adds a setuid binary and hides privilege changes."},
	{ID: "DKL-DI-0002", Title: "no sensitive VOLUME", Level: Warn, Run: checkVolumes,
		Help: "Do not declare volumes over system directories."},
	{ID: "DKL-DI-0003", Title: "no dist-upgrade in the build history", Level: Warn, Run: historyCheck("DKL-DI-0003", reDistUpgrade, Warn, "dist-upgrade in the build history: unpinned, unreproducible"),
		Help: "Rebuild from an updated base instead of upgrading inside the image."},
	{ID: "DKL-DI-0004", Title: "apk add uses --no-cache", Level: Info, Run: checkApkCache,
		Help: "Use apk add --no-cache so that the index cache does not stay in the layer."},
	{ID: "DKL-DI-0005", Title: "apt lists cleaned", Level: Info, Run: checkAptLists,
		Help: "rm -rf /var/lib/apt/lists/* in the same step as apt-get install."},
	{ID: "DKL-DI-0006", Title: "not the latest tag", Level: Warn, Applies: hasTag, Run: checkLatest,
		Help: "Pin a version tag or a digest: latest changes under you."},
	{ID: "DKL-LI-0001", Title: "no empty passwords", Level: Fatal, Applies: hasAccounts, Run: checkEmptyPasswords,
		Help: "Lock the account (password field '!' or '*')."},
	{ID: "DKL-LI-0002", Title: "no duplicate uids or gids", Level: Warn, Applies: hasAccounts, Run: checkDuplicateIDs,
		Help: "Give every account its own id: shared ids share file access."},
	{ID: "DKL-LI-0003", Title: "no unnecessary files (.git)", Level: Warn, Run: checkUnnecessary,
		Help: "Add .git to .dockerignore; it leaks history and sometimes credentials."},
	{ID: "SPT-0001", Title: "no shell", Level: Warn, Run: binaryCheck("SPT-0001", isShell, "shell"),
		Help: "A shell is what most exploits reach for first; runtime images don't need one (use a dev variant to build)."},
	{ID: "SPT-0002", Title: "no package manager", Level: Warn, Run: binaryCheck("SPT-0002", isPackageManager, "package manager"),
		Help: "A package manager lets an intruder install tools; install at build time in a separate stage."},
	{ID: "SPT-0003", Title: "no compilers or debuggers", Level: Warn, Run: binaryCheck("SPT-0003", isToolchain, "compiler/debugger"),
		Help: "Build in a build stage and copy only the result."},
	{ID: "SPT-0004", Title: "no network download tools", Level: Warn, Run: binaryCheck("SPT-0004", isNetTool, "network tool"),
		Help: "curl/wget/nc let an intruder fetch payloads; use the language's own HTTP client for health checks."},
	{ID: "SPT-0005", Title: "no world-writable files or directories", Level: Warn, Run: checkWorldWritable,
		Help: "Remove the o+w bit, or set the sticky bit on shared directories (like /tmp)."},
	{ID: "SPT-0006", Title: "files owned by known accounts", Level: Info, Applies: hasPasswd, Run: checkOrphanOwners,
		Help: "Files owned by a uid without an account get owned by whoever is later given that uid."},
	{ID: "SPT-0007", Title: "no piping downloads into a shell", Level: Warn, Run: historyCheck("SPT-0007", rePipeShell, Warn, "a download piped into a shell: unverified code ran at build time"),
		Help: "Download, verify the checksum or signature, then run."},
	{ID: "SPT-0008", Title: "SBOM/provenance attestation attached", Level: Info, Applies: canCarrySignatures, Run: checkAttestation,
		Help: "Attach an SBOM and provenance (cosign attest) so that consumers can check what is inside and how it was built."},
	{ID: "SPT-0009", Title: "no known vulnerabilities at or above --cve-level", Level: Warn, Applies: hasVulnScan, Run: checkVulns,
		Help: "WARN: Debian has published the fix, so the image is stale: rebuild it. INFO: no fix in Debian yet, or Debian will not fix it: track it, or state with VEX why it does not apply."},
}

// CheckByID finds a check.
func CheckByID(id string) (Check, bool) {
	for _, c := range Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

func checkUser(im *Image) []Finding {
	u := strings.TrimSpace(im.Config.Config.User)
	if u == "" {
		return []Finding{{ID: "CIS-DI-0001", Level: Warn, Path: "config.User", Message: "no USER set: the container runs as root"}}
	}
	name, _, _ := strings.Cut(u, ":")
	if name == "0" || name == "root" {
		return []Finding{{ID: "CIS-DI-0001", Level: Warn, Path: "config.User", Message: fmt.Sprintf("USER %s: the container runs as root", u)}}
	}
	if _, err := strconv.Atoi(name); err != nil {
		// A name: its uid is in /etc/passwd, and an account called "admin" can be uid 0.
		for _, a := range parseAccounts(im.FS, "/etc/passwd") {
			if a.name == name && len(a.fields) > 1 && a.fields[1] == "0" {
				return []Finding{{ID: "CIS-DI-0001", Level: Warn, Path: "config.User", Message: fmt.Sprintf("USER %s has uid 0 in /etc/passwd", u)}}
			}
		}
	}
	return nil
}

func canCarrySignatures(im *Image) string {
	switch im.Target.Kind {
	case imagesource.KindRegistry, imagesource.KindLayout:
		return ""
	}
	return fmt.Sprintf("signatures and attestations live next to an image in a registry or OCI layout, not in a %s", im.Target.Kind)
}

// companions finds cosign's tag scheme: sha256-<hex>.<suffix> for any of the image's digests.
func companions(im *Image, suffixes ...string) (found []string, listed bool) {
	if im.Target.Companions == nil {
		return nil, false
	}
	digests := slices.Clone(im.Target.Digests)
	if im.Digest != "" {
		digests = append(digests, im.Digest)
	}
	for _, d := range digests {
		tag := strings.Replace(d, ":", "-", 1)
		for _, s := range suffixes {
			for _, c := range im.Target.Companions {
				if c == tag+s || strings.HasSuffix(c, ":"+tag+s) {
					found = append(found, c)
				}
			}
		}
	}
	return found, true
}

func checkSignature(im *Image) []Finding {
	found, listed := companions(im, ".sig")
	switch {
	case !listed:
		return []Finding{{ID: "CIS-DI-0005", Level: Info, Path: im.Target.Name, Message: "could not list the repository's tags: signature not checked"}}
	case len(found) == 0:
		return []Finding{{ID: "CIS-DI-0005", Level: Warn, Path: im.Target.Name, Message: "no cosign signature (sha256-<digest>.sig) next to the image"}}
	}
	return nil
}

func checkAttestation(im *Image) []Finding {
	found, listed := companions(im, ".att", ".sbom")
	switch {
	case !listed:
		return []Finding{{ID: "SPT-0008", Level: Info, Path: im.Target.Name, Message: "could not list the repository's tags: attestations not checked"}}
	case len(found) == 0:
		return []Finding{{ID: "SPT-0008", Level: Info, Path: im.Target.Name, Message: "no SBOM or provenance attestation (sha256-<digest>.att/.sbom) next to the image"}}
	}
	return nil
}

func checkHealthcheck(im *Image) []Finding {
	hc := im.Config.Config.Healthcheck
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return []Finding{{ID: "CIS-DI-0006", Level: Info, Path: "config.Healthcheck", Message: "no HEALTHCHECK"}}
	}
	return nil
}

func checkSetuid(im *Image) []Finding {
	var out []Finding
	im.FS.Walk(func(e *rootfs.File) {
		if !e.IsRegular() || e.Mode&(modeSetuid|modeSetgid) == 0 {
			return
		}
		var bits []string
		if e.Mode&modeSetuid != 0 {
			bits = append(bits, fmt.Sprintf("setuid (uid %d)", e.UID))
		}
		if e.Mode&modeSetgid != 0 {
			bits = append(bits, fmt.Sprintf("setgid (gid %d)", e.GID))
		}
		out = append(out, Finding{ID: "CIS-DI-0008", Level: Warn, Path: e.Path,
			Message: fmt.Sprintf("%s file, mode %04o", strings.Join(bits, " and "), e.Mode&0o7777)})
	})
	return out
}

var (
	reAddURL      = regexp.MustCompile(`\bADD\b(\s+--\S+)*\s+https?://`)
	reSudo        = regexp.MustCompile(`(^|[\s;&|(])sudo\s`)
	reDistUpgrade = regexp.MustCompile(`\bdist-upgrade\b`)
	rePipeShell   = regexp.MustCompile(`\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(\S*/)?(ba|da|z|a)?sh\b`)
	reApkAdd      = regexp.MustCompile(`\bapk\s+(\S+\s+)*add\b`)
)

// historyCheck looks for a pattern in the build steps recorded in the config's history.
func historyCheck(id string, re *regexp.Regexp, level Level, msg string) func(*Image) []Finding {
	return func(im *Image) []Finding {
		var out []Finding
		for i, h := range im.Config.History {
			if re.MatchString(h.CreatedBy) {
				out = append(out, Finding{ID: id, Level: level, Path: fmt.Sprintf("history[%d]", i), Message: msg + ": " + short(h.CreatedBy)})
			}
		}
		return out
	}
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

func checkApkCache(im *Image) []Finding {
	var out []Finding
	for i, h := range im.Config.History {
		if reApkAdd.MatchString(h.CreatedBy) && !strings.Contains(h.CreatedBy, "--no-cache") {
			out = append(out, Finding{ID: "DKL-DI-0004", Level: Info, Path: fmt.Sprintf("history[%d]", i), Message: "apk add without --no-cache: " + short(h.CreatedBy)})
		}
	}
	return out
}

func checkAptLists(im *Image) []Finding {
	n := 0
	im.FS.Walk(func(e *rootfs.File) {
		if e.IsRegular() && strings.HasPrefix(e.Path, "/var/lib/apt/lists/") && path.Base(e.Path) != "lock" {
			n++
		}
	})
	if n == 0 {
		return nil
	}
	return []Finding{{ID: "DKL-DI-0005", Level: Info, Path: "/var/lib/apt/lists", Message: fmt.Sprintf("%d apt index files left in the image", n)}}
}

// sensitiveVolumes are system directories a VOLUME must not cover.
var sensitiveVolumes = []string{"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var/run", "/var/run/docker.sock", "/run/docker.sock"}

func checkVolumes(im *Image) []Finding {
	var out []Finding
	for _, v := range slices.Sorted(mapKeys(im.Config.Config.Volumes)) {
		p := rootfs.Clean(v)
		for _, s := range sensitiveVolumes {
			if p == s || s != "/" && (s == "/dev" || s == "/proc" || s == "/sys") && strings.HasPrefix(p, s+"/") {
				out = append(out, Finding{ID: "DKL-DI-0002", Level: Warn, Path: "config.Volumes", Message: "sensitive VOLUME " + v})
				break
			}
		}
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func hasTag(im *Image) string {
	if im.Target.Tag == "" {
		return "the target is not a tagged registry reference"
	}
	return ""
}

func checkLatest(im *Image) []Finding {
	if im.Target.Tag == "latest" {
		return []Finding{{ID: "DKL-DI-0006", Level: Warn, Path: im.Target.Name, Message: "the reference uses the latest tag"}}
	}
	return nil
}

// account is one line of passwd/shadow/group: the name and the other fields.
type account struct {
	name   string
	fields []string // after the name
	line   int
}

func parseAccounts(fs *rootfs.FS, file string) []account {
	b, ok := fs.Content(file)
	if !ok {
		return nil
	}
	var out []account
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		out = append(out, account{name: f[0], fields: f[1:], line: n})
	}
	return out
}

func hasAccounts(im *Image) string {
	if _, ok := im.FS.Content("/etc/passwd"); !ok {
		if _, ok := im.FS.Content("/etc/shadow"); !ok {
			return "no /etc/passwd or /etc/shadow"
		}
	}
	return ""
}

func hasPasswd(im *Image) string {
	if _, ok := im.FS.Content("/etc/passwd"); !ok {
		return "no /etc/passwd"
	}
	return ""
}

func checkEmptyPasswords(im *Image) []Finding {
	var out []Finding
	shadowed := map[string]bool{}
	for _, a := range parseAccounts(im.FS, "/etc/shadow") {
		shadowed[a.name] = true
		if len(a.fields) > 0 && a.fields[0] == "" {
			out = append(out, Finding{ID: "DKL-LI-0001", Level: Fatal, Path: "/etc/shadow",
				Message: fmt.Sprintf("account %s has an empty password (line %d)", a.name, a.line)})
		}
	}
	for _, a := range parseAccounts(im.FS, "/etc/passwd") {
		if len(a.fields) > 0 && a.fields[0] == "" && !shadowed[a.name] {
			out = append(out, Finding{ID: "DKL-LI-0001", Level: Fatal, Path: "/etc/passwd",
				Message: fmt.Sprintf("account %s has an empty password (line %d)", a.name, a.line)})
		}
	}
	return out
}

func checkDuplicateIDs(im *Image) []Finding {
	var out []Finding
	for _, file := range []string{"/etc/passwd", "/etc/group"} {
		byID := map[string][]string{}
		for _, a := range parseAccounts(im.FS, file) {
			if len(a.fields) > 1 {
				byID[a.fields[1]] = append(byID[a.fields[1]], a.name)
			}
		}
		kind := map[string]string{"/etc/passwd": "uid", "/etc/group": "gid"}[file]
		for _, id := range slices.Sorted(mapKeys(byID)) {
			if names := byID[id]; len(names) > 1 {
				out = append(out, Finding{ID: "DKL-LI-0002", Level: Warn, Path: file,
					Message: fmt.Sprintf("%s %s is shared by %s", kind, id, strings.Join(names, ", "))})
			}
		}
	}
	return out
}

func checkUnnecessary(im *Image) []Finding {
	var out []Finding
	im.FS.Walk(func(e *rootfs.File) {
		if e.IsDir() && path.Base(e.Path) == ".git" {
			out = append(out, Finding{ID: "DKL-LI-0003", Level: Warn, Path: e.Path, Message: "git repository metadata in the image"})
		}
	})
	return out
}

func checkSecrets(im *Image) []Finding {
	var out []Finding
	for i, kv := range im.Config.Config.Env {
		name, _, _ := strings.Cut(kv, "=")
		for _, h := range scanEnv(kv) {
			out = append(out, Finding{ID: "CIS-DI-0010", Level: h.Level, Path: fmt.Sprintf("config.Env[%d]", i),
				Message: fmt.Sprintf("%s in environment variable %s", h.Kind, name)})
		}
	}
	im.FS.Walk(func(e *rootfs.File) {
		for _, h := range secretsIn(e) {
			out = append(out, Finding{ID: "CIS-DI-0010", Level: h.Level, Path: e.Path, Message: fmt.Sprintf("%s (line %d)", h.Kind, h.Line)})
		}
		if b := path.Base(e.Path); e.IsRegular() && (b == ".env" || strings.HasPrefix(b, ".env.")) {
			out = append(out, Finding{ID: "CIS-DI-0010", Level: Warn, Path: e.Path, Message: "dotenv file: usually holds credentials"})
		}
	})
	return out
}

// binDirs are where commands are looked up; a shell elsewhere (a library's test data) isn't a
// shell anyone can exec by name.
var binDirs = []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/"}

var (
	reShell          = regexp.MustCompile(`^(sh|bash|rbash|dash|ash|zsh|ksh|mksh|csh|tcsh|fish|busybox)$`)
	rePkgMgr         = regexp.MustCompile(`^(apt|apt-get|aptitude|dpkg|apk|rpm|yum|dnf|microdnf|zypper|pip|pip3|pip3\.[0-9]+)$`)
	reTool           = regexp.MustCompile(`^([a-z0-9_]+-linux-gnu[a-z]*-)?(gcc|cc|c\+\+|g\+\+|clang|clang\+\+|ld|ld\.bfd|ld\.gold|gdb|strace|ltrace)(-[0-9.]+)?$`)
	reNetTool        = regexp.MustCompile(`^(curl|wget|nc|ncat|netcat|nc\.openbsd|nc\.traditional|socat|telnet)$`)
	isShell          = reShell.MatchString
	isNetTool        = reNetTool.MatchString
	isToolchain      = reTool.MatchString
	isPackageManager = rePkgMgr.MatchString
)

func binaryCheck(id string, match func(string) bool, what string) func(*Image) []Finding {
	return func(im *Image) []Finding {
		var out []Finding
		for _, e := range Binaries(im.FS, match) {
			msg := fmt.Sprintf("%s %s", what, path.Base(e.Path))
			if e.Type == tar.TypeSymlink {
				msg += " (symlink to " + e.Linkname + ")"
			}
			out = append(out, Finding{ID: id, Level: Warn, Path: e.Path, Message: msg})
		}
		return out
	}
}

// Binaries lists the executables in the command directories whose name matches, following
// symlinks to check they lead to a real file. compare counts shells and package managers
// with it.
func Binaries(fs *rootfs.FS, match func(string) bool) []*rootfs.File {
	var out []*rootfs.File
	fs.Walk(func(e *rootfs.File) {
		if !slices.Contains(binDirs, path.Dir(e.Path)) || !match(path.Base(e.Path)) {
			return
		}
		t := fs.Lookup(e.Path)
		if t == nil || !t.IsRegular() {
			return
		}
		out = append(out, e)
	})
	return out
}

// Matchers for compare's counts.
var (
	MatchShell          = isShell
	MatchPackageManager = isPackageManager
)

func checkWorldWritable(im *Image) []Finding {
	var out []Finding
	im.FS.Walk(func(e *rootfs.File) {
		if e.Mode&0o002 == 0 || !(e.IsRegular() || e.IsDir()) {
			return
		}
		if e.IsDir() && e.Mode&modeSticky != 0 {
			return // /tmp-style: everyone may create, nobody may delete others' files
		}
		kind := "file"
		if e.IsDir() {
			kind = "directory without the sticky bit"
		}
		out = append(out, Finding{ID: "SPT-0005", Level: Warn, Path: e.Path, Message: fmt.Sprintf("world-writable %s, mode %04o", kind, e.Mode&0o7777)})
	})
	return out
}

func checkOrphanOwners(im *Image) []Finding {
	known := map[int]bool{0: true}
	for _, a := range parseAccounts(im.FS, "/etc/passwd") {
		if len(a.fields) > 1 {
			if uid, err := strconv.Atoi(a.fields[1]); err == nil {
				known[uid] = true
			}
		}
	}
	first := map[int]string{}
	count := map[int]int{}
	im.FS.Walk(func(e *rootfs.File) {
		if e.Path == "/" || known[e.UID] {
			return
		}
		if count[e.UID] == 0 {
			first[e.UID] = e.Path
		}
		count[e.UID]++
	})
	uids := make([]int, 0, len(count))
	for u := range count {
		uids = append(uids, u)
	}
	sort.Ints(uids)
	var out []Finding
	for _, u := range uids {
		msg := fmt.Sprintf("owned by uid %d, which has no account in /etc/passwd", u)
		if n := count[u] - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more paths)", n)
		}
		out = append(out, Finding{ID: "SPT-0006", Level: Info, Path: first[u], Message: msg})
	}
	return out
}
