package deb

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkReadDebs reads the data of every .deb in $SPARTAN_BENCH_DEBS (for instance the
// python image's packages, copied out of a Spartan cache), as an image build does: the
// figure behind the xz numbers in docs/BENCHMARKS.md. Without the variable it is skipped,
// so `go test ./...` stays hermetic.
func BenchmarkReadDebs(b *testing.B) {
	dir := os.Getenv("SPARTAN_BENCH_DEBS")
	if dir == "" {
		b.Skip("set SPARTAN_BENCH_DEBS to a directory of .deb files")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil || len(paths) == 0 {
		b.Fatalf("no .deb files in %s (%v)", dir, err)
	}
	var debs [][]byte
	var total int64
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		debs = append(debs, raw)
		total += int64(len(raw))
	}
	b.SetBytes(total)
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for range b.N {
		for i, raw := range debs {
			if _, err := Read(bytes.NewReader(raw), drainData); err != nil {
				b.Fatalf("%s: %v", paths[i], err)
			}
		}
	}
	b.StopTimer()
	// Wall time swings with the load of a shared machine; CPU time is the steadier figure.
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// drainData reads every entry's content, as the assembler does.
func drainData(_ *tar.Header, body io.Reader) error {
	_, err := io.Copy(io.Discard, body)
	return err
}
