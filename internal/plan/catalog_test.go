package plan_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/spec"
)

// catalog writes n specs under dir/<name>-<i>, variations of the real catalog (images/):
// the same file with another name and tags and one more package, each variant with a lock
// whose packages are the spec's own (version 1.<i>, source = name). The locks are written
// by hand because planning reads only what they pin, never a repository.
func catalog(tb testing.TB, dir string, n int) []string {
	tb.Helper()
	real, err := filepath.Glob("../../images/*/spartan.yaml")
	if err != nil || len(real) == 0 {
		tb.Fatalf("no catalog specs: %v", err)
	}
	var files []string
	for i := range n {
		src := real[i%len(real)]
		data, err := os.ReadFile(src)
		if err != nil {
			tb.Fatal(err)
		}
		orig := filepath.Base(filepath.Dir(src))
		name := fmt.Sprintf("%s-%d", orig, i)
		body := renameSpec(string(data), name, i)
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
		file := filepath.Join(d, spec.FileName)
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
		writeLocks(tb, file, nil)
		files = append(files, file)
	}
	return files
}

var (
	nameLine = regexp.MustCompile(`(?m)^name: .*$`)
	tagRepo  = regexp.MustCompile(`spartan/[a-z0-9]+:`)
)

func renameSpec(body, name string, i int) string {
	body = nameLine.ReplaceAllString(body, "name: "+name)
	body = tagRepo.ReplaceAllString(body, "spartan/"+name+":")
	// One more package makes each variation a spec of its own, not a copy.
	return strings.Replace(body, "\npackages:\n", fmt.Sprintf("\npackages:\n  - extra-%d\n", i), 1)
}

// writeLocks writes a lock for every variant of the spec at file, pinning each package the
// spec names at version 1.0, or at bump[package] when set.
func writeLocks(tb testing.TB, file string, bump map[string]string) {
	tb.Helper()
	s, err := spec.Load(file)
	if err != nil {
		tb.Fatal(err)
	}
	for _, v := range append([]string{"runtime"}, s.VariantNames()...) {
		vs, err := s.Variant(v)
		if err != nil {
			tb.Fatal(err)
		}
		l := &build.Lock{LockVersion: build.LockVersion, Spec: build.LockSpec{Name: vs.Name, File: spec.FileName, Variant: v, SHA256: vs.Digest()}}
		for _, arch := range vs.Archs {
			la := build.LockArch{Arch: arch, Releases: []build.LockRelease{{URI: inRelease, Archive: "main", Mirror: mirror, Suite: "trixie",
				SHA256: strings.Repeat("a", 64), Date: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}}}
			for _, p := range vs.Packages {
				ver := "1.0"
				if b, ok := bump[p]; ok {
					ver = b
				}
				deb := p + "_" + ver + "_" + arch + ".deb"
				la.Packages = append(la.Packages, build.LockPackage{Name: p, Version: ver, Arch: arch, Source: sourceOf(p),
					SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(deb))), Size: 1000, Filename: "pool/main/" + deb,
					Repository: inRelease, URI: mirror + "/pool/main/" + deb})
			}
			l.Archs = append(l.Archs, la)
		}
		if err := build.WriteLock(build.LockPath(vs), l); err != nil {
			tb.Fatal(err)
		}
	}
}

const (
	mirror    = "http://mirror.invalid/debian"
	inRelease = mirror + "/dists/trixie/InRelease"
)

// sourceOf names a package's source where it differs from the package, as Debian does, to
// test the reverse index by source name.
func sourceOf(pkg string) string {
	if pkg == "libssl3t64" {
		return "openssl"
	}
	return ""
}

func removeFile(path string) error { return os.Remove(path) }
