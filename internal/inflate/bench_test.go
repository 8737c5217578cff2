package inflate

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// BenchmarkInflate compares this package with compress/gzip and klauspost/compress on a real
// Packages.gz and layer.gz (in SPARTAN_BENCH_PACKAGES, as in internal/debian/archive's
// benchmarks) and on synthetic layer-shaped output; MB/s are of decompressed bytes.
func BenchmarkInflate(b *testing.B) {
	inputs := map[string][]byte{"layer": encoders["spartan"](corpus()["tarish"])}
	if dir := os.Getenv("SPARTAN_BENCH_PACKAGES"); dir != "" {
		gz, err := os.ReadFile(filepath.Join(dir, "Packages.gz"))
		if err != nil {
			b.Fatal(err)
		}
		inputs["Packages.gz"] = gz
		// A real layer, if the directory has one (a python image's largest, say).
		if gz, err := os.ReadFile(filepath.Join(dir, "layer.gz")); err == nil {
			inputs["real-layer"] = gz
		}
	}
	readers := map[string]func(io.Reader) (io.Reader, error){
		"spartan":   func(r io.Reader) (io.Reader, error) { return NewReader(r) },
		"stdlib":    func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		"klauspost": func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) },
	}
	for iname, gz := range inputs {
		plain, err := oracle(gz)
		if err != nil {
			b.Fatal(err)
		}
		for rname, open := range readers {
			b.Run(iname+"/"+rname, func(b *testing.B) {
				b.SetBytes(int64(len(plain)))
				for b.Loop() {
					z, err := open(bytes.NewReader(gz))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, z); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
