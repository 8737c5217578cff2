package oci

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/deflate"
)

// TestCheckGzip feeds the read-back check layers that do not match their tar and checks that
// each mismatch is caught and located.
func TestCheckGzip(t *testing.T) {
	tar := makeTar(t, map[string]string{"a": strings.Repeat("spartan ", 5000), "b": "tail"})
	gz := deflate.Gzip(tar)
	flipped := bytes.Clone(tar)
	flipped[3000] ^= 1
	tests := []struct {
		name string
		gz   []byte
		tar  []byte
		want string // "" = no error
	}{
		{"matches", gz, tar, ""},
		{"byte differs", deflate.Gzip(flipped), tar, "differ from the tar's at offset 3000 of"},
		{"shorter", deflate.Gzip(tar[:len(tar)-512]), tar, "inflates to"},
		{"longer", deflate.Gzip(append(bytes.Clone(tar), 0)), tar, "at offset " + strconv.Itoa(len(tar))},
		{"truncated stream", gz[:len(gz)/2], tar, "does not read back after"},
		{"bad trailer", append(bytes.Clone(gz[:len(gz)-8]), 0, 0, 0, 0, 0, 0, 0, 0), tar, "checksum"},
		{"not gzip", []byte("plain"), tar, "does not read back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkGzip(tc.gz, tc.tar)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
