// Package images is the catalog: one folder per image holding its spec. The specs are embedded
// so that a custom spec anywhere on disk can extend a catalog image by name (base: python) with
// the binary alone, and always the catalog this binary was built with.
package images

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

//go:embed */spartan.yaml
var specs embed.FS

// Spec returns the catalog image's spec file, or false when the catalog has no such image.
func Spec(name string) ([]byte, bool) {
	if !fs.ValidPath(name) || path.Dir(name) != "." {
		return nil, false
	}
	data, err := specs.ReadFile(name + "/spartan.yaml")
	return data, err == nil
}

// Names lists the catalog's images, sorted.
func Names() []string {
	entries, _ := specs.ReadDir(".")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}
