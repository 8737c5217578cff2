package assemble

import "testing"

func TestTrimPaths(t *testing.T) {
	tr := Trim{Paths: []string{"/usr/lib/python3.13/test/**", "/usr/lib/*/gconv/*.so", "/usr/share/doc/*/copyright", "/usr/lib/python3.13/lib-dynload/_test*.so"}}
	tests := []struct {
		path string
		kind kind
		want bool
	}{
		{"usr/lib/python3.13/test/support/__init__.py", kindReg, true},
		{"usr/lib/python3.13/test", kindDir, false},
		{"usr/lib/python3.13/testing.py", kindReg, false},
		{"usr/lib/x86_64-linux-gnu/gconv/IBM1390.so", kindReg, true},
		{"usr/lib/x86_64-linux-gnu/gconv/gconv-modules", kindReg, false},
		{"usr/lib/python3.13/lib-dynload/_testcapi.cpython-313-x86_64-linux-gnu.so", kindReg, true},
		{"usr/lib/python3.13/lib-dynload/_ssl.cpython-313-x86_64-linux-gnu.so", kindReg, false},
		{"usr/share/doc/libc6/copyright", kindReg, false}, // never, whatever the pattern
	}
	for _, tc := range tests {
		if got := trimmed(tc.path, tc.kind, tr); got != tc.want {
			t.Errorf("trimmed(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
