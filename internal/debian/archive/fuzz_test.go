package archive

import (
	"bytes"
	"testing"
)

// FuzzParseRelease checks that no input makes the Release parser panic, and that what it
// accepts is safe to use: digests are SHA-256 hex, sizes are not negative, paths stay inside
// the suite. Seeds are in testdata/fuzz/FuzzParseRelease.
func FuzzParseRelease(f *testing.F) {
	f.Add([]byte("Suite: stable\nDate: Sat, 21 Nov 2026 09:15:44 UTC\nSHA256:\n " + sum1 + " 1 main/binary-amd64/Packages\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRelease(data)
		if err != nil {
			return
		}
		if r.Suite == "" && r.Codename == "" {
			t.Error("accepted a release without Suite and Codename")
		}
		if r.Date.IsZero() || len(r.Files) == 0 {
			t.Error("accepted a release without Date or files")
		}
		for name, fh := range r.Files {
			if !isSHA256(fh.SHA256) || fh.Size < 0 || name == "" || name[0] == '/' || containsDotDot(name) {
				t.Errorf("accepted unsafe entry %q %+v", name, fh)
			}
		}
	})
}

// FuzzDecodePackages checks that a damaged parsed-index cache entry is an error, not a panic
// or a huge allocation.
func FuzzDecodePackages(f *testing.F) {
	good := encodePackages(mustParse(f, "Package: a\nVersion: 1\nArchitecture: all\nFilename: pool/a.deb\nSize: 1\nSHA256: "+sum1+"\n\n"+
		"Package: b\nVersion: 2\nArchitecture: amd64\nFilename: pool/b.deb\nSize: 2\nSHA256: "+sum1+"\nSource: c (3)\n"))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(codecMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := decodePackages(data, nil)
		if err != nil {
			return
		}
		// Whatever decodes must survive another round trip unchanged.
		again, err := decodePackages(encodePackages(pkgs), nil)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if dump(again) != dump(pkgs) {
			t.Error("decode/encode round trip changed the packages")
		}
	})
}

func mustParse(tb testing.TB, index string) []*Package {
	tb.Helper()
	pkgs, err := parsePackages(bytes.NewReader([]byte(index)), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return pkgs
}
