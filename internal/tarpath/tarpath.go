// Package tarpath is the one rule for the names of archive entries Spartan unpacks or copies
// into an image (.deb and .apk data, application tars): relative, no "..", no NUL, and
// symlinks that do not climb above the root. Such names only exist to write outside the
// directory an archive is unpacked into.
package tarpath

import (
	"errors"
	"path"
	"strings"
)

// Clean turns an entry name ("./usr/bin/x", "usr/bin/x/") into a clean relative path
// ("usr/bin/x"); "" is the root itself. Absolute names, ".." components and NUL are refused.
func Clean(name string) (string, error) {
	switch {
	case strings.HasPrefix(name, "/"):
		return "", errors.New("absolute entry name: an archive must hold paths relative to where it is unpacked")
	case strings.ContainsRune(name, 0):
		return "", errors.New("NUL in entry name")
	}
	var parts []string
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
		case "..":
			return "", errors.New(`".." in entry name would climb out of where the archive is unpacked`)
		default:
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, "/"), nil
}

// Climbs reports whether a relative symlink target, resolved lexically from the directory dir
// (a clean relative path, "" or "." for the root), goes above the root. In a container that
// lands on "/" anyway, but tools that unpack layers onto a host directory would follow it
// out. Absolute targets never climb.
func Climbs(dir, target string) bool {
	if path.IsAbs(target) {
		return false
	}
	depth := 0
	if dir != "" && dir != "." {
		depth = strings.Count(dir, "/") + 1
	}
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
