package spec

import (
	"strconv"
	"time"
)

// Profile selects the hardening policy the resolver and assembler apply.
type Profile string

const (
	// Runtime: no shell, no package manager, non-root.
	Runtime Profile = "runtime"
	// Dev: shell, apt/dpkg and build tools allowed, runs as root; for the
	// build stage of a multi-stage Dockerfile.
	Dev Profile = "dev"
	// Debug: the runtime policy and defaults, plus busybox-static with its applets linked
	// under /busybox (appended to PATH); for troubleshooting a runtime image.
	Debug Profile = "debug"
)

// Archive names which configured mirror a repository uses.
const (
	ArchiveMain     = "main"     // --mirror / SPARTAN_MIRROR / host apt sources
	ArchiveSecurity = "security" // --security-mirror / SPARTAN_SECURITY_MIRROR / derived
)

// FileName is the spec file inside an image folder.
const FileName = "spartan.yaml"

// Spec is a fully resolved image spec: defaults applied, validated, and
// with relative file references made absolute.
type Spec struct {
	Name           string
	Description    string
	Distro         string   // "debian"
	Release        string   // codename: "trixie", "bookworm"
	ReleaseVersion string   // VERSION_ID for os-release: "13", "12"
	Archs          []string // Debian architecture names, in spec order
	Repositories   []Repository
	Packages       []string // requested packages, in spec order, without repeats
	Exclude        []string // never installed; edges to them are cut (allowed names already removed)
	// Allow names packages the profile's policy would cut that this spec lets in
	// (busybox-static in a debug variant), and lifts the same names from an inherited exclude.
	Allow        []string
	Profile      Profile
	Accounts     Accounts
	Entrypoint   []string
	Cmd          []string
	Env          map[string]string // PATH and SSL_CERT_FILE defaults are the builder's
	Workdir      string
	Paths        []Path
	Certificates []string // absolute paths of extra PEM files for the CA bundle
	Annotations  map[string]string
	Labels       map[string]string
	Tags         []string // full references, each with an explicit ":tag"
	Trim         Trim
	Layers       int // layer budget, 2..64
	// Base is the spec this one extends (base: python), the variant of the same name (or its
	// runtime spec when it has none); nil when the spec extends nothing. Its packages keep their
	// layers in this image (see docs/layers.md).
	Base *Spec
	// Files are the application's files, each set a layer above the packages.
	Files []FileSet
	// Healthcheck becomes the image config's Healthcheck; nil for none.
	Healthcheck *Healthcheck
	// Probe installs ProbePath, a shell-less HTTP(S)/TCP health probe (set by healthcheck.probe too).
	Probe bool

	VariantName string // "" for the base spec
	File        string // absolute path of the YAML file
	Dir         string // directory of File; relative references resolve here

	fam *family
}

// family is what all specs parsed from one file share.
type family struct {
	raw      []byte
	display  string // the path as the user gave it, for messages
	base     *Spec
	variants map[string]*Spec
	doc      *doc  // the base spec as written, merged with its own bases; variants included
	parent   *Spec // the spec it extends (base:), nil when none
}

// Repository is one APT source. Exactly one of Archive and URL is set.
type Repository struct {
	Archive    string // ArchiveMain or ArchiveSecurity: a configured mirror
	URL        string // an explicit mirror URL, without trailing slash
	Suites     []string
	Components []string
	Keyring    string // absolute path of an extra key file; "" = built-in Debian keys
}

// Accounts are the users and groups written to /etc/passwd and /etc/group
// besides root, which is always present.
type Accounts struct {
	Users  []User
	Groups []Group
	RunAs  string // as written (or defaulted): a user name or uid[:gid]
	// RunAsUID and RunAsGID are RunAs resolved to numbers, for the image
	// config: Kubernetes' runAsNonRoot can only verify numeric users.
	RunAsUID int
	RunAsGID int
}

// User returns the numeric "uid:gid" for the OCI image config.
func (a Accounts) User() string {
	return strconv.Itoa(a.RunAsUID) + ":" + strconv.Itoa(a.RunAsGID)
}

type User struct {
	Name  string
	UID   int
	GID   int
	Home  string
	Shell string
}

type Group struct {
	Name    string
	GID     int
	Members []string
}

// PathType says what a Path entry creates.
type PathType string

const (
	Directory PathType = "directory"
	File      PathType = "file"
	Symlink   PathType = "symlink"
)

// Path is a file system entry the image gets besides its packages' files.
type Path struct {
	Path    string
	Type    PathType
	Mode    int64 // Unix permission bits (as in tar headers); 0 for symlinks
	UID     int
	GID     int
	Content string // files only
	Target  string // symlinks only
}

// Trim says which package payload is left out of the image. Copyright
// files are always kept.
type Trim struct {
	Docs        bool // /usr/share/doc (except copyright files)
	Man         bool // /usr/share/man, /usr/share/info
	Locales     bool // /usr/share/locale and /usr/lib/locale except KeepLocales
	KeepLocales []string
	// Paths are extra patterns of package files to leave out, absolute ("/usr/lib/python3.13/test/**"):
	// path.Match syntax per segment, a trailing "/**" matching everything below a directory.
	Paths []string
	// JavaModules are modules removed from every Java runtime image (usr/lib/jvm/*/lib/modules)
	// in the image, as jlink would link it without them: "jdk.compiler", "jdk.jshell"…
	JavaModules []string
}

// FileSet is a directory or tar of application files copied to Dest, as one layer.
type FileSet struct {
	Src      string // absolute path of a directory or a .tar file
	Dest     string // absolute directory in the image
	UID, GID int
	Mode     int64 // regular files' permission bits; 0 keeps 0644, or 0755 when the owner may execute
	DirMode  int64 // directories' permission bits; 0 means 0755
}

// ProbePath is where the health probe is installed.
const ProbePath = "/usr/bin/spartan-probe"

// Healthcheck is the image's HEALTHCHECK, as the OCI/Docker config holds it.
type Healthcheck struct {
	Test        []string // ["CMD", program, args…]
	Probe       string   // the URL given to spartan-probe, when the check is one
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}
