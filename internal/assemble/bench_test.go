package assemble

import (
	"archive/tar"
	"fmt"
	"math/rand"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

// BenchmarkAssemble assembles 20 packages of a few MB each (about 45 MB installed), in the
// compressions Debian and Ubuntu use, to keep an eye on decompression and tar writing costs.
func BenchmarkAssemble(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	words := []string{"alpha ", "beta ", "gamma ", "delta ", "epsilon ", "\x00\x01", "zeta\n", "eta "}
	body := func(n int) string {
		buf := make([]byte, 0, n)
		for len(buf) < n {
			if rng.Intn(4) == 0 {
				buf = append(buf, byte(rng.Intn(256)))
			} else {
				buf = append(buf, words[rng.Intn(len(words))]...)
			}
		}
		return string(buf[:n])
	}
	var debs []testkit.Deb
	var installed int64
	for i := range 20 {
		compression := []string{"zstd", "gzip", "zstd", "xz"}[i%4]
		size := 3 << 20
		if compression == "xz" {
			size = 1 << 20 // the pure-Go xz writer is slow; keep the setup short
		}
		d := testkit.Deb{Name: fmt.Sprintf("pkg%02d", i), Source: fmt.Sprintf("src%02d", i/2), Compression: compression, AutoDirs: true}
		for j := range 8 {
			d.Files = append(d.Files, testkit.File{Path: fmt.Sprintf("/usr/lib/x86_64-linux-gnu/pkg%02d/f%d.so", i, j), Body: body(size / 8)})
		}
		d.Files = append(d.Files,
			testkit.File{Path: fmt.Sprintf("/usr/share/doc/pkg%02d/copyright", i), Body: "GPL"},
			testkit.File{Path: fmt.Sprintf("/usr/share/man/man1/pkg%02d.1.gz", i), Body: body(4096)},
			testkit.File{Path: fmt.Sprintf("/usr/bin/pkg%02d", i), Type: tar.TypeSymlink, Link: fmt.Sprintf("../lib/x86_64-linux-gnu/pkg%02d/f0.so", i)})
		debs = append(debs, d)
		installed += int64(size)
	}
	ins := writeDebs(b, debs...)
	opts := testOptions()
	b.SetBytes(installed)
	b.ResetTimer()
	for range b.N {
		res, err := Assemble(ins, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Layers) != 10 {
			b.Fatalf("%d layers", len(res.Layers))
		}
	}
}
