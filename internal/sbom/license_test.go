package sbom

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The copyright files under testdata/copyright are real ones from Debian 12 packages.
func TestParseCopyrightRealFiles(t *testing.T) {
	tests := []struct {
		pkg  string
		want string
		refs []string
	}{
		{"zlib1g", "Zlib", nil},
		{"ca-certificates", "GPL-2.0-or-later AND MPL-2.0", nil},
		{"libssl3", "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND Apache-2.0", nil},
		{"libzstd1", "(BSD-3-Clause OR GPL-2.0-only) AND MIT AND Zlib", nil},
		{"tzdata", "LicenseRef-public-domain", []string{"LicenseRef-public-domain"}},
		{"libffi8", "(MPL-1.1 OR GPL-2.0-or-later OR LGPL-2.1-or-later) AND GPL-2.0-or-later AND GPL-3.0-or-later AND LicenseRef-GPL AND LicenseRef-public-domain AND MIT AND X11",
			[]string{"LicenseRef-GPL", "LicenseRef-public-domain"}},
		// "Sleepycat and BSD-3-clause" and a plain "BSD-3-clause" paragraph: listed once.
		{"libdb5.3", "(Artistic-1.0-Perl OR BSD-3-Clause) AND (LicenseRef-GPL OR Artistic-1.0-Perl) AND BSD-3-Clause AND GPL-3.0-only AND LicenseRef-BSD-3-clause-fjord AND LicenseRef-GPL AND LicenseRef-MIT-old AND LicenseRef-TCL-like AND MS-PL AND Sleepycat AND X11 AND Zlib",
			[]string{"LicenseRef-BSD-3-clause-fjord", "LicenseRef-GPL", "LicenseRef-MIT-old", "LicenseRef-TCL-like"}},
		// Not machine-readable: free text cannot be trusted to name every license.
		{"libc6", NoAssertion, nil},
		{"python3.11", NoAssertion, nil},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "copyright", tt.pkg))
			if err != nil {
				t.Fatal(err)
			}
			got := ParseCopyright(data)
			if got.Expression != tt.want {
				t.Errorf("expression\n got %s\nwant %s", got.Expression, tt.want)
			}
			if len(got.Refs) != len(tt.refs) {
				t.Errorf("refs %v, want %v", got.Refs, tt.refs)
			}
			for _, r := range tt.refs {
				if got.Refs[r] == "" {
					t.Errorf("no text for %s", r)
				}
			}
		})
	}
}

func TestParseCopyrightSnippets(t *testing.T) {
	const format = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
	tests := []struct {
		name, in, want string
	}{
		{"single", format + "Files: *\nLicense: GPL-2+\n", "GPL-2.0-or-later"},
		{"case-insensitive", format + "Files: *\nLicense: bsd-3-CLAUSE\n", "BSD-3-Clause"},
		{"expat is MIT", format + "Files: *\nLicense: Expat\n", "MIT"},
		{"lgpl", format + "Files: *\nLicense: LGPL-2.1+\n", "LGPL-2.1-or-later"},
		{"psf", format + "Files: *\nLicense: PSF-2\n", "PSF-2.0"},
		{"or", format + "Files: *\nLicense: GPL-2+ or Artistic\n", "GPL-2.0-or-later OR Artistic-1.0-Perl"},
		{"and binds tighter", format + "Files: *\nLicense: MIT and Zlib or Apache-2.0\n", "MIT AND Zlib OR Apache-2.0"},
		{"comma groups", format + "Files: *\nLicense: GPL-2+ or Artistic, and BSD-3-clause\n", "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause"},
		{"known exception", format + "Files: *\nLicense: GPL-3+ with GCC-exception-3.1 exception\n", "GPL-3.0-or-later WITH GCC-exception-3.1"},
		{"unknown exception", format + "Files: *\nLicense: GPL-2+ with OpenSSL exception\n", "LicenseRef-GPL-2plus-with-OpenSSL-exception"},
		{"SPDX names", format + "Files: *\nLicense: GPL-3.0-or-later WITH Autoconf-exception-macro\n", "GPL-3.0-or-later WITH Autoconf-exception-macro"},
		{"SPDX id", format + "Files: *\nLicense: LGPL-2.1-or-later\n", "LGPL-2.1-or-later"},
		{"unknown name", format + "Files: *\nLicense: Sun RPC\n", "LicenseRef-Sun-RPC"},
		{"paragraphs joined and deduplicated", format + "Files: *\nLicense: Zlib\n\nFiles: a/*\nLicense: MIT\n\nFiles: b/*\nLicense: Zlib\n", "MIT AND Zlib"},
		{"stand-alone license paragraph is only a text", format + "Files: *\nLicense: Zlib\n\nLicense: GPL-2\n text\n", "Zlib"},
		{"older DEP-5 header", "Format-Specification: http://svn.debian.org/wsvn/dep/web/deps/dep5.mdwn?op=file&rev=135\n\nFiles: *\nLicense: ISC\n", "ISC"},
		{"free text", "This package was debianized by someone.\nLicense: GPL\n", NoAssertion},
		{"empty", "", NoAssertion},
		{"no license fields", format + "Files: *\nCopyright: someone\n", NoAssertion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseCopyright([]byte(tt.in)).Expression; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSanitizeAndIDs(t *testing.T) {
	ids := elementIDs("Package-deb-", 3, func(i int) string { return []string{"a+b", "aplusb", "libstdc++6"}[i] })
	if ids[0] == ids[1] || ids[2] != "Package-deb-libstdcplusplus6" {
		t.Errorf("ids %v", ids)
	}
	valid := regexp.MustCompile(`^[A-Za-z0-9.-]+$`)
	for _, id := range ids {
		if !valid.MatchString(string(id)) {
			t.Errorf("invalid SPDX id %q", id)
		}
	}
}

func TestDeterministicUUID(t *testing.T) {
	a, b := deterministicUUID("x"), deterministicUUID("x")
	if a != b || a == deterministicUUID("y") {
		t.Fatalf("uuid not a function of its input: %s %s", a, b)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(a) {
		t.Fatalf("%s is not a version 5 UUID", a)
	}
}

func TestValidURLAndEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"https://www.gnu.org/software/libc/": true, "http://example.com": true,
		"www.example.com": false, "https://exa mple.com": false, "": false, "mailto:": false,
	} {
		if validURL(s) != want {
			t.Errorf("validURL(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{
		"debian-glibc@lists.debian.org": true, "": false, "not an address": false, "a@b@c": false,
	} {
		if validEmail(s) != want {
			t.Errorf("validEmail(%q) = %v", s, !want)
		}
	}
}
