package spec

import (
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/spartan-images/spartan/internal/probe"
)

type fileList struct {
	items []fileDoc
	at    where
}

type fileDoc struct {
	src, dest, owner, mode, dirmode *sval
	at                              where
}

// files decodes the application files: each item a directory or tar (src) copied to dest.
func (d *decoder) files(n *yaml.Node, field string) *fileList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of {src, dest} items, got %s", describe(n))
		return nil
	}
	out := &fileList{at: d.at(n, field)}
	for i, item := range n.Content {
		f := index(field, i)
		it := fileDoc{}
		checkMode := func(s string) string { _, m := parseMode(s); return m }
		node := d.object(item, f, fields{
			"src":     func(_, v *yaml.Node) { it.src = d.checked(v, sub(f, "src"), checkSrc) },
			"dest":    func(_, v *yaml.Node) { it.dest = d.checked(v, sub(f, "dest"), checkFilePath) },
			"owner":   func(_, v *yaml.Node) { it.owner = d.checked(v, sub(f, "owner"), checkNonEmpty) },
			"mode":    func(_, v *yaml.Node) { it.mode = d.checked(v, sub(f, "mode"), checkMode) },
			"dirmode": func(_, v *yaml.Node) { it.dirmode = d.checked(v, sub(f, "dirmode"), checkMode) },
		}, nil)
		if node == nil {
			continue
		}
		it.at = d.at(node, f)
		ok := true
		if it.src == nil {
			ok = d.required(node, sub(f, "src"), "required (a directory or a .tar file, relative to the spec)") && ok
		}
		if it.dest == nil {
			ok = d.required(node, sub(f, "dest"), "required (the absolute directory in the image, e.g. /app)") && ok
		}
		if ok {
			out.items = append(out.items, it)
		}
	}
	return out
}

func checkSrc(s string) string {
	if s == "" {
		return "must not be empty"
	}
	return checkNoNUL(s)
}

// fileSets checks the sources exist (when the resolver checks files) and resolves owners
// against the accounts: "uid[:gid]" or a declared user's name.
func (r *resolver) fileSets(l *fileList, acc Accounts) []FileSet {
	out := []FileSet{}
	if l == nil {
		return out
	}
	dests := map[string]where{}
	for _, it := range l.items {
		fs := FileSet{Src: r.abs(it.src.v), Dest: it.dest.v}
		if w, dup := dests[fs.Dest]; dup {
			r.errs.at(it.dest.at, "%s already receives files (line %d); merge the sources into one directory or tar", fs.Dest, w.line)
			continue
		}
		dests[fs.Dest] = it.dest.at
		if it.owner != nil {
			uid, gid, msg := ownerOf(it.owner.v, acc)
			if msg != "" {
				r.errs.at(it.owner.at, "%s", msg)
				continue
			}
			fs.UID, fs.GID = uid, gid
		}
		if it.mode != nil {
			fs.Mode, _ = parseMode(it.mode.v)
		}
		if it.dirmode != nil {
			fs.DirMode, _ = parseMode(it.dirmode.v)
		}
		if r.checkFiles {
			if msg := checkFileSource(fs.Src); msg != "" {
				r.errs.at(it.src.at, "%s", msg)
				continue
			}
		}
		out = append(out, fs)
	}
	return out
}

func ownerOf(s string, acc Accounts) (int, int, string) {
	if m := reRunAsIDs.FindStringSubmatch(s); m != nil {
		if len(m[1]) > 10 || len(m[2]) > 10 || atoi(m[1]) > maxID || atoi(m[2]) > maxID {
			return 0, 0, fmt.Sprintf("owner %q: ids must be at most %d", s, maxID)
		}
		uid := int(atoi(m[1]))
		gid := uid
		if m[2] != "" {
			gid = int(atoi(m[2]))
		}
		return uid, gid, ""
	}
	if s == "root" {
		return 0, 0, ""
	}
	var names []string
	for _, u := range acc.Users {
		if u.Name == s {
			return u.UID, u.GID, ""
		}
		names = append(names, u.Name)
	}
	return 0, 0, fmt.Sprintf("owner %q: not a declared user (%s, root) nor uid[:gid]", s, strings.Join(names, ", "))
}

type healthDoc struct {
	probe                          *sval
	test                           *slist
	interval, timeout, startPeriod *sval
	retries                        *ival
	at                             where
}

func (d *decoder) healthcheck(n *yaml.Node, field string) *healthDoc {
	h := &healthDoc{}
	f := func(s string) string { return sub(field, s) }
	node := d.object(n, field, fields{
		"probe": func(_, v *yaml.Node) {
			h.probe = d.checked(v, f("probe"), func(s string) string {
				if _, err := probe.Parse(s); err != nil {
					return err.Error()
				}
				return ""
			})
		},
		"test":         func(_, v *yaml.Node) { h.test = d.nonEmpty(d.list(v, f("test"), checkNoNUL, false), "argument") },
		"interval":     func(_, v *yaml.Node) { h.interval = d.checked(v, f("interval"), checkDuration) },
		"timeout":      func(_, v *yaml.Node) { h.timeout = d.checked(v, f("timeout"), checkDuration) },
		"start-period": func(_, v *yaml.Node) { h.startPeriod = d.checked(v, f("start-period"), checkDuration) },
		"retries":      func(_, v *yaml.Node) { h.retries = d.integer(v, f("retries"), 1, 100) },
	}, nil)
	if node == nil {
		return nil
	}
	h.at = d.at(node, field)
	switch {
	case h.probe != nil && h.test != nil:
		d.errorf(node, field, "set probe or test, not both")
		return nil
	case h.probe == nil && h.test == nil && !d.present(node, "probe") && !d.present(node, "test"):
		d.errorf(node, field, "set probe (http://127.0.0.1:8080/health, tcp://127.0.0.1:5432) or test (a command in exec form)")
		return nil
	case h.probe == nil && h.test == nil:
		return nil
	}
	return h
}

// health turns the healthcheck into the config's form: a probe becomes CMD spartan-probe URL.
func (r *resolver) health(h *healthDoc) *Healthcheck {
	if h == nil {
		return nil
	}
	out := &Healthcheck{Retries: 3, Interval: 30 * time.Second, Timeout: 5 * time.Second}
	if h.probe != nil {
		out.Probe = h.probe.v
		out.Test = []string{"CMD", ProbePath, "-timeout", "", h.probe.v}
	} else {
		out.Test = append([]string{"CMD"}, values(h.test)...)
	}
	for _, d := range []struct {
		v   *sval
		dst *time.Duration
	}{{h.interval, &out.Interval}, {h.timeout, &out.Timeout}, {h.startPeriod, &out.StartPeriod}} {
		if d.v != nil {
			*d.dst, _ = time.ParseDuration(d.v.v)
		}
	}
	if h.retries != nil {
		out.Retries = int(h.retries.v)
	}
	if out.Probe != "" {
		// The probe gives up a little before the engine kills it, so its reason is logged.
		out.Test[3] = (out.Timeout * 9 / 10).String()
	}
	return out
}

func checkDuration(s string) string {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Sprintf("invalid duration %q: write e.g. 30s, 5s, 1m30s", s)
	}
	if v < time.Millisecond || v > 24*time.Hour {
		return fmt.Sprintf("duration %q must be between 1ms and 24h", s)
	}
	return ""
}

// checkFileSource requires a directory or a tar file; what is inside is checked when the
// layer is written.
func checkFileSource(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Sprintf("files source %s: %v (src is relative to the spec's folder)", p, unwrapPath(err))
	}
	switch {
	case fi.IsDir():
		return ""
	case fi.Mode().IsRegular() && strings.HasSuffix(p, ".tar"):
		return ""
	}
	return fmt.Sprintf("files source %s is neither a directory nor a .tar file", p)
}
