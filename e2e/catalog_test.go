//go:build e2e

package e2e

import (
	"archive/tar"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// testCA makes a CA and a localhost server certificate it signed, and serves TLS on 127.0.0.1
// until the test ends. It returns the CA's PEM and the port.
func testCA(t *testing.T) (caPEM []byte, port int) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Spartan e2e test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 256)
				c.Read(buf)
				io.WriteString(c, "HTTP/1.0 200 OK\r\n\r\nspartan-tls-ok\n")
			}()
		}
	}()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), ln.Addr().(*net.TCPAddr).Port
}

var tagsLine = regexp.MustCompile(`(?m)^tags:.*$`)

// specWithCA copies images/<name>/spartan.yaml into a temp folder with the CA added to its
// certificates and a test tag, so it does not clobber the catalog image's tags.
func specWithCA(t *testing.T, name string, caPEM []byte) (dir, tag string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "images", name, "spartan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(workDir, name+"-ca")
	tag = "spartan-e2e/" + name + "-ca:latest"
	writeFile(t, filepath.Join(dir, "ca.pem"), string(caPEM))
	text := tagsLine.ReplaceAllString(string(raw), "tags: ["+tag+"]") + "\ncertificates: [ca.pem]\n"
	writeFile(t, filepath.Join(dir, "spartan.yaml"), text)
	return dir, tag
}

func TestPythonImage(t *testing.T) {
	b := buildImage(t, "python")
	t.Logf("python image %s built in %s", b.digest, b.elapsed)
	check := filepath.Join(repoRoot, "images", "python", "test")
	r := must(t, podman(t, "run", "--rm", "-v", check+":/check:ro", "spartan/python:3.13", "/check/check.py"), "run check.py")
	if !strings.Contains(r.stdout, "uid 65532 user nonroot") || !strings.Contains(r.stdout, "checks ok:") {
		t.Fatalf("check.py output:\n%s", r.stdout)
	}
	t.Log(strings.TrimSpace(r.stdout))
}

func TestPythonVerifiesChainAgainstBundle(t *testing.T) {
	caPEM, port := testCA(t)
	dir, tag := specWithCA(t, "python", caPEM)
	archive := filepath.Join(workDir, "python-ca.tar")
	must(t, spartan(t, nil, "build", dir, "--arch", "amd64", "--archive", archive), "build python with CA")
	must(t, podman(t, "load", "-i", archive), "load")
	check := filepath.Join(repoRoot, "images", "python", "test")
	r := must(t, podman(t, "run", "--rm", "--network", "host", "-v", check+":/check:ro", tag, "/check/check.py", strconv.Itoa(port)), "run check.py with TLS")
	if !strings.Contains(r.stdout, "ssl.handshake") {
		t.Fatalf("no TLS handshake in:\n%s", r.stdout)
	}
}

func TestPythonHasNoShellOrPackageManager(t *testing.T) {
	b := buildImage(t, "python")
	files := archiveFiles(t, b.archive)
	for _, p := range []string{"bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash", "usr/bin/dash", "usr/bin/apt", "usr/bin/apt-get", "usr/bin/dpkg", "usr/bin/perl", "usr/bin/pip", "usr/bin/pip3"} {
		if _, ok := files[p]; ok {
			t.Errorf("image contains /%s", p)
		}
	}
	for p, h := range files {
		if h.Mode&(04000|02000) != 0 && h.Typeflag == tar.TypeReg {
			t.Errorf("setuid/setgid file /%s (mode %o)", p, h.Mode)
		}
	}
	for _, p := range []string{"etc/passwd", "etc/group", "etc/os-release", "etc/ssl/certs/ca-certificates.crt", "var/lib/dpkg/status.d/python3.13", "var/lib/dpkg/status.d/python3.13.md5sums", "usr/share/doc/python3.13/copyright"} {
		if _, ok := files[p]; !ok {
			t.Errorf("image lacks /%s", p)
		}
	}
	if h, ok := files["tmp"]; !ok || h.Mode&0o7777 != 0o1777 {
		t.Errorf("/tmp mode is not 1777")
	}
	r := podman(t, "run", "--rm", "--entrypoint", "/bin/sh", "spartan/python:3.13", "-c", "echo shell")
	if r.err == nil || strings.Contains(r.stdout, "shell") {
		t.Fatalf("running /bin/sh succeeded: %s", r.stdout)
	}
}

func TestContainerfileFromPython(t *testing.T) {
	buildImage(t, "python")
	dir := filepath.Join(workDir, "userapp")
	writeFile(t, filepath.Join(dir, "app.py"), "import sys, platform\nprint('user app on', platform.python_version(), 'as', __import__('os').getuid())\n")
	writeFile(t, filepath.Join(dir, "Containerfile"), "FROM spartan/python:3.13\nCOPY app.py /app/app.py\nCMD [\"/app/app.py\"]\n")
	must(t, podman(t, "build", "--pull=never", "-t", "spartan-e2e/userapp", dir), "podman build")
	r := must(t, podman(t, "run", "--rm", "spartan-e2e/userapp"), "run user app")
	if !strings.Contains(r.stdout, "user app on 3.13") || !strings.Contains(r.stdout, "as 65532") {
		t.Fatalf("user app output: %s", r.stdout)
	}
}

func TestStaticTLSWithCustomCA(t *testing.T) {
	caPEM, port := testCA(t)
	dir, tag := specWithCA(t, "static", caPEM)
	archive := filepath.Join(workDir, "static-ca.tar")
	must(t, spartan(t, nil, "build", dir, "--arch", "amd64", "--archive", archive), "build static with CA")
	must(t, podman(t, "load", "-i", archive), "load")
	ctx := filepath.Join(workDir, "static-app")
	must(t, run(t, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}, "go", "build", "-C", repoRoot, "-o", filepath.Join(ctx, "tlsprobe"), "./images/static/test/tlsprobe"), "build tlsprobe")
	if f, err := elf.Open(filepath.Join(ctx, "tlsprobe")); err == nil {
		if interp := f.Section(".interp"); interp != nil {
			t.Fatal("tlsprobe is not static")
		}
		f.Close()
	}
	writeFile(t, filepath.Join(ctx, "Containerfile"), "FROM "+tag+"\nCOPY tlsprobe /tlsprobe\nENTRYPOINT [\"/tlsprobe\"]\n")
	must(t, podman(t, "build", "--pull=never", "-t", "spartan-e2e/static-app", ctx), "podman build static app")
	r := must(t, podman(t, "run", "--rm", "--network", "host", "spartan-e2e/static-app", "127.0.0.1:"+strconv.Itoa(port)), "run tlsprobe")
	if !strings.Contains(r.stdout, "tls ok: localhost") || !strings.Contains(r.stdout, "uid 65532") {
		t.Fatalf("tlsprobe: %s", r.stdout)
	}
}

func TestBaseRunsC(t *testing.T) {
	buildImage(t, "base")
	ctx := filepath.Join(workDir, "c-app")
	os.MkdirAll(ctx, 0o755)
	must(t, run(t, nil, "gcc", "-O2", "-o", filepath.Join(ctx, "hello"), filepath.Join(repoRoot, "images/base/test/hello.c"), "-lssl", "-lcrypto", "-lz"), "gcc")
	writeFile(t, filepath.Join(ctx, "Containerfile"), "FROM spartan/base:latest\nCOPY hello /hello\nENTRYPOINT [\"/hello\"]\n")
	must(t, podman(t, "build", "--pull=never", "-t", "spartan-e2e/c-app", ctx), "podman build")
	r := must(t, podman(t, "run", "--rm", "spartan-e2e/c-app"), "run C program")
	if !strings.Contains(r.stdout, "hello from C: uid 65532 user nonroot zlib") || !strings.Contains(r.stdout, "OpenSSL 3") {
		t.Fatalf("C program: %s", r.stdout)
	}
}

func TestCCRunsCPlusPlus(t *testing.T) {
	buildImage(t, "cc")
	ctx := filepath.Join(workDir, "cc-app")
	os.MkdirAll(ctx, 0o755)
	must(t, run(t, nil, "g++", "-O2", "-pthread", "-o", filepath.Join(ctx, "hello"), filepath.Join(repoRoot, "images/cc/test/hello.cpp")), "g++")
	writeFile(t, filepath.Join(ctx, "Containerfile"), "FROM spartan/cc:latest\nCOPY hello /hello\nENTRYPOINT [\"/hello\"]\n")
	must(t, podman(t, "build", "--pull=never", "-t", "spartan-e2e/cc-app", ctx), "podman build")
	r := must(t, podman(t, "run", "--rm", "spartan-e2e/cc-app"), "run C++ program")
	if !strings.Contains(r.stdout, "hello from C++: 42 caught") {
		t.Fatalf("C++ program: %s", r.stdout)
	}
}

// TestReproducible builds the python image again — with the warm cache and with an empty one,
// another time zone, another umask and another number of threads compressing the layers (a
// layer over 1 MiB is deflated in pieces in parallel) — and expects the digest of the first
// build.
func TestReproducible(t *testing.T) {
	b := buildImage(t, "python")
	for _, tc := range []struct {
		name, cache string
		env         []string
	}{
		{"warm cache, TZ, umask, one thread", cacheDir, []string{"TZ=Pacific/Kiritimati", "GOMAXPROCS=1"}},
		{"empty cache, TZ, umask, three threads", t.TempDir(), []string{"TZ=America/St_Johns", "GOMAXPROCS=3"}},
	} {
		archive := filepath.Join(workDir, "python-again.tar")
		r := must(t, run(t, tc.env, "sh", "-c", `umask 077 && exec "$@"`, "sh", spartanBin, "--cache", tc.cache, "build", filepath.Join(repoRoot, "images/python"), "--arch", "amd64", "--no-layer-cache", "--archive", archive), "rebuild: "+tc.name)
		if got := lastLine(r.stdout); got != b.digest {
			t.Fatalf("%s: rebuild digest %s, first build %s", tc.name, got, b.digest)
		}
		t.Logf("%s: rebuilt in %s, the same digest %s", tc.name, r.elapsed, b.digest)
	}
}

// TestMultiArch builds base for amd64 and arm64 without emulation and checks the index and the
// arm64 binaries.
func TestMultiArch(t *testing.T) {
	dir := filepath.Join(workDir, "base-multi")
	r := must(t, spartan(t, nil, "build", filepath.Join(repoRoot, "images/base"), "--arch", "amd64,arm64", "--oci", dir), "multi-arch build")
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	root, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	rm, _ := root.IndexManifest()
	if len(rm.Manifests) != 1 || rm.Manifests[0].Digest.String() != lastLine(r.stdout) {
		t.Fatalf("layout index.json: %+v, build printed %s", rm.Manifests, lastLine(r.stdout))
	}
	idx, err := root.ImageIndex(rm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	arches := map[string]bool{}
	for _, d := range im.Manifests {
		arches[d.Platform.Architecture] = true
		if d.Platform.Architecture != "arm64" {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := img.Layers()
		found := false
		for _, l := range layers {
			rc, _ := l.Uncompressed()
			tr := tar.NewReader(rc)
			for {
				h, err := tr.Next()
				if err != nil {
					break
				}
				if h.Name == "usr/lib/aarch64-linux-gnu/libc.so.6" && h.Typeflag == tar.TypeReg {
					body, _ := io.ReadAll(tr)
					f, err := elf.NewFile(strings.NewReader(string(body)))
					if err != nil || f.Machine != elf.EM_AARCH64 {
						t.Fatalf("arm64 libc.so.6 is not an aarch64 ELF: %v %v", err, f)
					}
					found = true
				}
			}
			rc.Close()
		}
		if !found {
			t.Fatal("arm64 image has no usr/lib/aarch64-linux-gnu/libc.so.6")
		}
	}
	if !arches["amd64"] || !arches["arm64"] {
		t.Fatalf("index platforms: %v", arches)
	}
}

// archiveFiles lists the final file system of a docker-archive: later layers win.
func archiveFiles(t *testing.T, archive string) map[string]*tar.Header {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string]*tar.Header{}
	outer := tar.NewReader(f)
	for {
		h, err := outer.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(h.Name, ".tar.gz") && !strings.HasSuffix(h.Name, ".tar") && !strings.HasPrefix(h.Name, "sha256:") {
			continue
		}
		var r io.Reader = outer
		if zr, err := gzip.NewReader(outer); err == nil {
			r = zr
		} else {
			continue
		}
		inner := tar.NewReader(r)
		for {
			ih, err := inner.Next()
			if err != nil {
				break
			}
			files[strings.TrimPrefix(strings.TrimSuffix(ih.Name, "/"), "./")] = ih
		}
	}
	if len(files) == 0 {
		t.Fatalf("no layer files found in %s", archive)
	}
	return files
}
