package version

import "testing"

// FuzzCompare checks that Compare is a total preorder on whatever Parse accepts: antisymmetric,
// reflexive and transitive, and that String round-trips.
func FuzzCompare(f *testing.F) {
	for _, s := range [][3]string{
		{"1.0", "1.0_rc1", "1.0-r1"},
		{"1.05", "1.5", "1.0.5"},
		{"1.0_p1", "1.0a", "1.0~ab-r2"},
		{"2_alpha_beta", "2_beta", "2.0_rc"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		vc, errC := Parse(c)
		if errA != nil || errB != nil || errC != nil {
			return
		}
		if Compare(va, va) != 0 {
			t.Fatalf("Compare(%q, %q) != 0", a, a)
		}
		if Compare(va, vb) != -Compare(vb, va) {
			t.Fatalf("Compare not antisymmetric on %q, %q", a, b)
		}
		if Compare(va, vb) <= 0 && Compare(vb, vc) <= 0 && Compare(va, vc) > 0 {
			t.Fatalf("Compare not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
		if r, err := Parse(va.String()); err != nil || Compare(r, va) != 0 || r.String() != a {
			t.Fatalf("String round trip of %q gave %q (%v)", a, va.String(), err)
		}
	})
}
