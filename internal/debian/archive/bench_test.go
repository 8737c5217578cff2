package archive

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The index benchmarks read a real Packages index from $SPARTAN_BENCH_PACKAGES, a directory
// holding Packages and its Packages.gz and Packages.xz forms (docs/BENCHMARKS.md says how the
// figures there were made). Without the variable they are skipped, so `go test ./...` stays
// hermetic. They report CPU time per operation besides wall time: the machine is shared.

func benchIndexDir(b *testing.B) string {
	dir := os.Getenv("SPARTAN_BENCH_PACKAGES")
	if dir == "" {
		b.Skip("set SPARTAN_BENCH_PACKAGES to a directory with Packages, Packages.gz and Packages.xz")
	}
	return dir
}

func benchIndexText(b *testing.B) string {
	raw, err := os.ReadFile(filepath.Join(benchIndexDir(b), "Packages"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	return string(raw)
}

// cpuTimer reports the process's CPU time per operation when stopped.
func cpuTimer(b *testing.B) func() {
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	return func() {
		b.StopTimer()
		var ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
		b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkScanIndex is the index scanner on the decompressed text.
func BenchmarkScanIndex(b *testing.B) {
	text := benchIndexText(b)
	stop := cpuTimer(b)
	for range b.N {
		if _, err := scanIndex(text, nil); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}

// BenchmarkParseIndex is the paragraph parser the scanner replaced (control.Reader, then the
// typed fields), on the same text.
func BenchmarkParseIndex(b *testing.B) {
	text := benchIndexText(b)
	stop := cpuTimer(b)
	for range b.N {
		if _, err := parsePackages(strings.NewReader(text), nil); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}

// BenchmarkCachedIndex is a warm run's load of the parsed-index cache entry.
func BenchmarkCachedIndex(b *testing.B) {
	pkgs, err := scanIndex(benchIndexText(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	entry := encodePackages(pkgs)
	stop := cpuTimer(b)
	for range b.N {
		if _, err := decodePackages(entry, nil); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}

// BenchmarkReadIndexFile decompresses and scans each form of the index, as a cold run does.
func BenchmarkReadIndexFile(b *testing.B) {
	dir := benchIndexDir(b)
	for _, ext := range []string{".gz", ".xz"} {
		b.Run(ext[1:], func(b *testing.B) {
			path := filepath.Join(dir, "Packages"+ext)
			stop := cpuTimer(b)
			for range b.N {
				if _, err := readIndexFile(path, ext, nil, 0); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
	}
}
