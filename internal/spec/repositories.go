package spec

import (
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

func (d *decoder) repositories(n *yaml.Node, field string) *repoList {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list of repositories, got %s", describe(n))
		return nil
	}
	out := &repoList{at: d.at(n, field)}
	if len(n.Content) == 0 {
		d.errs.at(out.at, "must list at least one repository (omit the field for the defaults)")
		return nil
	}
	for i, item := range n.Content {
		if r := d.repository(item, index(field, i)); r != nil {
			out.items = append(out.items, *r)
		}
	}
	return out
}

func (d *decoder) repository(n *yaml.Node, field string) *repoDoc {
	var archive, u, keyring *sval
	var suites, comps *slist
	var urlKey *yaml.Node
	f := func(name string) string { return sub(field, name) }
	node := d.object(n, field, fields{
		"archive": func(_, v *yaml.Node) { archive = d.checked(v, f("archive"), checkArchive) },
		"url": func(k, v *yaml.Node) {
			urlKey = k
			if s := d.checked(v, f("url"), checkURL); s != nil {
				s.v = strings.TrimRight(s.v, "/")
				u = s
			}
		},
		"suites": func(_, v *yaml.Node) { suites = d.nonEmpty(d.list(v, f("suites"), checkSuite, true), "suite") },
		"components": func(_, v *yaml.Node) {
			comps = d.nonEmpty(d.list(v, f("components"), checkComponent, true), "component")
		},
		"keyring": func(_, v *yaml.Node) { keyring = d.checked(v, f("keyring"), checkNonEmpty) },
	}, nil)
	if node == nil {
		return nil
	}
	r := &repoDoc{at: d.at(node, field)}
	switch {
	case archive != nil && urlKey != nil:
		d.errorf(urlKey, field, "archive and url are mutually exclusive: archive picks a configured mirror, url names one")
		return nil
	case archive == nil && u == nil:
		if !d.present(node, f("archive")) && !d.present(node, f("url")) {
			d.errs.at(r.at, "set archive (main or security) or url")
		}
		return nil
	case archive != nil:
		r.r.Archive = archive.v
	default:
		r.r.URL = u.v
	}
	r.r.Suites = values(suites)
	r.r.Components = values(comps)
	if keyring != nil {
		r.r.Keyring = keyring.v
		r.keyringAt = keyring.at
	}
	return r
}

func checkArchive(s string) string {
	if s == ArchiveMain || s == ArchiveSecurity {
		return ""
	}
	return fmt.Sprintf("unknown archive %q; use main or security, or set url instead", s)
}

func checkURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("invalid URL %q: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("URL %q must start with http:// or https://", s)
	case u.Host == "":
		return fmt.Sprintf("URL %q has no host", s)
	case u.User != nil:
		return "URL must not contain credentials; a spec is meant to be published"
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("URL %q must not have a query or fragment", s)
	}
	return ""
}
