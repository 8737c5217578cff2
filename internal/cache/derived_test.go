package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDerivedRoundTrip(t *testing.T) {
	tests := []struct {
		key  string
		data []byte
	}{
		{"packages-" + strings.Repeat("a", 64), []byte("Package: a\n\nPackage: b\n")},
		{"index/bookworm/main_amd64.v1", []byte{0, 1, 2, '\n', 255}},
		{"empty", nil},
	}
	c := newCache(t)
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if _, ok := c.GetDerived(tt.key); ok {
				t.Fatal("hit before put")
			}
			if err := c.PutDerived(tt.key, tt.data); err != nil {
				t.Fatal(err)
			}
			got, ok := c.GetDerived(tt.key)
			if !ok || !bytes.Equal(got, tt.data) {
				t.Fatalf("GetDerived = %q, %v", got, ok)
			}
			// Overwrite with new data.
			if err := c.PutDerived(tt.key, []byte("v2")); err != nil {
				t.Fatal(err)
			}
			if got, _ := c.GetDerived(tt.key); string(got) != "v2" {
				t.Fatalf("after overwrite: %q", got)
			}
		})
	}
	if left := files(t, filepath.Join(c.Dir, "tmp")); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestDerivedRejectsBadKeys(t *testing.T) {
	c := newCache(t)
	for _, key := range []string{"", ".", "..", "../escape", "a/../../b", "/abs", "a//b", "a/", "sp ace", "back\\slash", "colon:", strings.Repeat("k", 256)} {
		if err := c.PutDerived(key, []byte("x")); err == nil {
			t.Errorf("PutDerived(%q) succeeded", key)
		}
		if _, ok := c.GetDerived(key); ok {
			t.Errorf("GetDerived(%q) hit", key)
		}
	}
	if left := files(t, filepath.Dir(c.Dir)); len(left) != 0 {
		t.Errorf("files written: %v", left)
	}
}

func TestDerivedDamagedIsMiss(t *testing.T) {
	data := []byte("Package: libc6\nVersion: 2.36\n")
	tests := []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"bit flip", func(b []byte) []byte { b[len(b)-2] ^= 1; return b }},
		{"appended", func(b []byte) []byte { return append(b, "Package: evil\n"...) }},
		{"no header", func([]byte) []byte { return data }},
		{"empty", func([]byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			if err := c.PutDerived("k", data); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(c.Dir, "derived", "k")
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tt.damage(raw), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, ok := c.GetDerived("k"); ok {
				t.Fatalf("damaged entry read as %q", got)
			}
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("damaged entry not removed: %v", err)
			}
		})
	}
}
