package spec

import (
	"errors"
	"os"
	"path"
	"strings"
	"testing"
)

// FuzzParse checks that no input panics, that every error carries a
// position, and that whatever parses satisfies the spec's invariants.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/python/spartan.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(base))
	f.Add([]byte("name: t\nbase: python\npackages: [libgl1]\nfiles: [{src: ., dest: /app, owner: nonroot}]\nhealthcheck: {probe: 'http://127.0.0.1:8080/'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(testFile, data)
		if err != nil {
			if s != nil {
				t.Fatal("spec returned together with an error")
			}
			for _, e := range flatten(err) {
				var se *Error
				if !errors.As(e, &se) {
					t.Fatalf("error without position: %v", e)
				}
				if (se.File != testFile && !strings.HasPrefix(se.File, catalogPrefix)) || (se.Line < 1 && len(data) <= maxSpecSize) {
					t.Fatalf("error without file:line: %v", se)
				}
			}
			return
		}
		for _, name := range append([]string{""}, s.VariantNames()...) {
			v, err := s.Variant(name)
			if err != nil {
				t.Fatalf("Variant(%q): %v", name, err)
			}
			checkInvariants(t, v)
		}
	})
}

func checkInvariants(t *testing.T, s *Spec) {
	t.Helper()
	fail := func(what string) { t.Fatalf("%s: %+v", what, s) }
	if s.Name == "" || len(s.Packages) == 0 || len(s.Archs) == 0 || len(s.Tags) == 0 || len(s.Repositories) == 0 {
		fail("required field empty")
	}
	if s.Layers < 2 || s.Layers > 64 {
		fail("layers out of range")
	}
	if s.Profile != Runtime && s.Profile != Dev && s.Profile != Debug {
		fail("bad profile")
	}
	if releases[s.Release] != s.ReleaseVersion || s.Distro != "debian" {
		fail("bad release or distro")
	}
	if !strings.HasPrefix(s.Workdir, "/") || path.Clean(s.Workdir) != s.Workdir {
		fail("workdir not clean and absolute")
	}
	for _, tag := range s.Tags {
		if n, msg := normalizeTag(tag); msg != "" || n != tag {
			fail("tag not normalized: " + tag)
		}
	}
	for _, r := range s.Repositories {
		if (r.Archive == "") == (r.URL == "") || len(r.Suites) == 0 || len(r.Components) == 0 {
			fail("bad repository")
		}
	}
	seen := map[string]bool{}
	for _, p := range s.Paths {
		if seen[p.Path] || checkFilePath(p.Path) != "" || p.Mode&^0o1777 != 0 {
			fail("bad path " + p.Path)
		}
		seen[p.Path] = true
	}
	uids := map[int]bool{}
	for _, u := range s.Accounts.Users {
		if uids[u.UID] || u.UID == 0 || u.Name == "root" {
			fail("bad user " + u.Name)
		}
		uids[u.UID] = true
	}
	if s.Accounts.RunAsUID < 0 || s.Accounts.RunAsGID < 0 {
		fail("bad run-as")
	}
}
