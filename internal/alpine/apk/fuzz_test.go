package apk

import (
	"bytes"
	"os"
	"testing"
)

// FuzzRead: arbitrary bytes never panic, and nothing unsigned by a trusted key is accepted.
func FuzzRead(f *testing.F) {
	if real, err := os.ReadFile(realAPK); err == nil {
		f.Add(real)
		f.Add(real[:2300])
	}
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		keys := alpineKeys(t)
		info, err := Read(bytes.NewReader(data), Options{Keys: keys}, nil)
		if err == nil && keys[info.SignedBy] == nil {
			t.Fatalf("accepted a package signed by %q", info.SignedBy)
		}
	})
}
