package apk

import (
	"archive/tar"
	"bytes"
	"crypto/sha1" //nolint:gosec // comparing with apk's SHA-1 checksums
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/testkit"
)

const realAPK = "testdata/alpine-baselayout-3.2.0-r23.apk"

func alpineKeys(t *testing.T) keyring.Keyring {
	t.Helper()
	kr, err := keyring.Default()
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// The real alpine-baselayout package verifies with Alpine's key and extracts.
func TestReadRealPackage(t *testing.T) {
	data, err := os.ReadFile(realAPK)
	if err != nil {
		t.Fatal(err)
	}
	want, err := apkindex.ParseChecksum("Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var dirs, links int
	info, err := Read(bytes.NewReader(data), Options{
		Keys:   alpineKeys(t),
		Expect: &apkindex.Package{Name: "alpine-baselayout", Version: "3.2.0-r23", Checksum: want},
		What:   realAPK,
	}, func(hdr *tar.Header, body io.Reader) error {
		switch hdr.Typeflag {
		case tar.TypeReg:
			b, err := io.ReadAll(body)
			files[hdr.Name] = b
			return err
		case tar.TypeDir:
			dirs++
		case tar.TypeSymlink:
			links++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "alpine-baselayout" || info.Version != "3.2.0-r23" || info.Arch != "aarch64" ||
		info.SignedBy != "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub" ||
		info.Checksum.String() != "Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=" ||
		strings.Join(info.Depends, " ") != "alpine-baselayout-data=3.2.0-r23 /bin/sh so:libc.musl-aarch64.so.1" ||
		strings.Join(info.Provides, " ") != "cmd:mkmntdirs=3.2.0-r23" || info.Origin != "alpine-baselayout" {
		t.Errorf("info: %+v", info)
	}
	if _, ok := info.Scripts[".post-install"]; !ok {
		t.Errorf("scripts: %v", info.Scripts)
	}
	crontab := files["etc/crontabs/root"]
	sum := sha1.Sum(crontab) //nolint:gosec // see import
	if hex.EncodeToString(sum[:]) != "bdf9356a9516238c8b2468613517749098b17ef6" {
		t.Errorf("etc/crontabs/root extracted wrong: %q", crontab)
	}
	if len(files) < 5 || dirs < 10 {
		t.Errorf("extracted %d files, %d dirs, %d symlinks", len(files), dirs, links)
	}
}

func TestReadRealPackageRefusals(t *testing.T) {
	orig, err := os.ReadFile(realAPK)
	if err != nil {
		t.Fatal(err)
	}
	wrongSum, _ := apkindex.ParseChecksum("Q1JVVbw6GqZevQSdTHJvSvhxX3gG0=")
	for _, tc := range []struct {
		name   string
		data   []byte
		keys   keyring.Keyring
		expect *apkindex.Package
		want   string
	}{
		{name: "index checksum differs", data: orig, keys: alpineKeys(t),
			expect: &apkindex.Package{Name: "alpine-baselayout", Version: "3.2.0-r23", Checksum: wrongSum}, want: "checksum mismatch"},
		{name: "unknown key", data: orig, keys: keyring.Keyring{}, want: "not a trusted key"},
		{name: "control byte flipped", data: flip(orig, 1000), keys: alpineKeys(t), want: "control segment: gzip segment 2: gzip checksum mismatch"},
		{name: "data byte flipped", data: flip(orig, len(orig)-4000), keys: alpineKeys(t), want: "does not match its APK-TOOLS.checksum.SHA1"},
		{name: "truncated in data", data: orig[:len(orig)-100], keys: alpineKeys(t), want: "truncated"},
		{name: "truncated after control", data: orig[:2229], keys: alpineKeys(t), want: "no data segment"},
		{name: "truncated in signature", data: orig[:300], keys: alpineKeys(t), want: "truncated"},
		{name: "trailing junk", data: append(bytes.Clone(orig), 0x1f, 0x8b), keys: alpineKeys(t), want: "data segment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.data), Options{Keys: tc.keys, Expect: tc.expect, What: "x.apk"}, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "x.apk: ") {
				t.Errorf("error %q, want it to start with the file and say %q", err, tc.want)
			}
		})
	}
}

func flip(b []byte, at int) []byte {
	c := bytes.Clone(b)
	c[at] ^= 0x01
	return c
}

// Generated packages for the refusals a real file cannot show.
func TestReadHostilePackages(t *testing.T) {
	key, err := testkit.NewAPKKey("testkit.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	kr := keyring.Keyring{}
	if err := kr.Add(key.Name, key.PublicPEM()); err != nil {
		t.Fatal(err)
	}
	base := testkit.APK{Name: "hello", Version: "1.0-r0", Files: []testkit.File{
		{Path: "usr/bin/", Type: tar.TypeDir},
		{Path: "usr/bin/hello", Body: "#!hello\n", Mode: 0o755},
		{Path: "usr/bin/hi", Type: tar.TypeSymlink, Link: "hello"},
	}}
	for _, tc := range []struct {
		name string
		mod  func(*testkit.APK)
		want string
	}{
		{"good", func(*testkit.APK) {}, ""},
		{"dotdot path", func(a *testkit.APK) {
			a.Files = append(a.Files, testkit.File{Path: "usr/../../etc/passwd", Body: "x", Raw: true})
		}, `".." in entry name`},
		{"absolute path", func(a *testkit.APK) {
			a.Files = append(a.Files, testkit.File{Path: "/etc/passwd", Body: "x", Raw: true})
		}, "absolute entry name"},
		{"hard link out", func(a *testkit.APK) {
			a.Files = append(a.Files, testkit.File{Path: "usr/x", Type: tar.TypeLink, Link: "../../etc/shadow", Raw: true})
		}, "hard link"},
		{"file checksum", func(a *testkit.APK) { a.WrongFileSum = "usr/bin/hello" }, "APK-TOOLS.checksum.SHA1"},
		{"datahash", func(a *testkit.APK) { a.WrongDataHash = true }, "datahash"},
		{"unsigned", func(a *testkit.APK) { a.Unsigned = true }, "not signed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			a.Files = append([]testkit.File(nil), base.Files...)
			tc.mod(&a)
			b, err := a.Build(key)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := apkindex.ParseChecksum(b.Checksum)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			_, err = Read(bytes.NewReader(b.File), Options{Keys: kr, What: "hello.apk",
				Expect: &apkindex.Package{Name: "hello", Version: "1.0-r0", Checksum: sum}},
				func(hdr *tar.Header, _ io.Reader) error { names = append(names, hdr.Name); return nil })
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(names, " ") != "usr/bin/ usr/bin/hello usr/bin/hi" {
					t.Errorf("entries %v", names)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
