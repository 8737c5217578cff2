package assemble

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/tarpath"
)

const projectURL = "https://github.com/spartan-images/spartan"

// nsswitch.conf as distroless ships it: no NIS, no systemd modules, files then DNS.
const nsswitch = `passwd:         files
group:          files
shadow:         files
gshadow:        files

hosts:          files dns
networks:       files

protocols:      files
services:       files
ethers:         files
rpc:            files

netgroup:       files
`

// loaders is where each architecture's ELF interpreter lives, as written into every
// dynamically linked binary; it must resolve once merged-/usr is applied.
var loaders = map[string]string{
	"amd64":    "lib64/ld-linux-x86-64.so.2",
	"arm64":    "lib/ld-linux-aarch64.so.1",
	"armhf":    "lib/ld-linux-armhf.so.3",
	"armel":    "lib/ld-linux.so.3",
	"i386":     "lib/ld-linux.so.2",
	"ppc64el":  "lib64/ld64.so.2",
	"s390x":    "lib/ld64.so.1",
	"riscv64":  "lib/ld-linux-riscv64-lp64d.so.1",
	"loong64":  "lib64/ld-linux-loongarch-lp64d.so.1",
	"mips64el": "lib64/ld.so.1",
}

// synthFile writes a generated regular file owned by owner (RootfsPackage, or the package
// its content derives from).
func (a *assembler) synthFile(p string, content []byte, mode int64, owner string) error {
	_, err := a.tree.override(p, &node{kind: kindReg, mode: mode, blob: &blob{content}, owners: []string{owner}})
	if err != nil {
		return fmt.Errorf("synthesize /%s: %w", p, err)
	}
	return nil
}

func (a *assembler) synthDir(p string, mode int64, uid, gid int) error {
	_, err := a.tree.override(p, &node{kind: kindDir, mode: mode, uid: uid, gid: gid, owners: []string{RootfsPackage}})
	if err != nil {
		return fmt.Errorf("synthesize /%s: %w", p, err)
	}
	return nil
}

func (a *assembler) synthLink(p, target string) error {
	_, err := a.tree.override(p, &node{kind: kindSymlink, mode: 0o777, target: target, owners: []string{RootfsPackage}})
	if err != nil {
		return fmt.Errorf("synthesize /%s: %w", p, err)
	}
	return nil
}

// synthesize writes what maintainer scripts and installers would have: accounts, name service
// configuration, os-release, the CA bundle, the time zone and the standard directories.
func (a *assembler) synthesize() error {
	users, passwd, group, err := accounts(a.opts.Users, a.opts.Groups)
	if err != nil {
		return err
	}
	osRelease, err := osRelease(a.opts.Codename, a.opts.VersionID)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path    string
		content []byte
	}{
		{"etc/passwd", passwd},
		{"etc/group", group},
		{"etc/nsswitch.conf", []byte(nsswitch)},
		// Both spellings as regular files: some scanners read only one and do not follow links.
		{"etc/os-release", osRelease},
		{"usr/lib/os-release", osRelease},
	} {
		if err := a.synthFile(f.path, f.content, 0o644, RootfsPackage); err != nil {
			return err
		}
	}
	if err := a.synthDir("tmp", 0o1777, 0, 0); err != nil {
		return err
	}
	for _, u := range users {
		if u.Home == noHome || u.Home == "/" {
			continue
		}
		p, err := specPath(u.Home)
		if err != nil {
			return fmt.Errorf("user %s: home %q: %w", u.Name, u.Home, err)
		}
		if err := a.synthDir(p, 0o700, u.UID, u.GID); err != nil {
			return fmt.Errorf("user %s: %w", u.Name, err)
		}
	}
	if err := a.caBundle(); err != nil {
		return err
	}
	if a.installed["tzdata"] != nil {
		if err := a.synthLink("etc/localtime", "/usr/share/zoneinfo/Etc/UTC"); err != nil {
			return err
		}
		if err := a.synthFile("etc/timezone", []byte("Etc/UTC\n"), 0o644, RootfsPackage); err != nil {
			return err
		}
	}
	return nil
}

var osReleaseWord = regexp.MustCompile(`^[A-Za-z0-9._~-]*$`)

// osRelease keeps ID=debian so scanners pick the Debian security tracker; the product name
// goes in PRETTY_NAME only.
func osRelease(codename, versionID string) ([]byte, error) {
	if !osReleaseWord.MatchString(codename) || !osReleaseWord.MatchString(versionID) {
		return nil, fmt.Errorf("os-release: codename %q / version %q: only letters, digits and . _ ~ - are allowed", codename, versionID)
	}
	debian := "Debian GNU/Linux"
	var version string
	switch {
	case versionID != "" && codename != "":
		version = versionID + " (" + codename + ")"
	case versionID != "":
		version = versionID
	case codename != "":
		version = codename
	}
	var b strings.Builder
	if version != "" {
		fmt.Fprintf(&b, "PRETTY_NAME=\"Spartan (%s %s)\"\n", debian, version)
	} else {
		fmt.Fprintf(&b, "PRETTY_NAME=\"Spartan (%s)\"\n", debian)
	}
	fmt.Fprintf(&b, "NAME=%q\n", debian)
	if versionID != "" {
		fmt.Fprintf(&b, "VERSION_ID=%q\n", versionID)
	}
	if version != "" {
		fmt.Fprintf(&b, "VERSION=%q\n", version)
	}
	if codename != "" {
		fmt.Fprintf(&b, "VERSION_CODENAME=%s\n", codename)
	}
	b.WriteString("ID=debian\n")
	fmt.Fprintf(&b, "HOME_URL=%q\n", projectURL)
	fmt.Fprintf(&b, "SUPPORT_URL=%q\n", projectURL)
	fmt.Fprintf(&b, "BUG_REPORT_URL=%q\n", projectURL+"/issues")
	return []byte(b.String()), nil
}

// caBundle does what update-ca-certificates would: concatenate the certificates the
// ca-certificates package ships (all enabled, in path order) and the spec's extra ones. Built
// from the package alone, the bundle lives in that package's layer so it changes with it;
// extra certificates make it the spec's, in the spartan-rootfs layer.
func (a *assembler) caBundle() error {
	var bundle bytes.Buffer
	owner := RootfsPackage
	if a.installed["ca-certificates"] != nil {
		var crts []string
		for p, n := range a.tree.nodes {
			if strings.HasPrefix(p, "usr/share/ca-certificates/") && strings.HasSuffix(p, ".crt") &&
				n.kind == kindReg && n.ownedBy("ca-certificates") {
				crts = append(crts, p)
			}
		}
		sort.Strings(crts)
		for _, p := range crts {
			appendLine(&bundle, a.tree.nodes[p].blob.data)
		}
		owner = "ca-certificates"
	}
	for i, extra := range a.opts.Certificates {
		certs, err := pemCertificates(extra)
		if err != nil {
			return fmt.Errorf("certificates[%d]: %w", i, err)
		}
		bundle.Write(certs)
		owner = RootfsPackage
	}
	if bundle.Len() == 0 {
		return nil
	}
	return a.synthFile("etc/ssl/certs/ca-certificates.crt", bundle.Bytes(), 0o644, owner)
}

func appendLine(b *bytes.Buffer, data []byte) {
	b.Write(data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
}

// pemCertificates checks that b holds only parseable X.509 certificates in PEM and returns
// them re-encoded, explanatory text between blocks dropped.
func pemCertificates(b []byte) ([]byte, error) {
	var out bytes.Buffer
	rest := b
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q is not a CERTIFICATE", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("certificate %d: %w", bytes.Count(out.Bytes(), []byte("-----BEGIN"))+1, err)
		}
		if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}); err != nil {
			return nil, err
		}
		rest = r
	}
	if out.Len() == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block found")
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("malformed PEM block after certificate %d", bytes.Count(out.Bytes(), []byte("-----BEGIN")))
	}
	return out.Bytes(), nil
}

// specPath cleans a path from the spec ("/usr/bin/x" or "usr/bin/x") into a tree path.
func specPath(p string) (string, error) {
	clean, err := tarpath.Clean(strings.TrimPrefix(p, "/"))
	if err != nil {
		return "", err
	}
	if clean == "" {
		return "", fmt.Errorf("the root directory cannot be set")
	}
	if isAlias(clean) {
		return "", fmt.Errorf("/%s is the merged-/usr link to /usr/%s; set paths below /usr/%s instead", clean, clean, clean)
	}
	return canonical(clean), nil
}

// userPaths applies the spec's paths last, so they may replace anything.
func (a *assembler) userPaths() error {
	for _, up := range a.opts.Paths {
		p, err := specPath(up.Path)
		if err != nil {
			return fmt.Errorf("path %q: %w", up.Path, err)
		}
		if err := checkIDs(up.UID, up.GID); err != nil {
			return fmt.Errorf("path %s: %w", up.Path, err)
		}
		n := &node{mode: tarMode(up.Mode), uid: up.UID, gid: up.GID, owners: []string{RootfsPackage}}
		switch up.Type {
		case TypeDirectory:
			n.kind = kindDir
			if up.Mode == 0 {
				n.mode = 0o755
			}
		case TypeFile:
			n.kind, n.blob = kindReg, &blob{[]byte(up.Content)}
			if up.Mode == 0 {
				n.mode = 0o644
			}
		case TypeSymlink:
			// ${arch} lets one spec name arch-qualified paths (/usr/lib/jvm/java-21-openjdk-${arch}).
			n.kind, n.target, n.mode = kindSymlink, strings.ReplaceAll(up.Target, "${arch}", a.opts.Arch), 0o777
			if up.Target == "" || strings.ContainsRune(up.Target, 0) {
				return fmt.Errorf("path %s: symlink needs a target", up.Path)
			}
			if tarpath.Climbs(dir(p), n.target) {
				return fmt.Errorf("path %s: symlink target %q climbs above /", up.Path, up.Target)
			}
		default:
			return fmt.Errorf("path %s: type %q: want %s, %s or %s", up.Path, up.Type, TypeDirectory, TypeFile, TypeSymlink)
		}
		old, err := a.tree.override(p, n)
		if err != nil {
			return fmt.Errorf("path %s: %w", up.Path, err)
		}
		if old != nil && len(old.owners) > 0 && !old.ownedBy(RootfsPackage) {
			a.notes = append(a.notes, fmt.Sprintf("spec path /%s replaces the %s from %s", p, old.kind, strings.Join(old.owners, ", ")))
		}
	}
	return nil
}

func tarMode(m os.FileMode) int64 {
	mode := int64(m.Perm())
	if m&os.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// compatLinks adds the merged-/usr aliases (bin → usr/bin…) for every /usr directory that
// exists or that a package (base-files in trixie) shipped a link for.
func (a *assembler) compatLinks(shipped map[string]bool) error {
	for _, alias := range aliasDirs {
		n := a.tree.nodes["usr/"+alias]
		if shipped[alias] || n != nil && n.kind == kindDir {
			if err := a.synthLink(alias, "usr/"+alias); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLoader refuses an image whose dynamic binaries could not start: with libc6 installed,
// the ELF interpreter path of the architecture must resolve to a file.
func (a *assembler) checkLoader() error {
	loader, known := loaders[a.opts.Arch]
	if !known || a.installed["libc6"] == nil {
		return nil
	}
	if n := a.tree.resolve(loader); n == nil || n.kind != kindReg {
		return fmt.Errorf("libc6 is installed but the dynamic loader /%s does not resolve to a file: binaries would fail with \"no such file or directory\"", loader)
	}
	return nil
}
