package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/timeline"
)

// OSVSchemaVersion is the OSV schema the feed's records follow.
const OSVSchemaVersion = "1.7.0"

// OSVPrefix starts the feed's record ids: Spartan is not one of OSV's registered home
// databases, and x_ is the schema's prefix for those that are not.
const OSVPrefix = "x_SPARTAN-"

// OSV is one advisory of the feed: a CVE fixed in one or more catalog images.
type OSV struct {
	SchemaVersion    string         `json:"schema_version"`
	ID               string         `json:"id"`
	Modified         string         `json:"modified"`
	Published        string         `json:"published,omitempty"`
	Aliases          []string       `json:"aliases"`
	Summary          string         `json:"summary"`
	Details          string         `json:"details"`
	Affected         []OSVAffected  `json:"affected"`
	DatabaseSpecific map[string]any `json:"database_specific,omitempty"`
}

// OSVAffected is the Debian source package as one image carried it: the versions up to the
// fix, and which image digests held it and which one is fixed.
type OSVAffected struct {
	Package          OSVPackage      `json:"package"`
	Ranges           []OSVRange      `json:"ranges"`
	DatabaseSpecific OSVImageVersion `json:"database_specific"`
}

// OSVPackage names a package in an OSV ecosystem ("Debian:13").
type OSVPackage struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// OSVRange is an ECOSYSTEM range: introduced 0, fixed at the first fixed version.
type OSVRange struct {
	Type   string              `json:"type"`
	Events []map[string]string `json:"events"`
}

// OSVImageVersion are the image versions of the record: digests built before the fix (the
// affected ones the timeline knows) and the digest that carries it.
type OSVImageVersion struct {
	Image          string   `json:"image"`
	Tags           []string `json:"tags,omitempty"`
	AffectedImages []string `json:"affected_image_digests"`
	FixedImage     string   `json:"fixed_image_digest"`
	FixedRef       string   `json:"fixed_image_pushed_to,omitempty"`
	Rebuilt        string   `json:"rebuilt,omitempty"`
	FromVersion    string   `json:"from_version,omitempty"`
	ToVersion      string   `json:"to_version,omitempty"`
}

type feedFix struct {
	im  *image
	row timeline.Row
}

// osvFeed makes one record per CVE fixed in a catalog image, from the images' timelines.
func osvFeed(images []*image) ([]OSV, error) {
	byCVE := map[string][]feedFix{}
	for _, im := range images {
		for _, r := range im.Report.Rows {
			if r.Digest == "" {
				continue // not rebuilt: nothing fixed for users yet
			}
			byCVE[r.CVE] = append(byCVE[r.CVE], feedFix{im, r})
		}
	}
	var out []OSV
	for _, cve := range slices.Sorted(maps.Keys(byCVE)) {
		fixes := byCVE[cve]
		rec := OSV{SchemaVersion: OSVSchemaVersion, ID: OSVPrefix + cve, Aliases: []string{cve}}
		var first, last time.Time
		var names, pkgs []string
		var published *time.Time
		for _, f := range fixes {
			r := f.row
			at := *r.Rebuilt
			if r.Pushed != nil {
				at = *r.Pushed
			}
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
			if r.Published != nil && (published == nil || r.Published.Before(*published)) {
				published = r.Published
			}
			fixed := r.FixedIn
			if fixed == "" {
				fixed = r.To
			}
			a := OSVAffected{
				Package: OSVPackage{Ecosystem: f.im.ecosystem(), Name: r.Package},
				Ranges:  []OSVRange{{Type: "ECOSYSTEM", Events: []map[string]string{{"introduced": "0"}, {"fixed": fixed}}}},
				DatabaseSpecific: OSVImageVersion{Image: f.im.Name, AffectedImages: f.im.digestsBefore(*r.Rebuilt), FixedImage: r.Digest,
					FixedRef: r.Ref, Rebuilt: stamp(r.Rebuilt), FromVersion: r.From, ToVersion: r.To},
			}
			if f.im.Spec != nil {
				a.DatabaseSpecific.Tags = f.im.Spec.Tags
			}
			rec.Affected = append(rec.Affected, a)
			names = append(names, f.im.Name)
			if !contains(pkgs, r.Package) {
				pkgs = append(pkgs, r.Package)
			}
		}
		rec.Modified, rec.Published = stamp(&last), stamp(&first)
		rec.Summary = fmt.Sprintf("%s fixed in Spartan images: %s", cve, strings.Join(names, ", "))
		rec.Details = fmt.Sprintf("Spartan rebuilt %s with a version of %s that fixes %s. The affected image digests are the ones built before the fix; the fixed digest carries it.",
			strings.Join(names, ", "), strings.Join(pkgs, ", "), cve)
		if published != nil {
			rec.DatabaseSpecific = map[string]any{"cve_published": stamp(published)}
		}
		out = append(out, rec)
	}
	return out, nil
}

// digestsBefore are the image's digests rebuilt before t, oldest first, without repeats.
func (im *image) digestsBefore(t time.Time) []string {
	out := []string{}
	for _, e := range im.rebuilds {
		if e.Time.Before(t) && e.Digest != "" && !contains(out, e.Digest) {
			out = append(out, e.Digest)
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func writeFeed(w *writer, feed []OSV) error {
	for _, r := range feed {
		if err := w.json("feeds/osv/"+r.ID+".json", r); err != nil {
			return err
		}
	}
	all := feed
	if all == nil {
		all = []OSV{}
	}
	return w.json("feeds/osv/all.json", all)
}

// writer puts files under the site's directory and keeps their sizes.
type writer struct {
	root  string
	pages []Page
}

func (w *writer) file(rel string, body []byte) error {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	w.pages = append(w.pages, Page{Path: rel, Size: int64(len(body))})
	return nil
}

func (w *writer) json(rel string, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("site: %s: %w", rel, err)
	}
	return w.file(rel, b.Bytes())
}

func (w *writer) html(rel string, t *template.Template, data any) error {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return fmt.Errorf("site: %s: %w", rel, err)
	}
	return w.file(rel, b.Bytes())
}

func (im *image) writeDocuments(w *writer, o Options) error {
	for _, d := range im.Docs {
		if d.File != "" {
			if err := w.file(d.File, d.body); err != nil {
				return err
			}
		}
	}
	return nil
}
