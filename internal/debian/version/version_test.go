package version

import (
	"os/exec"
	"testing"
)

var compareCases = []struct {
	a, b string
	want int
}{
	{"1.0", "1.0", 0},
	{"1.0", "1.1", -1},
	{"1.0-1", "1.0-2", -1},
	{"1:1.0", "2.0", 1},
	{"0:1.0", "1.0", 0},
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~~", "1.0~", -1},
	{"1.0", "1.0+b1", -1},
	{"1.0a", "1.0+", -1},
	{"1.0", "1.0a", -1},
	{"3.0.15-1~deb13u1", "3.0.15-1", -1},
	{"3.0.16-1~deb12u1", "3.0.15-1", 1},
	{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
	{"1.2.13.dfsg-1+b1", "1.2.13.dfsg-1", 1},
	{"10", "9", 1},
	{"1.000", "1.0", 0},
	{"99999999999999999999999", "99999999999999999999998", 1},
	{"1.0-1", "1.0", 1},
	{"1.0-0", "1.0", 0},
	{"2:1", "1:9", 1},
	{"1.2.3", "1.2.3.0", -1},
}

func TestCompare(t *testing.T) {
	for _, tc := range compareCases {
		if got := Compare(tc.a, tc.b); got != tc.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Compare(tc.b, tc.a); got != -tc.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

// TestCompareAgainstDpkg checks our ordering against dpkg itself where it is installed.
func TestCompareAgainstDpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("dpkg not installed")
	}
	for _, tc := range compareCases {
		for op, want := range map[string]bool{"lt": tc.want < 0, "eq": tc.want == 0, "gt": tc.want > 0} {
			err := exec.Command(dpkg, "--compare-versions", tc.a, op, tc.b).Run()
			if got := err == nil; got != want {
				t.Errorf("dpkg says %q %s %q is %v, our table says %v", tc.a, op, tc.b, got, want)
			}
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{in: "1.0", want: Version{Upstream: "1.0"}},
		{in: "2:1.0-3", want: Version{Epoch: 2, Upstream: "1.0", Revision: "3"}},
		{in: "1.0-2-3", want: Version{Upstream: "1.0-2", Revision: "3"}},
		{in: "1:2:3", want: Version{Epoch: 1, Upstream: "2:3"}},
		{in: "", wantErr: true},
		{in: "a1.0", wantErr: true},
		{in: "x:1.0", wantErr: true},
		{in: "-1:1.0", wantErr: true},
		{in: "1.0-", wantErr: true},
		{in: "1.0_1", wantErr: true},
		{in: "1.0-a_b", wantErr: true},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("Parse(%q) err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func FuzzCompare(f *testing.F) {
	for _, tc := range compareCases {
		f.Add(tc.a, tc.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := Compare(a, b), Compare(b, a)
		if ab != -ba {
			t.Fatalf("not antisymmetric: Compare(%q,%q)=%d, reverse %d", a, b, ab, ba)
		}
		if Compare(a, a) != 0 {
			t.Fatalf("Compare(%q,%q) != 0", a, a)
		}
		if v, err := Parse(a); err == nil {
			if w, err := Parse(v.String()); err != nil || w.Compare(v) != 0 {
				t.Fatalf("String round trip of %q: %v %v", a, w, err)
			}
		}
	})
}
