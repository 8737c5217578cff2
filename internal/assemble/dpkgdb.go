package assemble

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/control"

	"github.com/spartan-images/spartan/internal/tarpath"
)

// The classic dpkg database, which dpkg and apt read (scanners read status.d). Only dev images
// get it: a runtime image has no package manager to read it.
const (
	dpkgDir  = "var/lib/dpkg/"
	dpkgInfo = dpkgDir + "info/"
	// Where debian-archive-keyring puts Debian's keys; the sources name it in Signed-By.
	debianKeyring  = "usr/share/keyrings/debian-archive-keyring.gpg"
	aptSourcesFile = "etc/apt/sources.list.d/debian.sources"
)

// dpkgDB writes var/lib/dpkg/status with every package marked installed, and each package's
// file list and md5sums under info/, so dpkg knows what owns what and apt sees the installed
// set. Maintainer scripts never ran; the packages are recorded as configured anyway, which is
// what a build stage needs: a package installed later runs its own scripts.
// spartan-rootfs stays out of it: it is no Debian package, and files a later package ships over
// a synthesized one (a package's own conffile, say) should simply replace it.
func (a *assembler) dpkgDB() error {
	if !a.opts.DpkgDatabase {
		return nil
	}
	emitted := a.emittedPaths()
	var status bytes.Buffer
	type infoFile struct {
		path, owner string
		data        []byte
	}
	var files []infoFile
	for _, l := range a.pkgs {
		name := l.in.Pkg.Name
		if status.Len() > 0 {
			status.WriteByte('\n')
		}
		status.Write(a.dpkgStatus(l))
		base := dpkgInfo + infoName(l)
		files = append(files, infoFile{base + ".list", name, fileList(l, emitted)})
		sums := filterMD5Sums(l.info.MD5Sums, name, a.tree)
		if l.info.MD5Sums == nil {
			sums = ownedMD5Sums(a.tree, name)
		}
		// Even empty: dpkg --audit asks for a reinstall of packages without one.
		files = append(files, infoFile{base + ".md5sums", name, sums})
	}
	// Written after every list is computed, so no list names another package's info files.
	for _, f := range files {
		if err := a.synthFile(f.path, f.data, 0o644, f.owner); err != nil {
			return err
		}
	}
	for _, d := range []string{"info", "updates", "triggers", "alternatives", "parts"} {
		if err := a.synthDir(dpkgDir+d, 0o755, 0, 0); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		path string
		data []byte
	}{
		{dpkgDir + "status", status.Bytes()},
		{dpkgDir + "available", nil},
		// Database format 1: multiarch-aware info file names. Without it dpkg would try to
		// upgrade a database that is already in the new layout.
		{dpkgInfo + "format", []byte("1\n")},
	} {
		if err := a.synthFile(f.path, f.data, 0o644, RootfsPackage); err != nil {
			return err
		}
	}
	return nil
}

// dpkgStatus is the package's status paragraph with its conffiles and their current sums, so
// that an upgrade inside the image treats them as unmodified.
func (a *assembler) dpkgStatus(l *loaded) []byte {
	p := statusFields(l.info.Control)
	var conf strings.Builder
	for _, c := range l.info.Conffiles {
		cp, err := tarpath.Clean(strings.TrimPrefix(strings.TrimSpace(c), "/"))
		if err != nil || cp == "" {
			continue
		}
		n := a.tree.nodes[canonical(cp)]
		if n == nil || n.kind != kindReg {
			continue
		}
		fmt.Fprintf(&conf, "\n /%s %x", cp, md5.Sum(n.blob.data))
	}
	if conf.Len() > 0 {
		p.Set("Conffiles", conf.String())
	}
	return []byte(p.String())
}

// infoName is the package's name in info/: Multi-Arch: same packages carry their architecture
// there, since several architectures of them may be installed together.
func infoName(l *loaded) string {
	name, arch := l.in.Pkg.Name, l.info.Control.Get("Architecture")
	ma := l.in.Pkg.MultiArch
	if ma == "" {
		ma = l.info.Control.Get("Multi-Arch")
	}
	if strings.EqualFold(ma, "same") && arch != "" && arch != "all" {
		return name + ":" + arch
	}
	return name
}

// emittedPaths are the paths the layers will hold: every owned entry and its parents
// (a trimmed directory stays in the tree without an owner and is not written).
func (a *assembler) emittedPaths() map[string]bool {
	out := map[string]bool{}
	for p, n := range a.tree.nodes {
		if len(n.owners) == 0 {
			continue
		}
		out[p] = true
		for _, d := range parents(p) {
			out[d] = true
		}
	}
	return out
}

// fileList is info/<pkg>.list: "/." and then every path the package shipped that is in the
// image, with its parent directories, sorted. dpkg removes these on purge and checks them for
// conflicts when another package is installed.
func fileList(l *loaded, emitted map[string]bool) []byte {
	set := map[string]bool{}
	for _, e := range l.entries {
		if !emitted[e.path] {
			continue
		}
		set[e.path] = true
		for _, d := range parents(e.path) {
			set[d] = true
		}
	}
	paths := make([]string, 0, len(set))
	for p := range set {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b bytes.Buffer
	b.WriteString("/.\n")
	for _, p := range paths {
		b.WriteString("/" + p + "\n")
	}
	return b.Bytes()
}

var keyName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// aptSources writes the deb822 sources apt-get uses inside a dev image: the same mirrors and
// suites the image was resolved from, each signed by the keys that verified it at build time.
func (a *assembler) aptSources() error {
	if !a.opts.DpkgDatabase || len(a.opts.AptSources) == 0 {
		return nil
	}
	if a.installed["apt"] == nil {
		a.notes = append(a.notes, "apt is not installed: no apt sources written")
		return nil
	}
	var b bytes.Buffer
	for i, s := range a.opts.AptSources {
		if s.URI == "" || len(s.Suites) == 0 || strings.ContainsAny(s.URI+strings.Join(s.Suites, "")+strings.Join(s.Components, ""), "\n\r") {
			return fmt.Errorf("apt source %d: needs a URI and suites, without line breaks", i+1)
		}
		signedBy := "/" + debianKeyring
		if s.Key != nil {
			if !keyName.MatchString(s.KeyName) {
				return fmt.Errorf("apt source %s: key name %q: use lowercase letters, digits, '.', '_', '-'", s.URI, s.KeyName)
			}
			ext := ".gpg"
			if bytes.Contains(s.Key, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
				ext = ".asc" // apt tells the two formats apart by the extension
			}
			signedBy = "/etc/apt/keyrings/" + s.KeyName + ext
			if err := a.synthFile(signedBy[1:], s.Key, 0o644, RootfsPackage); err != nil {
				return err
			}
		} else if n := a.tree.resolve(debianKeyring); n == nil || n.kind != kindReg {
			return fmt.Errorf("apt source %s: Debian's keys are not in the image: add debian-archive-keyring to the packages", s.URI)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		p := control.Paragraph{Fields: []control.Field{
			{Name: "Types", Value: "deb"},
			{Name: "URIs", Value: s.URI},
			{Name: "Suites", Value: strings.Join(s.Suites, " ")},
			{Name: "Components", Value: strings.Join(s.Components, " ")},
			{Name: "Signed-By", Value: signedBy},
		}}
		b.WriteString(p.String())
	}
	return a.synthFile(aptSourcesFile, b.Bytes(), 0o644, RootfsPackage)
}
