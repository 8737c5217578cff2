package assemble

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

// BusyboxDir is where a debug image's busybox applets live; the builder appends it to PATH.
const BusyboxDir = "/busybox"

// busyboxPackage ships the binary; Debian's package installs no applet links of its own.
const busyboxPackage = "busybox-static"

// The applet names are data, taken once from `busybox --list` of Debian's busybox-static:
// nothing runs inside the image at build time. An applet a different busybox build lacks
// only answers "applet not found".
//
//go:embed data/busybox-applets.txt
var busyboxAppletList string

// busyboxApplets parses the list: one name per line, '#' comments and blank lines skipped.
func busyboxApplets() ([]string, error) {
	var out []string
	for i, line := range strings.Split(busyboxAppletList, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, "/\x00 ") || line == "." || line == ".." {
			return nil, fmt.Errorf("busybox applet list line %d: %q is not a file name", i+1, line)
		}
		out = append(out, line)
	}
	return out, nil
}

// busyboxLinks writes /busybox/<applet> → the package's binary for every applet, plus
// /busybox/busybox itself. Busybox picks the applet from the name it was called by, so links
// are enough. They belong to busybox-static's layer, next to the binary they point at.
func (a *assembler) busyboxLinks() error {
	if !a.opts.BusyboxLinks {
		return nil
	}
	if a.installed[busyboxPackage] == nil {
		return fmt.Errorf("busybox links: %s is not installed; add it to the packages", busyboxPackage)
	}
	const bin = "usr/bin/busybox"
	if n := a.tree.nodes[bin]; n == nil || n.kind != kindReg {
		return fmt.Errorf("busybox links: %s ships no /%s", busyboxPackage, bin)
	}
	applets, err := busyboxApplets()
	if err != nil {
		return err
	}
	dir := strings.TrimPrefix(BusyboxDir, "/")
	if _, err := a.tree.override(dir, &node{kind: kindDir, mode: 0o755, owners: []string{busyboxPackage}}); err != nil {
		return fmt.Errorf("busybox links: %w", err)
	}
	if !slices.Contains(applets, "busybox") {
		applets = append(applets, "busybox")
	}
	for _, name := range applets {
		n := &node{kind: kindSymlink, mode: 0o777, target: "/" + bin, owners: []string{busyboxPackage}}
		if _, err := a.tree.override(dir+"/"+name, n); err != nil {
			return fmt.Errorf("busybox links: %w", err)
		}
	}
	return nil
}

// BusyboxApplets lists the applet names the debug image links under BusyboxDir.
func BusyboxApplets() ([]string, error) { return busyboxApplets() }
