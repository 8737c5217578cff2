package spec

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

func (d *decoder) accounts(n *yaml.Node, field string) *accountsDoc {
	a := &accountsDoc{}
	f := func(name string) string { return sub(field, name) }
	if d.object(n, field, fields{
		"users":  func(_, v *yaml.Node) { a.users = d.users(v, f("users")) },
		"groups": func(_, v *yaml.Node) { a.groups = d.groups(v, f("groups")) },
		"run-as": func(_, v *yaml.Node) { a.runAs = d.checked(v, f("run-as"), checkRunAs) },
	}, nil) == nil {
		return nil
	}
	return a
}

func checkRunAs(s string) string {
	if m := reRunAsIDs.FindStringSubmatch(s); m != nil {
		for _, id := range m[1:] {
			if id != "" && (len(id) > 10 || atoi(id) > maxID) {
				return fmt.Sprintf("id %s is out of range (at most %d)", id, maxID)
			}
		}
		return ""
	}
	if reAccount.MatchString(s) {
		return ""
	}
	return fmt.Sprintf("invalid run-as %q: use a user name or uid[:gid]", s)
}

func (d *decoder) users(n *yaml.Node, field string) *userList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of users, got %s", describe(n))
		return nil
	}
	out := &userList{at: d.at(n, field)}
	for i, item := range n.Content {
		if u := d.user(item, index(field, i)); u != nil {
			out.items = append(out.items, *u)
		}
	}
	return out
}

func (d *decoder) user(n *yaml.Node, field string) *userDoc {
	var name, home, shell *sval
	var uid, gid *ival
	f := func(s string) string { return sub(field, s) }
	node := d.object(n, field, fields{
		"name":  func(_, v *yaml.Node) { name = d.checked(v, f("name"), checkAccount) },
		"uid":   func(_, v *yaml.Node) { uid = d.integer(v, f("uid"), 0, maxID) },
		"gid":   func(_, v *yaml.Node) { gid = d.integer(v, f("gid"), 0, maxID) },
		"home":  func(_, v *yaml.Node) { home = d.checked(v, f("home"), checkAbs) },
		"shell": func(_, v *yaml.Node) { shell = d.checked(v, f("shell"), checkAbs) },
	}, nil)
	if node == nil {
		return nil
	}
	u := &userDoc{at: d.at(node, field)}
	ok := true
	if name == nil {
		ok = d.required(node, f("name"), "required") && ok
	} else if name.v == "root" {
		d.errs.at(name.at, `"root" is always present; do not declare it`)
		ok = false
	}
	if uid == nil {
		ok = d.required(node, f("uid"), "required") && ok
	} else if uid.v == 0 {
		d.errs.at(uid.at, "uid 0 is root, which is always present")
		ok = false
	}
	if !ok {
		return nil
	}
	u.u = User{Name: name.v, UID: int(uid.v), GID: int(uid.v), Home: "/home/" + name.v, Shell: "/sbin/nologin"}
	u.name, u.uid = name.at, uid.at
	if gid != nil {
		u.u.GID = int(gid.v)
	}
	if home != nil {
		u.u.Home = home.v
	}
	if shell != nil {
		u.u.Shell = shell.v
	}
	return u
}

// required reports a missing field at the enclosing mapping unless the
// field was present but invalid (already reported).
func (d *decoder) required(n *yaml.Node, field, msg string) bool {
	if !d.present(n, field) {
		d.errorf(n, field, "%s", msg)
	}
	return false
}

// present tells whether the mapping n has the last path element of field
// as a key, or a misspelling of it, to avoid "required" on top of the
// error already reported for that key.
func (d *decoder) present(n *yaml.Node, field string) bool {
	key := field[strings.LastIndex(field, ".")+1:]
	if d.suggested[n][key] {
		return true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return true
		}
	}
	return false
}

func (d *decoder) groups(n *yaml.Node, field string) *groupList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of groups, got %s", describe(n))
		return nil
	}
	out := &groupList{at: d.at(n, field)}
	for i, item := range n.Content {
		if g := d.group(item, index(field, i)); g != nil {
			out.items = append(out.items, *g)
		}
	}
	return out
}

func (d *decoder) group(n *yaml.Node, field string) *groupDoc {
	var name *sval
	var gid *ival
	var members *slist
	f := func(s string) string { return sub(field, s) }
	node := d.object(n, field, fields{
		"name":    func(_, v *yaml.Node) { name = d.checked(v, f("name"), checkAccount) },
		"gid":     func(_, v *yaml.Node) { gid = d.integer(v, f("gid"), 0, maxID) },
		"members": func(_, v *yaml.Node) { members = d.list(v, f("members"), checkAccount, true) },
	}, nil)
	if node == nil {
		return nil
	}
	ok := true
	if name == nil {
		ok = d.required(node, f("name"), "required") && ok
	} else if name.v == "root" {
		d.errs.at(name.at, `group "root" is always present; do not declare it`)
		ok = false
	}
	if gid == nil {
		ok = d.required(node, f("gid"), "required") && ok
	} else if gid.v == 0 {
		d.errs.at(gid.at, "gid 0 is root, which is always present")
		ok = false
	}
	if !ok {
		return nil
	}
	g := &groupDoc{g: Group{Name: name.v, GID: int(gid.v)}, at: d.at(node, field), gid: gid.at}
	if members != nil {
		g.members = members.items
		g.g.Members = values(members)
	}
	return g
}
