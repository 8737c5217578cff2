package resolve

import (
	"fmt"
	"strings"

	"github.com/spartan-images/spartan/internal/alpine/version"
)

// Dep is one atom of an apk dependency list: "name", "so:libz.so.1", "pc:zlib>=1.2",
// "cmd:ls", "/bin/sh", "name=1.2-r0", "name~1.2", or a conflict "!name" / "!name<2".
type Dep struct {
	Name     string
	Op       string // "", "=", "<", ">", "<=", ">=", "~"
	Version  version.Version
	Conflict bool
	Raw      string
}

// ParseDep reads one dependency atom.
func ParseDep(s string) (Dep, error) {
	d := Dep{Raw: s}
	if strings.HasPrefix(s, "!") {
		d.Conflict, s = true, s[1:]
	}
	i := strings.IndexAny(s, "<>=~")
	name := s
	if i >= 0 {
		name = s[:i]
		j := i
		for j < len(s) && strings.IndexByte("<>=~", s[j]) >= 0 {
			j++
		}
		d.Op = s[i:j]
		if d.Op == "=~" {
			d.Op = "~"
		}
		switch d.Op {
		case "=", "<", ">", "<=", ">=", "~":
		default:
			return d, fmt.Errorf("dependency %q: operator %q is not one of = < > <= >= ~", d.Raw, d.Op)
		}
		v, err := version.Parse(s[j:])
		if err != nil {
			return d, fmt.Errorf("dependency %q: %w", d.Raw, err)
		}
		d.Version = v
	}
	if strings.Contains(name, "@") {
		return d, fmt.Errorf("dependency %q: repository tags (@tag) are not supported; list the repository in the spec instead", d.Raw)
	}
	if name == "" || strings.ContainsAny(name, " \t") {
		return d, fmt.Errorf("dependency %q: no name", d.Raw)
	}
	d.Name = name
	return d, nil
}

// String is the atom as apk writes it.
func (d Dep) String() string { return d.Raw }

// matches reports whether a package or provide of version have (""=unversioned provide)
// satisfies the constraint. Unversioned provides satisfy only unconstrained dependencies.
func (d Dep) matches(have string) bool {
	if d.Op == "" {
		return true
	}
	if have == "" {
		return false
	}
	v, err := version.Parse(have)
	if err != nil {
		return false
	}
	ok, _ := version.Satisfies(v, d.Op, d.Version)
	return ok
}

// provide is one "p:" entry: name, and version when it is a versioned provide.
type provide struct{ name, version string }

func parseProvide(s string) provide {
	if n, v, ok := strings.Cut(s, "="); ok {
		return provide{n, v}
	}
	return provide{name: s}
}
