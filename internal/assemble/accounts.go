package assemble

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

const (
	noHome   = "/nonexistent"
	noLogin  = "/sbin/nologin"
	maxID    = 1<<32 - 2 // (uid_t)-1 means "no change" to the kernel
	nonrootN = 65532
)

// The distroless convention: root, nobody and an unprivileged nonroot account to run as.
var defaultUsers = []User{
	{Name: "root", UID: 0, GID: 0, Home: "/root", Shell: noLogin},
	{Name: "nobody", UID: 65534, GID: 65534, Home: noHome, Shell: noLogin},
	{Name: "nonroot", UID: nonrootN, GID: nonrootN, Home: "/home/nonroot", Shell: noLogin},
}

var defaultGroups = []Group{
	{Name: "root", GID: 0},
	{Name: "tty", GID: 5},
	{Name: "staff", GID: 50},
	{Name: "nonroot", GID: nonrootN},
	{Name: "nogroup", GID: 65534},
}

// Debian's adduser rule, relaxed to allow capitals and dots as useradd does.
var accountName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$`)

// accounts merges the spec's users and groups over the defaults and renders /etc/passwd and
// /etc/group, sorted by ID so the files do not depend on the spec's order.
func accounts(extraUsers []User, extraGroups []Group) (users []User, passwd, group []byte, err error) {
	users, err = mergeUsers(extraUsers)
	if err != nil {
		return nil, nil, nil, err
	}
	groups, err := mergeGroups(extraGroups)
	if err != nil {
		return nil, nil, nil, err
	}
	var pw, gr strings.Builder
	for _, u := range users {
		fmt.Fprintf(&pw, "%s:x:%d:%d:%s:%s:%s\n", u.Name, u.UID, u.GID, u.Name, u.Home, u.Shell)
	}
	for _, g := range groups {
		fmt.Fprintf(&gr, "%s:x:%d:%s\n", g.Name, g.GID, strings.Join(g.Members, ","))
	}
	return users, []byte(pw.String()), []byte(gr.String()), nil
}

func mergeUsers(extra []User) ([]User, error) {
	byName := map[string]bool{}
	byID := map[int]string{}
	var out []User
	for _, u := range extra {
		if u.Home == "" {
			u.Home = noHome
		}
		if u.Shell == "" {
			u.Shell = noLogin
		}
		if !accountName.MatchString(u.Name) {
			return nil, fmt.Errorf("user %q: invalid name (letters, digits, _ . -; at most 32)", u.Name)
		}
		if err := checkIDs(u.UID, u.GID); err != nil {
			return nil, fmt.Errorf("user %s: %w", u.Name, err)
		}
		for _, f := range []string{u.Home, u.Shell} {
			if !strings.HasPrefix(f, "/") || strings.ContainsAny(f, ":\n") {
				return nil, fmt.Errorf("user %s: %q must be an absolute path without ':'", u.Name, f)
			}
		}
		if byName[u.Name] {
			return nil, fmt.Errorf("user %s is listed twice", u.Name)
		}
		if other, dup := byID[u.UID]; dup {
			return nil, fmt.Errorf("users %s and %s share uid %d", other, u.Name, u.UID)
		}
		byName[u.Name], byID[u.UID] = true, u.Name
		out = append(out, u)
	}
	for _, d := range defaultUsers {
		if _, taken := byID[d.UID]; !taken && !byName[d.Name] {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out, nil
}

func mergeGroups(extra []Group) ([]Group, error) {
	byName := map[string]bool{}
	byID := map[int]string{}
	var out []Group
	for _, g := range extra {
		if !accountName.MatchString(g.Name) {
			return nil, fmt.Errorf("group %q: invalid name (letters, digits, _ . -; at most 32)", g.Name)
		}
		if err := checkIDs(g.GID, g.GID); err != nil {
			return nil, fmt.Errorf("group %s: %w", g.Name, err)
		}
		for _, m := range g.Members {
			if !accountName.MatchString(m) {
				return nil, fmt.Errorf("group %s: invalid member name %q", g.Name, m)
			}
		}
		if byName[g.Name] {
			return nil, fmt.Errorf("group %s is listed twice", g.Name)
		}
		if other, dup := byID[g.GID]; dup {
			return nil, fmt.Errorf("groups %s and %s share gid %d", other, g.Name, g.GID)
		}
		byName[g.Name], byID[g.GID] = true, g.Name
		out = append(out, g)
	}
	for _, d := range defaultGroups {
		if _, taken := byID[d.GID]; !taken && !byName[d.Name] {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GID < out[j].GID })
	return out, nil
}

func checkIDs(ids ...int) error {
	for _, id := range ids {
		if id < 0 || int64(id) > maxID {
			return fmt.Errorf("id %d out of range 0..%d", id, int64(maxID))
		}
	}
	return nil
}

// Accounts renders /etc/passwd and /etc/group for the default accounts (root, nobody,
// nonroot 65532) merged with extra ones, for assemblers of other distributions' images.
func Accounts(extraUsers []User, extraGroups []Group) (passwd, group []byte, err error) {
	_, passwd, group, err = accounts(extraUsers, extraGroups)
	return passwd, group, err
}
