package assemble

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
	"software.sslmate.com/src/go-pkcs12"
)

// jre links its trust store where Debian's OpenJDK packages do.
var jre = testkit.Deb{Name: "openjdk-21-jre-headless", AutoDirs: true, Files: []testkit.File{
	{Path: "/usr/lib/jvm/java-21-openjdk-amd64/lib/security/cacerts", Type: tar.TypeSymlink, Link: "/etc/ssl/certs/java/cacerts"},
	{Path: "/usr/lib/jvm/java-21-openjdk-amd64/bin/java", Mode: 0o755, Body: "ELF"},
}}

func certsOf(t *testing.T, pems ...[]byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, p := range pems {
		b, _ := pem.Decode(p)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestJavaTrustStore(t *testing.T) {
	a, b := testkit.SelfSignedCA("Corp Root"), testkit.SelfSignedCA("Corp Root") // a renewed root: same subject
	opts := testOptions()
	opts.Certificates = [][]byte{a, b, a} // a repeated certificate is stored once

	res := mustAssemble(t, opts, jre)
	store := flatten(t, res)["etc/ssl/certs/java/cacerts"]
	if store.hdr == nil || store.hdr.Typeflag != tar.TypeReg || store.hdr.Mode != 0o644 {
		t.Fatalf("no trust store: %+v", store.hdr)
	}
	// Password-less: Java reads it with or without javax.net.ssl.trustStorePassword (checked end to end).
	for _, pw := range []string{""} {
		got, err := pkcs12.DecodeTrustStore([]byte(store.body), pw)
		if err != nil {
			t.Fatalf("decode with password %q: %v", pw, err)
		}
		want := certsOf(t, a, b)
		if len(got) != len(want) || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) {
			t.Fatalf("password %q: %d certificates, want the bundle's 2 in order", pw, len(got))
		}
	}
	again := flatten(t, mustAssemble(t, opts, jre))["etc/ssl/certs/java/cacerts"]
	if again.body != store.body {
		t.Error("the trust store differs between two builds of the same input")
	}

	// Without a JRE linking to it, no store; without certificates, a note and no store.
	if _, ok := flatten(t, mustAssemble(t, opts))["etc/ssl/certs/java/cacerts"]; ok {
		t.Error("a trust store without any JRE")
	}
	res = mustAssemble(t, testOptions(), jre)
	if _, ok := flatten(t, res)["etc/ssl/certs/java/cacerts"]; ok {
		t.Error("a trust store without any certificate")
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "no CA bundle") {
		t.Errorf("notes = %q, want the missing bundle explained", res.Notes)
	}
}

func TestJavaTrustStoreKeepsShippedStore(t *testing.T) {
	shipped := testkit.Deb{Name: "vendor-cacerts", Arch: "all", AutoDirs: true, Files: []testkit.File{
		{Path: "/etc/ssl/certs/java/cacerts", Body: "vendor store"},
	}}
	opts := testOptions()
	opts.Certificates = [][]byte{testkit.SelfSignedCA("x")}
	if got := flatten(t, mustAssemble(t, opts, jre, shipped))["etc/ssl/certs/java/cacerts"].body; got != "vendor store" {
		t.Errorf("store = %q, want the package's own", got)
	}
}

func TestEncodeTrustStore(t *testing.T) {
	c := testkit.SelfSignedCA("")
	for _, tc := range []struct {
		name, bundle, err string
	}{
		{"empty", "", "no certificate"},
		{"only text", "# nothing\n", "no certificate"},
		{"broken", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "certificate 1"},
		{"other blocks skipped", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n" + string(c), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := encodeTrustStore([]byte(tc.bundle))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := pkcs12.DecodeTrustStore(out, "")
			if err != nil || len(got) != 1 || !bytes.Equal(got[0].Raw, certsOf(t, c)[0].Raw) {
				t.Fatalf("decoded %d certificates, err %v", len(got), err)
			}
		})
	}
}

func TestSymlinkArch(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		opts := testOptions()
		opts.Arch = arch
		opts.Paths = []Path{{Path: "/usr/lib/jvm/default-java", Type: TypeSymlink, Target: "java-21-openjdk-${arch}"}}
		if got := flatten(t, mustAssemble(t, opts))["usr/lib/jvm/default-java"].hdr.Linkname; got != "java-21-openjdk-"+arch {
			t.Errorf("%s: link target = %q", arch, got)
		}
	}
}
