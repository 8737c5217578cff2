package editdist

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"", "", 2, 0},
		{"abc", "abc", 2, 0},
		{"abc", "", -1, 3},
		{"curl", "crul", 2, 2},
		{"libfoo", "libfoo1", 2, 1},
		{"kitten", "sitting", 5, 3},
		{"kitten", "sitting", -1, 3},
		{"kitten", "sitting", 1, 2}, // gives up past the limit
		{"jdk.jshell", "jdk.shell", -1, 1},
		{"größe", "grösse", -1, 2}, // runes, not bytes
	}
	for _, tc := range tests {
		if got := Distance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("Distance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"python", "node", "nginx", "golang", "pythons"}
	for _, tc := range []struct {
		name  string
		limit int
		want  string
	}{
		{"pyhton", 2, "python"},
		{"python", 2, "python"},
		{"ngnix", 2, "nginx"},
		{"nod", 2, "node"},
		{"ruby", 2, ""},
		{"pythn", 0, ""},
		{"pythonz", 1, "python"}, // python and pythons are both 1 away: the smaller name
	} {
		if got := Closest(tc.name, known, tc.limit); got != tc.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tc.name, tc.limit, got, tc.want)
		}
	}
}
