package apkindex

import (
	"bytes"
	"testing"
)

// BenchmarkReadReal verifies and parses the real v3.16 main x86_64 index.
func BenchmarkReadReal(b *testing.B) {
	data := readTestdataB(b, "APKINDEX-3.16-main-x86_64.tar.gz")
	kr := defaultKeysB(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data), kr, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
