package version

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	// Each row is strictly ascending; every pair within a row is checked both ways.
	rows := [][]string{
		{"1", "1.0", "1.0.1", "1.1", "2"},
		{"1.0_alpha", "1.0_alpha1", "1.0_alpha2", "1.0_beta", "1.0_pre1", "1.0_rc1", "1.0_rc2", "1.0", "1.0_cvs", "1.0_svn", "1.0_git", "1.0_hg", "1.0_p1", "1.0_p2"},
		{"1.0", "1.0-r0", "1.0-r1", "1.0-r2", "1.0-r10", "1.0a", "1.0b", "1.0.1"},
		{"1.0_rc1-r5", "1.0", "1.0-r1", "1.0_p1", "1.0_p1-r3"},
		{"1.05", "1.1", "1.5", "1.10"},
		{"1.001", "1.01", "1.1"},
		{"2.9", "2.10", "2.100"},
		{"1.0_rc1", "1.0_rc1_p1", "1.0_rc2"},
		{"1.0_alpha_alpha", "1.0_alpha", "1.0_alpha_p"},
		{"1.0_rc", "1.0_rc0", "1.0_rc1"},
		{"0.99f", "0.99f7", "0.99f10", "0.99g", "0.100"},
		{"1a", "1a1", "1a1.1", "1a2", "1b"},
		{"1.0~abc-r0", "1.0~abc-r1", "1.0.0"},
		{"1.0", "1.0~abc", "1.0~abc-r0"},
		{"3.2.0-r23", "3.4.0-r0", "3.4.0-r1"},
		{"9999999999999999999999", "10000000000000000000000"},
		{"1.2.3_git20230101", "1.2.3_p0"},
		{"2.36.1-r2", "2.37-r0"},
		{"1.35.0-r17", "1.35.0-r29", "1.36.1-r0"},
	}
	for _, row := range rows {
		for i := range row {
			for j := range row {
				want := cmpInt(i, j)
				if got := Compare(MustParse(row[i]), MustParse(row[j])); got != want {
					t.Errorf("Compare(%q, %q) = %d, want %d", row[i], row[j], got, want)
				}
			}
		}
	}
}

func TestEqual(t *testing.T) {
	for _, p := range [][2]string{{"1.0", "1.00"}, {"01", "1"}, {"1.0~aa", "1.0~bb"}, {"1-r01", "1-r1"}} {
		if c := Compare(MustParse(p[0]), MustParse(p[1])); c != 0 {
			t.Errorf("Compare(%q, %q) = %d, want 0", p[0], p[1], c)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"a1", "must start with a digit"},
		{"1..2", "'.' must be followed by digits"},
		{"1.0ab", "unexpected 'b'"},
		{"1.0a.1", "unexpected '.'"},
		{"1.0_foo", "unknown suffix _foo"},
		{"1.0_p1a", "unexpected 'a'"},
		{"1.0-r", "revision after -r"},
		{"1.0-rx", "revision after -r"},
		{"1.0-1", "unexpected '-'"},
		{"1.0-r1-r2", "unexpected '-'"},
		{"1.0-r1_p1", "unexpected '_'"},
		{"1.0~", "commit hash"},
		{"1.0~XYZ", "commit hash"},
		{"1.0 ", "unexpected ' '"},
	} {
		_, err := Parse(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", tc.in, err, tc.want)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, s := range []string{"1", "1.2.3a_rc1_p2~0abc-r12", "20230101_git-r0", "1.0_alpha"} {
		if got := MustParse(s).String(); got != s {
			t.Errorf("String(Parse(%q)) = %q", s, got)
		}
	}
}

func TestSatisfies(t *testing.T) {
	for _, tc := range []struct {
		have, op, want string
		ok             bool
	}{
		{"1.2-r0", "=", "1.2-r0", true},
		{"1.2-r1", "=", "1.2-r0", false},
		{"1.2-r1", ">=", "1.2", true},
		{"1.2-r1", ">", "1.2", true},
		{"1.2_rc1", "<", "1.2", true},
		{"1.2", "<=", "1.2", true},
		{"1.3", "<=", "1.2", false},
		{"1.2.3-r4", "~", "1.2", true},
		{"1.20", "~", "1.2", false},
		{"1.2a", "~", "1.2", true},
		{"1.2.3-r4", "~", "1.2.3-r4", true},
		{"1.2.3-r5", "~", "1.2.3-r4", false},
		{"1.2.3", "><", "1.2.3", false},
	} {
		got, err := Satisfies(MustParse(tc.have), tc.op, MustParse(tc.want))
		if tc.op == "><" {
			if err == nil {
				t.Errorf("Satisfies with operator %q: want an error", tc.op)
			}
			continue
		}
		if err != nil || got != tc.ok {
			t.Errorf("%s %s %s = %v, %v; want %v", tc.have, tc.op, tc.want, got, err, tc.ok)
		}
	}
}
