package apkindex

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/alpine/keyring"
)

func defaultKeys(t *testing.T) keyring.Keyring { return defaultKeysB(t) }

func defaultKeysB(t testing.TB) keyring.Keyring {
	t.Helper()
	kr, err := keyring.Default()
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func readTestdata(t *testing.T, name string) []byte { return readTestdataB(t, name) }

func readTestdataB(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The real, Alpine-signed indexes verify with Alpine's embedded release keys.
func TestReadRealIndexes(t *testing.T) {
	for _, tc := range []struct {
		file, signer, arch string
		count              int
	}{
		{"APKINDEX-3.16-main-x86_64.tar.gz", "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", "x86_64", 4929},
		{"APKINDEX-3.17-main-aarch64.tar.gz", "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub", "aarch64", 5004},
	} {
		t.Run(tc.file, func(t *testing.T) {
			idx, err := Read(bytes.NewReader(readTestdata(t, tc.file)), defaultKeys(t), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if idx.SignedBy != tc.signer {
				t.Errorf("signed by %s, want %s", idx.SignedBy, tc.signer)
			}
			if len(idx.Packages) != tc.count {
				t.Errorf("%d packages, want %d", len(idx.Packages), tc.count)
			}
			for _, p := range idx.Packages {
				if p.Arch != tc.arch {
					t.Fatalf("%s: arch %s, want %s", p.Name, p.Arch, tc.arch)
				}
			}
			if !strings.HasPrefix(idx.Description, "v3.1") {
				t.Errorf("description %q", idx.Description)
			}
		})
	}
}

func TestRealIndexRecord(t *testing.T) {
	idx, err := Read(bytes.NewReader(readTestdata(t, "APKINDEX-3.16-main-x86_64.tar.gz")), defaultKeys(t), "3.16")
	if err != nil {
		t.Fatal(err)
	}
	var bl *Package
	for _, p := range idx.Packages {
		if p.Name == "alpine-baselayout" {
			bl = p
		}
	}
	if bl == nil {
		t.Fatal("alpine-baselayout not in the 3.16 index")
	}
	if bl.Version != "3.2.0-r23" || bl.Origin != "alpine-baselayout" || bl.Size != 11136 ||
		strings.Join(bl.Depends, " ") != "alpine-baselayout-data=3.2.0-r23 /bin/sh so:libc.musl-x86_64.so.1" ||
		strings.Join(bl.Provides, " ") != "cmd:mkmntdirs=3.2.0-r23" || bl.BuildTime.Unix() != 1662926906 ||
		bl.Filename() != "alpine-baselayout-3.2.0-r23.apk" {
		t.Errorf("alpine-baselayout record: %+v", bl)
	}
}

// One flipped byte anywhere in the signed part, or in the signature, is refused; and so is
// the genuine index when its signer is not trusted.
func TestReadRefusesTampering(t *testing.T) {
	orig := readTestdata(t, "APKINDEX-3.16-main-x86_64.tar.gz")
	for _, tc := range []struct {
		name string
		at   int
		want string
	}{
		{"signed part, middle", len(orig) / 2, "does not verify"},
		{"signed part, last byte", len(orig) - 1, "does not verify"},
		{"signature value", 600, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(orig)
			data[tc.at] ^= 0x01
			_, err := Read(bytes.NewReader(data), defaultKeys(t), "APKINDEX.tar.gz")
			if err == nil {
				t.Fatal("tampered index accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "APKINDEX.tar.gz") {
				t.Errorf("error %q, want it to name the file and say %q", err, tc.want)
			}
		})
	}
	// A changed signature value in a well-formed signature segment: the RSA check, not the
	// gzip or tar reader, must be what refuses it.
	t.Run("signature value, recompressed", func(t *testing.T) {
		br := bytes.NewReader(orig)
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		tr := tar.NewReader(zr)
		hdr, err := tr.Next()
		if err != nil || !strings.HasPrefix(hdr.Name, ".SIGN.RSA") {
			t.Fatalf("first entry %v: %v", hdr, err)
		}
		sig, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		rest := orig[len(orig)-br.Len():]
		resigned := func(sig []byte) []byte {
			var seg bytes.Buffer
			zw := gzip.NewWriter(&seg)
			tw := tar.NewWriter(zw)
			if err := tw.WriteHeader(&tar.Header{Name: hdr.Name, Mode: hdr.Mode, Size: int64(len(sig)), Typeflag: tar.TypeReg}); err != nil {
				t.Fatal(err)
			}
			tw.Write(sig)
			tw.Flush() // a signature segment has no end-of-archive blocks: the next segment follows
			zw.Close()
			return append(seg.Bytes(), rest...)
		}
		// Rebuilt with the same signature it still verifies: only the flipped bit differs below.
		if _, err := Read(bytes.NewReader(resigned(sig)), defaultKeys(t), "APKINDEX.tar.gz"); err != nil {
			t.Fatalf("the rebuilt signature segment: %v", err)
		}
		sig[len(sig)/2] ^= 0x01
		_, err = Read(bytes.NewReader(resigned(sig)), defaultKeys(t), "APKINDEX.tar.gz")
		if err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Fatalf("error %v, want the signature refused", err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		kr := keyring.Keyring{}
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err := kr.Add("someone-else.rsa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); err != nil {
			t.Fatal(err)
		}
		_, err = Read(bytes.NewReader(orig), kr, "APKINDEX.tar.gz")
		if err == nil || !strings.Contains(err.Error(), "not a trusted key") || !strings.Contains(err.Error(), "6165ee59") {
			t.Fatalf("error %v, want the untrusted signer named", err)
		}
	})
	t.Run("right name, wrong key", func(t *testing.T) {
		kr := defaultKeys(t)
		kr["alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"] = kr["alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub"]
		_, err := Read(bytes.NewReader(orig), kr, "APKINDEX.tar.gz")
		if err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Fatalf("error %v, want a failed verification", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{0, 10, 400, 667, 700} {
			_, err := Read(bytes.NewReader(orig[:n]), defaultKeys(t), "APKINDEX.tar.gz")
			if err == nil {
				t.Errorf("index truncated to %d bytes accepted", n)
			}
		}
	})
}
