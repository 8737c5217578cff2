package resolve

import (
	"fmt"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/version"
)

// Relation is one alternative of a relationship field (deb-control(5)):
// name[:archqual] [(op version)] [[arch list]] [<profile formula>...].
type Relation struct {
	Name string
	// Arch is the architecture qualifier: "" (none), "any", "native" or an architecture name.
	Arch string
	// Op is "", "<<", "<=", "=", ">=" or ">>"; the obsolete "<" and ">" are normalized to
	// "<=" and ">=", which is what dpkg has always taken them to mean.
	Op      string
	Version string
	// Arches is the architecture restriction list, e.g. ["amd64", "arm64"] or
	// ["!arm64"]; empty means the relation applies everywhere. See AppliesTo.
	Arches []string
}

// String renders the relation in control-file syntax. Build-profile formulas are not kept, so
// they are not rendered either.
func (r Relation) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if r.Arch != "" {
		b.WriteByte(':')
		b.WriteString(r.Arch)
	}
	if r.Op != "" {
		fmt.Fprintf(&b, " (%s %s)", r.Op, r.Version)
	}
	if len(r.Arches) > 0 {
		b.WriteString(" [")
		b.WriteString(strings.Join(r.Arches, " "))
		b.WriteByte(']')
	}
	return b.String()
}

// AppliesTo reports whether the architecture restriction list lets the relation apply when
// installing for arch. A positive list applies when arch matches one entry; a negated list
// applies unless arch matches one entry. Wildcards such as "linux-any" and "any-amd64" match
// by the architecture's os-cpu tuple.
func (r Relation) AppliesTo(arch string) bool {
	if len(r.Arches) == 0 {
		return true
	}
	negated := strings.HasPrefix(r.Arches[0], "!")
	for _, a := range r.Arches {
		if archMatches(strings.TrimPrefix(a, "!"), arch) {
			return !negated
		}
	}
	return negated
}

// satisfiedBy reports whether a package or provided version v fits the version constraint.
// An unversioned relation is satisfied by anything, including an unversioned Provides.
func (r Relation) satisfiedBy(v string) bool {
	if r.Op == "" {
		return true
	}
	if v == "" {
		return false
	}
	c := version.Compare(v, r.Version)
	switch r.Op {
	case "<<":
		return c < 0
	case "<=":
		return c <= 0
	case "=":
		return c == 0
	case ">=":
		return c >= 0
	case ">>":
		return c > 0
	}
	return false
}

// archMatches compares an architecture or architecture wildcard with a concrete architecture.
func archMatches(pattern, arch string) bool {
	if pattern == arch || pattern == "any" {
		return true
	}
	pos, pcpu, ok := strings.Cut(pattern, "-")
	if !ok || (pos != "any" && pcpu != "any") {
		return false
	}
	aos, acpu := archTuple(arch)
	return (pos == "any" || pos == aos) && (pcpu == "any" || pcpu == acpu)
}

// archTuple splits a Debian architecture name into os and cpu: "amd64" is linux-amd64,
// "hurd-i386" is hurd-i386.
func archTuple(arch string) (os, cpu string) {
	if o, c, ok := strings.Cut(arch, "-"); ok {
		return o, c
	}
	return "linux", arch
}

// formatGroup renders an OR group the way it would appear in a control file.
func formatGroup(g []Relation) string {
	parts := make([]string, len(g))
	for i, r := range g {
		parts[i] = r.String()
	}
	return strings.Join(parts, " | ")
}
