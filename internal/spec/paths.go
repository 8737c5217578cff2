package spec

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

func (d *decoder) paths(n *yaml.Node, field string) *pathList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of paths, got %s", describe(n))
		return nil
	}
	out := &pathList{at: d.at(n, field)}
	for i, item := range n.Content {
		if p := d.path(item, index(field, i)); p != nil {
			out.items = append(out.items, *p)
		}
	}
	return out
}

func (d *decoder) path(n *yaml.Node, field string) *pathDoc {
	var p, typ, mode, content, target *sval
	var uid, gid *ival
	f := func(s string) string { return sub(field, s) }
	node := d.object(n, field, fields{
		"path": func(_, v *yaml.Node) { p = d.checked(v, f("path"), checkFilePath) },
		"type": func(_, v *yaml.Node) { typ = d.checked(v, f("type"), checkPathType) },
		"mode": func(_, v *yaml.Node) {
			mode = d.checked(v, f("mode"), func(s string) string { _, m := parseMode(s); return m })
		},
		"uid":     func(_, v *yaml.Node) { uid = d.integer(v, f("uid"), 0, maxID) },
		"gid":     func(_, v *yaml.Node) { gid = d.integer(v, f("gid"), 0, maxID) },
		"content": func(_, v *yaml.Node) { content = d.checked(v, f("content"), nil) },
		"target":  func(_, v *yaml.Node) { target = d.checked(v, f("target"), checkTarget) },
	}, nil)
	if node == nil {
		return nil
	}
	ok := true
	if p == nil {
		ok = d.required(node, f("path"), "required") && ok
	}
	if typ == nil {
		ok = d.required(node, f("type"), "required (directory, file or symlink)") && ok
	}
	if !ok {
		return nil
	}
	out := &pathDoc{p: Path{Path: p.v, Type: PathType(typ.v)}, at: d.at(node, field)}
	forbid := func(v *sval) {
		if v != nil {
			d.errs.at(v.at, "not allowed for a %s", typ.v)
			ok = false
		}
	}
	switch out.p.Type {
	case Directory:
		out.p.Mode = 0o755
		forbid(content)
		forbid(target)
	case File:
		out.p.Mode = 0o644
		forbid(target)
		if content != nil {
			out.p.Content = content.v
		}
	case Symlink:
		forbid(mode)
		forbid(content)
		if target == nil {
			ok = d.required(node, f("target"), "required for a symlink") && ok
		} else {
			out.p.Target = target.v
		}
	}
	if !ok {
		return nil
	}
	if mode != nil {
		out.p.Mode, _ = parseMode(mode.v)
	}
	if uid != nil {
		out.p.UID = int(uid.v)
	}
	if gid != nil {
		out.p.GID = int(gid.v)
	}
	return out
}

func checkPathType(s string) string {
	switch PathType(s) {
	case Directory, File, Symlink:
		return ""
	}
	return fmt.Sprintf("unknown type %q; use directory, file or symlink", s)
}

func checkTarget(s string) string {
	if s == "" {
		return "symlink target must not be empty"
	}
	return checkNoNUL(s)
}
