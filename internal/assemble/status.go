package assemble

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/spartan-images/spartan/internal/debian/control"

	"github.com/spartan-images/spartan/internal/tarpath"
)

// Scanners (Trivy, Grype/Syft, Docker Scout) read distroless-style records: one dpkg status
// paragraph per file in var/lib/dpkg/status.d, with an optional <pkg>.md5sums beside it.
const statusDir = "var/lib/dpkg/status.d/"

// statusRecords writes each package's record into its own layer: the .deb's control paragraph
// with the Status dpkg would add, and its md5sums limited to the files that are really there.
func (a *assembler) statusRecords() error {
	for _, l := range a.pkgs {
		name := l.in.Pkg.Name
		if err := a.synthFile(statusDir+name, statusParagraph(l.info.Control), 0o644, name); err != nil {
			return err
		}
		sums := filterMD5Sums(l.info.MD5Sums, name, a.tree)
		if l.info.MD5Sums == nil {
			sums = ownedMD5Sums(a.tree, name)
		}
		if len(sums) > 0 {
			if err := a.synthFile(statusDir+name+".md5sums", sums, 0o644, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// statusParagraph returns p with "Status: install ok installed" right after Package, where
// dpkg puts it.
func statusParagraph(p control.Paragraph) []byte { return []byte(statusFields(p).String()) }

// statusFields is the paragraph itself, for callers that add fields (dpkg's Conffiles).
func statusFields(p control.Paragraph) control.Paragraph {
	var out control.Paragraph
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, "Status") {
			continue
		}
		out.Fields = append(out.Fields, f)
		if strings.EqualFold(f.Name, "Package") {
			out.Fields = append(out.Fields, control.Field{Name: "Status", Value: "install ok installed"})
		}
	}
	return out
}

// filterMD5Sums keeps the lines of a .deb's md5sums whose file is in the image and still the
// package's (not trimmed, not replaced), with paths moved under /usr where merged-/usr put them.
func filterMD5Sums(raw []byte, pkg string, t *tree) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		// "<md5>  <path>": the path may contain spaces, so only the separator is trimmed.
		sum, file, ok := strings.Cut(strings.TrimSuffix(sc.Text(), "\r"), " ")
		if !ok {
			continue
		}
		p, err := tarpath.Clean(strings.TrimPrefix(strings.TrimLeft(file, " *"), "/"))
		if err != nil || p == "" {
			continue
		}
		p = canonical(p)
		if n := t.nodes[p]; n != nil && n.kind == kindReg && n.ownedBy(pkg) && !n.rewritten {
			fmt.Fprintf(&out, "%s  %s\n", sum, p)
		}
	}
	return out.Bytes()
}

// ownedMD5Sums computes md5sums for what owner ships, sorted by path: for packages built
// without one and for spartan-rootfs.
func ownedMD5Sums(t *tree, owner string) []byte {
	var paths []string
	for p, n := range t.nodes {
		if n.kind == kindReg && n.ownedBy(owner) && !strings.HasPrefix(p, statusDir) && !n.rewritten {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var out bytes.Buffer
	for _, p := range paths {
		fmt.Fprintf(&out, "%x  %s\n", md5.Sum(t.nodes[p].blob.data), p)
	}
	return out.Bytes()
}

// debVersion turns Spartan's version ("v1.2.3", "dev") into a valid Debian version, since
// scanners parse the record: "1.2.3", "0~dev".
func debVersion(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".+~-", r)) {
			return r
		}
		return '~'
	}, strings.TrimRight(strings.TrimPrefix(v, "v"), "-"))
	if v == "" {
		return "0"
	}
	if v[0] < '0' || v[0] > '9' {
		v = "0~" + v
	}
	return v
}

// rootfsRecord describes the synthesized files as a package, so nothing in the image is
// unaccounted for. Its version is Spartan's, made a valid Debian version.
func (a *assembler) rootfsRecord() error {
	version := debVersion(a.opts.SpartanVersion)
	var size int64
	for _, n := range a.tree.nodes {
		if n.kind == kindReg && n.ownedBy(RootfsPackage) {
			size += (int64(len(n.blob.data)) + 1023) / 1024
		}
	}
	sums := ownedMD5Sums(a.tree, RootfsPackage)
	p := control.Paragraph{Fields: []control.Field{
		{Name: "Package", Value: RootfsPackage},
		{Name: "Status", Value: "install ok installed"},
		{Name: "Priority", Value: "optional"},
		{Name: "Section", Value: "admin"},
		{Name: "Installed-Size", Value: fmt.Sprint(size)},
		{Name: "Maintainer", Value: "Spartan"},
		{Name: "Architecture", Value: "all"},
		{Name: "Version", Value: version},
		{Name: "Homepage", Value: projectURL},
		{Name: "Description", Value: "files synthesized by Spartan for this image\n" +
			" Accounts, name service configuration, os-release, CA bundle and time zone,\n" +
			" written in Go where maintainer scripts would have run, and the spec's own paths."},
	}}
	if err := a.synthFile(statusDir+RootfsPackage, []byte(p.String()), 0o644, RootfsPackage); err != nil {
		return err
	}
	if len(sums) == 0 {
		return nil
	}
	return a.synthFile(statusDir+RootfsPackage+".md5sums", sums, 0o644, RootfsPackage)
}
