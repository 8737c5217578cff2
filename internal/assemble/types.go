// Package assemble turns resolved Debian packages into the deterministic layer tars of an
// image. Every .deb is streamed into an in-memory tree (nothing is extracted to the host disk
// and nothing needs root), checked for unsafe entries, merged-/usr canonicalized and trimmed;
// then the files a maintainer script or an installer would have produced (accounts, CA bundle,
// os-release, /etc/localtime, dpkg records for scanners) are synthesized in Go. The layering
// strategy is described in docs/layers.md.
package assemble

import (
	"os"
	"time"

	"github.com/spartan-images/spartan/internal/debian/archive"
)

// RootfsPackage names the pseudo package that owns the synthesized files: its status.d record
// lets scanners and dpkg --verify attribute /etc/passwd & co. to something.
const RootfsPackage = "spartan-rootfs"

// Input is one resolved package and its verified .deb in the cache.
type Input struct {
	Pkg *archive.Package
	Deb string // path to the .deb, already checked against Pkg.SHA256
}

// User is an account in /etc/passwd. Home "" means /nonexistent, Shell "" means
// /sbin/nologin. A user with the name or UID of a default account replaces it.
type User struct {
	Name     string
	UID, GID int
	Home     string
	Shell    string
}

// Group is an entry of /etc/group. A group with the name or GID of a default group replaces it.
type Group struct {
	Name    string
	GID     int
	Members []string
}

// Path types accepted in Path.Type.
const (
	TypeDirectory = "directory"
	TypeFile      = "file"
	TypeSymlink   = "symlink"
)

// Path is a file the spec adds; it is applied last and may replace package or synthesized files.
type Path struct {
	Path    string
	Type    string      // TypeDirectory, TypeFile or TypeSymlink
	Content string      // TypeFile
	Target  string      // TypeSymlink
	Mode    os.FileMode // permission bits plus os.ModeSetuid/ModeSetgid/ModeSticky; 0 → 0755 dirs, 0644 files
	UID     int
	GID     int
}

// Trim selects what is dropped from packages. Copyright files always stay (license compliance).
type Trim struct {
	Docs        bool     // usr/share/doc/** except */copyright; usr/share/doc-base, lintian, bug
	Man         bool     // usr/share/man
	Info        bool     // usr/share/info
	Locales     bool     // usr/share/locale/<lang>/ except KeepLocales
	KeepLocales []string // locale directory names kept, e.g. "C.UTF-8"; "pt" also keeps "pt_BR"
	// Paths are the spec's extra patterns ("/usr/lib/python3.13/test/**"): path.Match per
	// segment, a trailing "/**" for a whole tree. Copyright files are never matched.
	Paths []string
	// JavaModules are removed from every usr/lib/jvm/*/lib/modules (see javaModules).
	JavaModules []string
}

// Options shape the image.
type Options struct {
	Arch      string // Debian architecture: amd64, arm64…
	Codename  string // "trixie": os-release VERSION_CODENAME
	VersionID string // "13": os-release VERSION_ID, "" for testing/unstable
	// Epoch (SOURCE_DATE_EPOCH) caps every mtime and is the image's creation time; zero means
	// no cap, and the newest package time is the creation time. See docs/layers.md.
	Epoch          time.Time
	Users          []User  // added to root 0, nobody 65534, nonroot 65532
	Groups         []Group // added to root 0, tty 5, staff 50, nonroot 65532, nogroup 65534
	Paths          []Path
	Certificates   [][]byte // extra PEM CERTIFICATE blocks appended to the CA bundle
	Trim           Trim
	StripSetuid    bool   // clear setuid/setgid bits of package files (each recorded in Result.Notes)
	LayerBudget    int    // maximum number of layers; 0 means 10
	SpartanVersion string // version of the spartan-rootfs record
	// DpkgDatabase also writes the classic dpkg database (var/lib/dpkg/status, info/*.list and
	// *.md5sums) beside the status.d records, for dev images where dpkg and apt-get must work.
	DpkgDatabase bool
	// AptSources become /etc/apt/sources.list.d/debian.sources when DpkgDatabase is set and apt
	// is installed: the repositories the image was resolved from.
	AptSources []AptSource
	// BusyboxLinks links every applet of busybox-static (which must be installed) under
	// /busybox, for debug images: a shell and tools kept apart from the runtime's paths.
	BusyboxLinks bool
	// BasePackages are the packages of the image this one extends (base: in the spec), all of
	// them among the inputs. They are laid out as that image lays them out, with
	// BaseLayerBudget, below layers of their own for the other packages, so that both images
	// share the base's package layers byte for byte. Empty for an image that extends nothing.
	BasePackages    []string
	BaseLayerBudget int
}

// AptSource is one deb822 paragraph of the dev image's apt sources.
type AptSource struct {
	URI        string
	Suites     []string
	Components []string
	// Key is a repository's own OpenPGP keyring (armored or binary), written to
	// /etc/apt/keyrings/<KeyName>.asc|.gpg; nil means Debian's keys from debian-archive-keyring.
	Key     []byte
	KeyName string
}

// Layer is one uncompressed, deterministic layer tar.
type Layer struct {
	Name     string   // source package, "shared" or RootfsPackage
	Packages []string // binary packages whose files and records it holds, sorted
	Tar      []byte
}

// Result is the assembled image content.
type Result struct {
	Layers  []Layer   // bottom to top; the spartan-rootfs layer is last
	Notes   []string  // things a reviewer should know: cleared setuid bits, overridden files…
	Trimmed int       // package files dropped by Trim
	Files   int       // non-directory entries in the image
	Epoch   time.Time // the image's creation time, also the synthesized entries' mtime
}
