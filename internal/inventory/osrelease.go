package inventory

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/spartan-images/spartan/internal/rootfs"
)

// OSRelease holds the os-release(5) fields Spartan reads.
type OSRelease struct {
	ID         string
	IDLike     []string // ID_LIKE: distributions this one derives from
	Name       string
	VersionID  string
	Codename   string // VERSION_CODENAME
	PrettyName string
}

// Distro is the purl distro qualifier: "<id>-<VERSION_ID>", or "<id>-<codename>" for Debian
// testing and unstable (no VERSION_ID); "" when os-release names neither. fallbackID stands
// in for a missing ID (the package namespace: "debian").
func (o OSRelease) Distro(fallbackID string) string {
	id := o.ID
	if id == "" {
		id = fallbackID
	}
	switch {
	case o.VersionID != "":
		return id + "-" + o.VersionID
	case o.Codename != "":
		return id + "-" + o.Codename
	}
	return ""
}

// osReleasePaths are where os-release(5) says to look, in order.
var osReleasePaths = []string{"/etc/os-release", "/usr/lib/os-release"}

func isOSRelease(p string) bool { return p == osReleasePaths[0] || p == osReleasePaths[1] }

// ReadOSRelease reads /etc/os-release (usually a symlink into /usr/lib), falling back to
// /usr/lib/os-release as os-release(5) says; empty when neither names an ID.
func ReadOSRelease(fs *rootfs.FS) OSRelease {
	for _, p := range osReleasePaths {
		if b, ok := fs.Content(p); ok {
			if o := ParseOSRelease(b); o.ID != "" {
				return o
			}
		}
	}
	return OSRelease{}
}

// ParseOSRelease reads os-release's KEY=value lines; values may be quoted.
func ParseOSRelease(data []byte) OSRelease {
	var o OSRelease
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			o.ID = v
		case "ID_LIKE":
			o.IDLike = strings.Fields(v)
		case "NAME":
			o.Name = v
		case "VERSION_ID":
			o.VersionID = v
		case "VERSION_CODENAME":
			o.Codename = v
		case "PRETTY_NAME":
			o.PrettyName = v
		}
	}
	return o
}
