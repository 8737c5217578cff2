package tarpath

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"./usr/bin/x", "usr/bin/x", ""},
		{"usr/bin/x/", "usr/bin/x", ""},
		{"./", "", ""},
		{"a//b/./c", "a/b/c", ""},
		{"/etc/passwd", "", "absolute entry name"},
		{"a/../../etc/passwd", "", `".." in entry name`},
		{"..", "", `".." in entry name`},
		{"a\x00b", "", "NUL in entry name"},
	} {
		got, err := Clean(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Clean(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Clean(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestClimbs(t *testing.T) {
	for _, tt := range []struct {
		dir, target string
		want        bool
	}{
		{"usr/bin", "../lib/x", false},
		{"usr/bin", "../../etc", false},
		{"usr/bin", "../../../etc", true},
		{"", "..", true},
		{".", "..", true},
		{"", "x/../y", false},
		{"app", "/etc/passwd", false},
		{"a", "b/../../..", true},
		{"usr", "../../..", true},
		{"usr", "..", false},
		{"a", "/..", false},
	} {
		if got := Climbs(tt.dir, tt.target); got != tt.want {
			t.Errorf("Climbs(%q, %q) = %v, want %v", tt.dir, tt.target, got, tt.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"./usr/bin/x", "/etc", "a/../b", "a\x00", "", "../.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c, err := Clean(name)
		if err != nil {
			return
		}
		if strings.HasPrefix(c, "/") || strings.Contains("/"+c+"/", "/../") || strings.ContainsRune(c, 0) {
			t.Fatalf("Clean(%q) = %q escapes", name, c)
		}
		if Climbs("", c) {
			t.Fatalf("Clean(%q) = %q climbs", name, c)
		}
	})
}
