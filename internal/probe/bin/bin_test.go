package bin

import (
	"bytes"
	"compress/gzip"
	"debug/buildinfo"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

var update = flag.Bool("update", false, "rebuild the embedded probes (go generate)")

// archs maps the Debian architectures the probe is embedded for to GOARCH.
var archs = map[string]string{"amd64": "amd64", "arm64": "arm64"}

// build compiles cmd/spartan-probe the way the embedded binaries are built: no cgo, no paths,
// no VCS stamp, no build ID, stripped. With these the bytes depend only on the source and the
// Go toolchain.
func build(t *testing.T, goarch, out string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, "github.com/spartan-images/spartan/cmd/spartan-probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build spartan-probe (%s): %v\n%s", goarch, err, b)
	}
}

// TestRebuild rebuilds the probe from this checkout's source and requires the embedded bytes:
// what images carry is what the source says. It needs the toolchain the binaries were built
// with (the Go version is in their build info); with another one it can only skip.
func TestRebuild(t *testing.T) {
	if testing.Short() && !*update {
		t.Skip("builds the probe for every architecture")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	for deb, goarch := range archs {
		out := filepath.Join(dir, deb)
		build(t, goarch, out)
		fresh, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			var gz bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
			zw.Write(fresh)
			zw.Close()
			if err := os.WriteFile("spartan-probe-"+deb+".gz", gz.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		embedded, err := Binary(deb)
		if err != nil {
			t.Fatal(err)
		}
		bi, err := buildinfo.Read(bytes.NewReader(embedded))
		if err != nil {
			t.Fatal(err)
		}
		if bi.GoVersion != runtime.Version() {
			t.Skipf("the embedded probe was built with %s, this toolchain is %s: only the same toolchain reproduces it", bi.GoVersion, runtime.Version())
		}
		if !bytes.Equal(fresh, embedded) {
			t.Errorf("spartan-probe for %s: rebuilding from source gives other bytes (%d vs %d embedded); run go generate ./internal/probe/bin after changing the probe", deb, len(fresh), len(embedded))
		}
	}
}

func TestBinaries(t *testing.T) {
	for deb, goarch := range archs {
		b, err := Binary(deb)
		if err != nil {
			t.Fatal(err)
		}
		bi, err := buildinfo.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if bi.Path != "github.com/spartan-images/spartan/cmd/spartan-probe" || settings["GOARCH"] != goarch ||
			settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
			t.Errorf("%s: build info %s, settings %v", deb, bi.Path, settings)
		}
	}
	if _, err := Binary("s390x"); err == nil {
		t.Error("an architecture without a probe must be refused")
	}
}
