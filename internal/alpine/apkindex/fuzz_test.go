package apkindex

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary text to the record parser: errors are fine, panics are not, and
// every record it accepts has a name, a valid version and a checksum.
func FuzzParse(f *testing.F) {
	f.Add([]byte("C:Q1JVVbw6GqZevQSdTHJvSvhxX3gG0=\nP:a\nV:1.0-r0\nD:so:libc.musl-x86_64.so.1 !b\nk:10\n\n"))
	f.Add([]byte("P:x\nV:1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if !ValidName(p.Name) || p.Version == "" || p.Checksum.Sum == nil {
				t.Fatalf("accepted %+v", p)
			}
		}
	})
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"P:a\nV:1\n", "no C: checksum"},
		{"C:Q1JVVbw6GqZevQSdTHJvSvhxX3gG0=\nV:1\n", "no P:"},
		{"C:Q1JVVbw6GqZevQSdTHJvSvhxX3gG0=\nP:../x\nV:1\n", "characters apk does not allow"},
		{"C:Q1JVVbw6GqZevQSdTHJvSvhxX3gG0=\nP:a\nV:x1\n", "must start with a digit"},
		{"C:Q1abc\nP:a\nV:1\n", "not 20 bytes"},
		{"C:Z1abc\nP:a\nV:1\n", "want Q1"},
		{"P:a\nnonsense\n", "line 2"},
		{"C:Q1JVVbw6GqZevQSdTHJvSvhxX3gG0=\nP:a\nV:1\nS:-1\n", "S:"},
		{"C:Q1JVVbw6GqZevQSdTHJvSvhxX3gG0=\nP:a\nV:1\nk:x\n", "provider_priority"},
	} {
		_, err := Parse(bytes.NewReader([]byte(tc.in)))
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("Parse(%q) error %v, want %q", tc.in, err, tc.want)
		}
	}
}
