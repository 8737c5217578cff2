// Package bin holds spartan-probe (cmd/spartan-probe) built for each architecture Spartan
// embeds it for: static, pure Go, -trimpath, no build ID, so the same toolchain rebuilds the
// same bytes (TestRebuild checks it). `go generate` rebuilds them after the probe changes.
package bin

//go:generate go test -run TestRebuild -update .

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"debug/buildinfo"
	"embed"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

//go:embed spartan-probe-*.gz
var binaries embed.FS

// Version is the probe's version, recorded with it in images (status.d) and SBOMs; bump it
// when cmd/spartan-probe or internal/probe changes.
const Version = "1.0.0"

// Binary returns the probe for a Debian architecture.
func Binary(arch string) ([]byte, error) {
	gz, err := binaries.ReadFile("spartan-probe-" + arch + ".gz")
	if err != nil {
		return nil, fmt.Errorf("spartan-probe is not built for %s (available: %s)", arch, strings.Join(Archs(), ", "))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("spartan-probe for %s: %w", arch, err)
	}
	return io.ReadAll(zr)
}

// Archs lists the architectures the probe is embedded for.
func Archs() []string {
	entries, _ := binaries.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(e.Name(), "spartan-probe-"), ".gz"))
	}
	sort.Strings(out)
	return out
}

// goVersion is the toolchain the embedded probe was built with.
func goVersion(arch string, prog []byte) (string, error) {
	bi, err := buildinfo.Read(bytes.NewReader(prog))
	if err != nil {
		return "", fmt.Errorf("spartan-probe for %s: %w", arch, err)
	}
	return bi.GoVersion, nil
}

// Path is where images get the probe (spec.ProbePath).
const Path = "usr/bin/spartan-probe"

// Layer is the probe's own layer for an architecture: the program and its status.d record, so
// that scanners and SBOMs list it beside the Debian packages, as they list spartan-rootfs. Its
// bytes depend only on the probe and mtime, so images that carry it share the layer.
func Layer(arch string, mtime time.Time) ([]byte, error) {
	prog, err := Binary(arch)
	if err != nil {
		return nil, err
	}
	gover, err := goVersion(arch, prog)
	if err != nil {
		return nil, err
	}
	sum := md5.Sum(prog)
	record := "Package: spartan-probe\n" +
		"Status: install ok installed\n" +
		"Priority: optional\n" +
		"Section: admin\n" +
		fmt.Sprintf("Installed-Size: %d\n", (len(prog)+1023)/1024) +
		"Maintainer: Spartan\n" +
		"Architecture: " + arch + "\n" +
		"Source: spartan\n" +
		"Version: " + Version + "\n" +
		"Built-Using: " + gover + "\n" +
		"Homepage: https://github.com/spartan-images/spartan\n" +
		"Description: HTTP(S) and TCP health probe for images without a shell\n" +
		" Static pure-Go program (github.com/spartan-images/spartan/cmd/spartan-probe, built\n" +
		" with " + gover + " -trimpath) for HEALTHCHECK in images without shell, curl or wget.\n"
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"usr/", 0o755, nil},
		{"usr/bin/", 0o755, nil},
		{Path, 0o755, prog},
		{"var/", 0o755, nil},
		{"var/lib/", 0o755, nil},
		{"var/lib/dpkg/", 0o755, nil},
		{"var/lib/dpkg/status.d/", 0o755, nil},
		{"var/lib/dpkg/status.d/spartan-probe", 0o644, []byte(record)},
		{"var/lib/dpkg/status.d/spartan-probe.md5sums", 0o644, []byte(fmt.Sprintf("%x  %s\n", sum, Path))},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := mtime.UTC().Truncate(time.Second)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: mt, Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
