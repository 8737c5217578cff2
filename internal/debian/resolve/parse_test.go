package resolve

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseRelations(t *testing.T) {
	tests := []struct {
		in   string
		want [][]Relation
	}{
		{"", nil},
		{"  \n ", nil},
		{"libc6", [][]Relation{{{Name: "libc6"}}}},
		{"libc6 (>= 2.36), zlib1g (>= 1:1.1.4)", [][]Relation{
			{{Name: "libc6", Op: ">=", Version: "2.36"}},
			{{Name: "zlib1g", Op: ">=", Version: "1:1.1.4"}},
		}},
		{"debconf (>= 0.5) | debconf-2.0", [][]Relation{{
			{Name: "debconf", Op: ">=", Version: "0.5"},
			{Name: "debconf-2.0"},
		}}},
		{"a (<< 2), b (<= 2), c (= 2), d (>> 2)", [][]Relation{
			{{Name: "a", Op: "<<", Version: "2"}},
			{{Name: "b", Op: "<=", Version: "2"}},
			{{Name: "c", Op: "=", Version: "2"}},
			{{Name: "d", Op: ">>", Version: "2"}},
		}},
		// Obsolete operators mean what dpkg always took them to mean.
		{"a (< 2), b (> 2)", [][]Relation{
			{{Name: "a", Op: "<=", Version: "2"}},
			{{Name: "b", Op: ">=", Version: "2"}},
		}},
		{"a(>=1.0-1)", [][]Relation{{{Name: "a", Op: ">=", Version: "1.0-1"}}}},
		{"a ( >=  1.0 )", [][]Relation{{{Name: "a", Op: ">=", Version: "1.0"}}}},
		{"python3:any (>= 3.11~), libfoo:native, libbar:amd64", [][]Relation{
			{{Name: "python3", Arch: "any", Op: ">=", Version: "3.11~"}},
			{{Name: "libfoo", Arch: "native"}},
			{{Name: "libbar", Arch: "amd64"}},
		}},
		{"a [amd64 arm64], b (>= 1) [!i386] <!nocheck>, c <stage1 cross> <!nocheck>", [][]Relation{
			{{Name: "a", Arches: []string{"amd64", "arm64"}}},
			{{Name: "b", Op: ">=", Version: "1", Arches: []string{"!i386"}}},
			{{Name: "c"}},
		}},
		// Continuation lines as the control reader hands them over.
		{"libc6 (>= 2.34),\n libssl3t64 (>= 3.0.0)\n", [][]Relation{
			{{Name: "libc6", Op: ">=", Version: "2.34"}},
			{{Name: "libssl3t64", Op: ">=", Version: "3.0.0"}},
		}},
		{"g++-14, libstdc++6, foo.bar+baz", [][]Relation{
			{{Name: "g++-14"}}, {{Name: "libstdc++6"}}, {{Name: "foo.bar+baz"}},
		}},
	}
	for _, tc := range tests {
		got, err := ParseRelations(tc.in)
		if err != nil {
			t.Errorf("ParseRelations(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseRelations(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
		}
	}
}

func TestParseRelationsErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a,,b", "empty relation"},
		{"a, ", "empty relation"},
		{"a | | b", "empty alternative"},
		{"a (>= 1", "missing ')'"},
		{"a (~ 1)", "missing operator"},
		{"a (>= )", "empty"},
		{"a (>= x1)", "must start with a digit"},
		{"a [amd64", "missing ']'"},
		{"a []", "empty architecture list"},
		{"a [amd64 !arm64]", "mixes negated"},
		{"a [amd64] [arm64]", "more than one architecture list"},
		{"a <!nocheck", "missing '>'"},
		{"a <>", "empty build-profile"},
		{"a:", "invalid architecture qualifier"},
		{"a:b:c", "invalid architecture qualifier"},
		{"-a", "must start with a letter or digit"},
		{"a_b", "invalid character"},
		{"(>= 1)", "missing package name"},
		{"a b", "unexpected"},
		{"a [amd64] (>= 1)", "unexpected"},
	}
	for _, tc := range tests {
		_, err := ParseRelations(tc.in)
		if err == nil {
			t.Errorf("ParseRelations(%q): no error, want one containing %q", tc.in, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRelations(%q) = %v, want it to contain %q", tc.in, err, tc.want)
		}
		// Errors must name the field so the offending stanza can be found.
		if !strings.Contains(err.Error(), fmt.Sprintf("relations %q", tc.in)) {
			t.Errorf("ParseRelations(%q) = %v, want it to quote the field", tc.in, err)
		}
	}
}

func TestAppliesTo(t *testing.T) {
	tests := []struct {
		arches []string
		arch   string
		want   bool
	}{
		{nil, "amd64", true},
		{[]string{"amd64"}, "amd64", true},
		{[]string{"amd64"}, "arm64", false},
		{[]string{"arm64", "amd64"}, "amd64", true},
		{[]string{"!amd64"}, "amd64", false},
		{[]string{"!amd64"}, "arm64", true},
		{[]string{"!i386", "!armhf"}, "arm64", true},
		{[]string{"linux-any"}, "arm64", true},
		{[]string{"linux-any"}, "hurd-i386", false},
		{[]string{"any-amd64"}, "amd64", true},
		{[]string{"any-amd64"}, "kfreebsd-amd64", true},
		{[]string{"any-amd64"}, "arm64", false},
		{[]string{"!linux-any"}, "amd64", false},
		{[]string{"any"}, "riscv64", true},
	}
	for _, tc := range tests {
		r := Relation{Name: "x", Arches: tc.arches}
		if got := r.AppliesTo(tc.arch); got != tc.want {
			t.Errorf("%v.AppliesTo(%s) = %v, want %v", tc.arches, tc.arch, got, tc.want)
		}
	}
}

func TestSatisfiedBy(t *testing.T) {
	tests := []struct {
		op, want, have string
		ok             bool
	}{
		{"", "", "", true}, // unversioned relation, unversioned Provides
		{">=", "1.0", "", false},
		{">=", "1.0", "1.0", true},
		{">=", "1.0", "0.9", false},
		{">=", "1:1.0", "2.0", false}, // epoch beats upstream
		{">=", "1:1.0", "1:1.0-1", true},
		{"<<", "2.0", "2.0~rc1", true},
		{"<<", "2.0", "2.0", false},
		{"<=", "2.0", "2.0", true},
		{"=", "1:2.0-1", "1:2.0-1", true},
		{"=", "1:2.0-1", "2.0-1", false},
		{">>", "2.0", "2.0+b1", true},
		{">>", "2.0", "2.0", false},
	}
	for _, tc := range tests {
		r := Relation{Name: "x", Op: tc.op, Version: tc.want}
		if got := r.satisfiedBy(tc.have); got != tc.ok {
			t.Errorf("%s satisfiedBy(%q) = %v, want %v", r, tc.have, got, tc.ok)
		}
	}
}

func TestRelationString(t *testing.T) {
	in := "python3:any (>= 3.11~) [amd64 arm64] | python3-minimal (<< 4)"
	groups, err := ParseRelations(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := formatGroup(groups[0]); got != in {
		t.Errorf("formatGroup = %q, want %q", got, in)
	}
}

// FuzzParseRelations checks the parser never panics and that whatever it accepts renders back
// to text it parses to the same relations.
func FuzzParseRelations(f *testing.F) {
	for _, s := range []string{
		"libc6 (>= 2.36), libssl3t64 (>= 3.0.0)",
		"debconf (>= 0.5) | debconf-2.0",
		"python3:any (>= 3.11~) [amd64] <!nocheck>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		groups, err := ParseRelations(s)
		// appendRelations (the Provides index) must agree: same error or none, same relations.
		flat, ferr := appendRelations(nil, s)
		if (err == nil) != (ferr == nil) {
			t.Fatalf("%q: ParseRelations error %v, appendRelations error %v", s, err, ferr)
		}
		if err == nil {
			var want []Relation
			for _, g := range groups {
				want = append(want, g...)
			}
			if !reflect.DeepEqual(flat, want) {
				t.Fatalf("%q: appendRelations %v, ParseRelations flattened %v", s, flat, want)
			}
		}
		if err != nil {
			return
		}
		parts := make([]string, len(groups))
		for i, g := range groups {
			if len(g) == 0 {
				t.Fatalf("ParseRelations(%q): empty OR group", s)
			}
			parts[i] = formatGroup(g)
		}
		text := strings.Join(parts, ", ")
		again, err := ParseRelations(text)
		if err != nil {
			t.Fatalf("ParseRelations(%q) ok but its rendering %q fails: %v", s, text, err)
		}
		if !reflect.DeepEqual(again, groups) {
			t.Fatalf("round trip of %q through %q:\n got %#v\nwant %#v", s, text, again, groups)
		}
	})
}
