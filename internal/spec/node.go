package spec

import (
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the work done on one document. Aliases let a tiny file
// expand exponentially (or loop: yaml.v3 accepts `a: &x [*x]`), and a
// spec is never anywhere near this size.
const maxNodes = 100_000

// decoder walks a yaml.Node tree by hand instead of using yaml's struct
// decoding: that is the only way to reject unknown fields, report wrong
// types and check values with the line and column of every offending node,
// and to know which fields a variant actually sets.
type decoder struct {
	errs *errList
	// file is set when decoding a base spec: its values keep their own file for messages
	// after they are merged into the spec that extends it.
	file      string
	nodes     int
	exhausted bool
	// suggested remembers, per mapping, the fields proposed for unknown
	// keys, so a misspelt required field is reported once, not also as
	// missing.
	suggested map[*yaml.Node]map[string]bool
}

type sval struct {
	v  string
	at where
}

type slist struct {
	items []sval
	at    where
}

type ival struct {
	v  int64
	at where
}

type bval struct {
	v  bool
	at where
}

// smap is a string→string mapping that remembers where each key was.
type smap struct {
	keys []sval
	vals map[string]string
	at   where
}

type fields map[string]func(key, val *yaml.Node)

func sub(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

func index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

func (d *decoder) at(n *yaml.Node, field string) where {
	return where{line: n.Line, col: n.Column, field: field, file: d.file}
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	d.errs.at(d.at(n, field), format, args...)
}

// deref follows aliases and charges the node budget; nil means the
// node must be skipped (an error has been recorded).
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 32 {
			d.errorf(n, "", "alias *%s cannot be resolved", n.Value)
			return nil
		}
		n = n.Alias
	}
	if n == nil || d.exhausted {
		return nil
	}
	d.nodes++
	if d.nodes > maxNodes {
		d.exhausted = true
		d.errorf(n, "", "spec too large: more than %d YAML nodes after expanding aliases", maxNodes)
		return nil
	}
	return n
}

// describe names a node's kind and value for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int":
			return "integer " + v
		case "!!float":
			return "number " + v
		case "!!bool":
			return "boolean " + v
		case "!!str":
			return fmt.Sprintf("string %q", v)
		default:
			return fmt.Sprintf("%s %q", n.ShortTag(), v)
		}
	}
	return "an unsupported YAML node"
}

// mapping checks that n is a mapping with unique string keys and hands
// back its (key, value) pairs; n must already be dereferenced.
func (d *decoder) mapping(n *yaml.Node, field, what string) ([][2]*yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, field, "expected %s, got %s", what, describe(n))
		return nil, false
	}
	var out [][2]*yaml.Node
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.deref(n.Content[i])
		if k == nil {
			continue
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			d.errorf(k, field, "merge keys (<<) are not supported; write the fields out or use a variant")
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			d.errorf(k, field, "mapping keys must be strings, got %s", describe(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.errorf(k, field, "duplicate key %q (first at line %d)", k.Value, line)
			continue
		}
		first[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out, true
}

// object decodes a mapping with a fixed set of fields; unknown keys get a
// "did you mean" hint. It returns the mapping node (nil if unusable).
func (d *decoder) object(n *yaml.Node, field string, fs fields, elsewhere map[string]string) *yaml.Node {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	what := "a mapping"
	if field != "" {
		what = "a mapping of " + field + " fields"
	}
	pairs, ok := d.mapping(n, field, what)
	if !ok {
		return nil
	}
	known := make([]string, 0, len(fs))
	for k := range fs {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, p := range pairs {
		fn, ok := fs[p[0].Value]
		if !ok {
			if s := d.unknown(p[0], field, known, elsewhere); s != "" {
				if d.suggested == nil {
					d.suggested = map[*yaml.Node]map[string]bool{}
				}
				if d.suggested[n] == nil {
					d.suggested[n] = map[string]bool{}
				}
				d.suggested[n][s] = true
			}
			continue
		}
		fn(p[0], p[1])
	}
	return n
}

func (d *decoder) unknown(k *yaml.Node, field string, known []string, elsewhere map[string]string) (suggestion string) {
	in := ""
	if field != "" {
		in = " in " + field
	}
	hint := ""
	if suggestion = suggest(k.Value, known); suggestion != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", suggestion)
	} else if s := elsewhere[norm(k.Value)]; s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.errs.at(d.at(k, ""), "unknown field %q%s%s", k.Value, in, hint)
	return suggestion
}

// str accepts any plain scalar as a string: numbers and booleans keep the
// text the user wrote (env: {PORT: 8080} means "8080"). Null is rejected
// because an empty `key:` is almost always a mistake.
func (d *decoder) str(n *yaml.Node, field string) *sval {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, field, "expected a string, got %s", describe(n))
		return nil
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return &sval{v: n.Value, at: d.at(n, field)}
	case "!!null":
		d.errorf(n, field, "expected a string, got null")
	default:
		d.errorf(n, field, "unsupported YAML tag %s", n.ShortTag())
	}
	return nil
}

// checked decodes a string and validates it; check returns "" when the
// value is fine, else the message.
func (d *decoder) checked(n *yaml.Node, field string, check func(string) string) *sval {
	s := d.str(n, field)
	if s == nil || check == nil {
		return s
	}
	if msg := check(s.v); msg != "" {
		d.errs.at(s.at, "%s", msg)
		return nil
	}
	return s
}

// list decodes a sequence of strings, checking each item and, when unique
// is set, rejecting repeats (a repeat there is always a typo).
func (d *decoder) list(n *yaml.Node, field string, check func(string) string, unique bool) *slist {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			hint = fmt.Sprintf(" (write [%s])", n.Value)
		}
		d.errorf(n, field, "expected a list, got %s%s", describe(n), hint)
		return nil
	}
	out := &slist{at: d.at(n, field)}
	first := map[string]int{}
	ok := true
	for i, item := range n.Content {
		s := d.checked(item, index(field, i), check)
		if s == nil {
			ok = false
			continue
		}
		if line, dup := first[s.v]; dup && unique {
			d.errs.at(s.at, "%q is listed twice (first at line %d)", s.v, line)
			ok = false
			continue
		}
		first[s.v] = s.at.line
		out.items = append(out.items, *s)
	}
	if !ok {
		return nil
	}
	return out
}

func (d *decoder) integer(n *yaml.Node, field string, lo, hi int64) *ival {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.errorf(n, field, "expected an integer, got %s", describe(n))
		return nil
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		d.errorf(n, field, "invalid integer %q", n.Value)
		return nil
	}
	if v < lo || v > hi {
		d.errorf(n, field, "must be between %d and %d, got %d", lo, hi, v)
		return nil
	}
	return &ival{v: v, at: d.at(n, field)}
}

func (d *decoder) boolean(n *yaml.Node, field string) *bval {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		d.errorf(n, field, "expected true or false, got %s", describe(n))
		return nil
	}
	return &bval{v: v, at: d.at(n, field)}
}

// strMap decodes a string→string mapping (env, labels, annotations).
func (d *decoder) strMap(n *yaml.Node, field string, checkKey func(string) string) *smap {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	pairs, ok := d.mapping(n, field, "a mapping of names to strings")
	if !ok {
		return nil
	}
	out := &smap{vals: map[string]string{}, at: d.at(n, field)}
	for _, p := range pairs {
		kf := sub(field, p[0].Value)
		k := d.checked(p[0], kf, checkKey)
		v := d.str(p[1], kf)
		if k == nil || v == nil {
			ok = false
			continue
		}
		out.keys = append(out.keys, *k)
		out.vals[k.v] = v.v
	}
	if !ok {
		return nil
	}
	return out
}
