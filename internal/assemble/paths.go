package assemble

import (
	"path"
	"strings"
)

// aliasDirs are the top-level directories that merged-/usr turns into symlinks into /usr.
var aliasDirs = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"}

func isAlias(name string) bool {
	for _, a := range aliasDirs {
		if a == name {
			return true
		}
	}
	return false
}

// canonical maps a clean path through merged-/usr: "lib/x86_64-linux-gnu/libc.so.6" becomes
// "usr/lib/x86_64-linux-gnu/libc.so.6". A bare alias ("bin") is returned unchanged; callers
// handle it, since it is the compat symlink itself.
func canonical(p string) string {
	top, _, found := strings.Cut(p, "/")
	if found && isAlias(top) {
		return "usr/" + p
	}
	return p
}

// relocate keeps a relative symlink pointing at the same file after merged-/usr moved it from
// orig to canon ("bin/x" → "../usr/bin/y" must become "y" once it lives in usr/bin).
// Absolute targets keep working through the compat symlinks and are left alone.
func relocate(orig, canon, target string) string {
	if orig == canon || path.IsAbs(target) {
		return target
	}
	abs := strings.TrimPrefix(path.Join("/", path.Dir(orig), target), "/")
	if isAlias(abs) {
		abs = "usr/" + abs
	} else {
		abs = canonical(abs)
	}
	return relative(path.Dir(canon), abs)
}

// relative returns the lexical path from directory from to to, both root-relative.
func relative(from, to string) string {
	split := func(p string) []string {
		if p == "" || p == "." {
			return nil
		}
		return strings.Split(p, "/")
	}
	f, t := split(from), split(to)
	i := 0
	for i < len(f) && i < len(t) && f[i] == t[i] {
		i++
	}
	var out []string
	for range f[i:] {
		out = append(out, "..")
	}
	out = append(out, t[i:]...)
	if len(out) == 0 {
		return "."
	}
	return strings.Join(out, "/")
}

// parents returns the ancestors of p, outermost first ("a/b/c" → "a", "a/b").
func parents(p string) []string {
	var out []string
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return out
}
