package oci

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DebianArch must undo Arch and Variant for every architecture Debian releases.
func TestDebianArchRoundTrip(t *testing.T) {
	for _, deb := range []string{"amd64", "arm64", "armhf", "armel", "i386", "ppc64el", "s390x", "riscv64"} {
		p := v1.Platform{OS: "linux", Architecture: Arch(deb), Variant: Variant(deb)}
		if got := DebianArch(p); got != deb {
			t.Errorf("DebianArch(%s/%s) = %s, want %s", p.Architecture, p.Variant, got, deb)
		}
	}
}
