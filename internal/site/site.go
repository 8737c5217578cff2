// Package site generates the public catalog site: a static directory of HTML pages, documents
// and feeds made from the catalog specs, their locks, the patch timeline, the vulnerability
// database and the built images with their attestations.
//
//	index.html               every image and variant: digest, size, packages, open CVEs,
//	                         last rebuild, patch latency, comparison with its general-purpose
//	                         equivalent
//	images/<slug>.html       one image: packages, documents, per-CVE timeline, CVE count over
//	                         time, how to verify and reproduce it
//	images/<slug>/…          its SBOMs (SPDX, CycloneDX), provenance and OpenVEX
//	feeds/osv/<id>.json      one OSV record per CVE fixed in a catalog image; all.json holds all
//	catalog.json             the index for machines
//	cosign.pub               the key the images are signed with
//
// Nothing is fetched when the pages are read: no scripts, fonts or stylesheets from elsewhere;
// charts are inline SVG with text alternatives. The same inputs give the same bytes: nothing
// depends on the clock, the order of a map or the machine. What is missing (no database, no
// timeline, an image not built or not signed) is said on the page, never shown as zero.
package site

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/update"
	"github.com/spartan-images/spartan/internal/vuln"
)

// Entry is one image of the catalog: a spec (or one of its variants) and where its build is.
type Entry struct {
	// Name is the image's name in the timeline: the spec's name, name:variant for a variant.
	Name string
	Spec *spec.Spec
	// Image is the built image as any command takes it (OCI layout, archive, registry
	// reference); "" when it was not built.
	Image string
	// Baseline is its general-purpose equivalent (compare --baseline-archive), optional.
	Baseline string
}

// Slug is the entry's file name on the site: python, python-dev.
func (e Entry) Slug() string { return strings.ReplaceAll(e.Name, ":", "-") }

// Options are the site's inputs. Only Entries is required: each missing input is named on
// the pages it would have filled.
type Options struct {
	Entries []Entry
	// Events is the patch timeline; TimelineFile where it was read from ("" = none given).
	Events       []timeline.Event
	TimelineFile string
	// DB is the vulnerability database (nil = none); DBFile names it on the pages.
	DB     *vuln.DB
	DBFile string
	// Key checks the images' signatures and attestations; KeyPEM is published as cosign.pub
	// for the verify commands. Without a key, attestations are not read.
	Key    *ecdsa.PublicKey
	KeyPEM []byte
	// Arch is the platform the pages describe (default amd64).
	Arch string
	// Time stamps the generated OpenVEX documents (SOURCE_DATE_EPOCH), so that two runs on
	// the same inputs agree.
	Time    time.Time
	Version string // Spartan's, for the documents' tooling fields
	// Open opens an image source; imagesource.Open by default.
	Open func(ctx context.Context, src string) (*imagesource.Source, error)
}

// Result says what was written.
type Result struct {
	Dir   string
	Pages []Page // every file, sorted by path
}

// Page is a written file and its size.
type Page struct {
	Path string // relative to the site's directory, with slashes
	Size int64
}

// Catalog lists the entries of the specs under each root (a folder per image holding
// spartan.yaml, as images/ does), every variant included; the built image of an entry is
// looked up in built as <slug> (an OCI layout directory) or <slug>.tar (an archive).
func Catalog(roots []string, built string) ([]Entry, error) {
	var out []Entry
	for _, root := range roots {
		dirs, err := os.ReadDir(root)
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", root, err)
		}
		for _, d := range dirs {
			file := filepath.Join(root, d.Name(), "spartan.yaml")
			if _, err := os.Stat(file); !d.IsDir() || errors.Is(err, fs.ErrNotExist) {
				continue
			}
			base, err := spec.Load(file)
			if err != nil {
				return nil, fmt.Errorf("catalog: %w", err)
			}
			specs := []*spec.Spec{base}
			for _, v := range base.VariantNames() {
				if v == "runtime" || v == base.VariantName {
					continue
				}
				vs, err := base.Variant(v)
				if err != nil {
					return nil, fmt.Errorf("catalog %s: %w", file, err)
				}
				specs = append(specs, vs)
			}
			for _, s := range specs {
				e := Entry{Name: update.ImageName(s), Spec: s}
				e.Image = findBuilt(built, e.Slug())
				out = append(out, e)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("catalog: two specs are named %s (%s, %s): names must be unique", out[i].Name, out[i-1].Spec.File, out[i].Spec.File)
		}
	}
	return out, nil
}

func findBuilt(dir, slug string) string {
	if dir == "" {
		return ""
	}
	for _, p := range []string{filepath.Join(dir, slug), filepath.Join(dir, slug+".tar")} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Generate writes the site into dir, replacing what is there: it is built beside it and
// renamed into place, so a failed run leaves the previous site whole.
func Generate(ctx context.Context, dir string, o Options) (*Result, error) {
	if len(o.Entries) == 0 {
		return nil, errors.New("site: no images: give the catalog folder (images/) holding the specs")
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if o.Open == nil {
		o.Open = func(ctx context.Context, src string) (*imagesource.Source, error) { return imagesource.Open(ctx, src) }
	}
	dir = filepath.Clean(dir)
	if err := replaceable(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("site %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("site %s: %w", dir, err)
	}
	w := &writer{root: tmp}

	var images []*image
	for _, e := range o.Entries {
		im, err := read(ctx, e, o)
		if err != nil {
			return nil, err
		}
		if err := im.writeDocuments(w, o); err != nil {
			return nil, err
		}
		images = append(images, im)
	}
	feed, err := osvFeed(images)
	if err != nil {
		return nil, err
	}
	if err := writeFeed(w, feed); err != nil {
		return nil, err
	}
	if len(o.KeyPEM) > 0 {
		if err := w.file("cosign.pub", o.KeyPEM); err != nil {
			return nil, err
		}
	}
	s := newSiteData(images, feed, o)
	for _, im := range images {
		if err := w.html("images/"+im.Slug+".html", imagePage, s.page(im)); err != nil {
			return nil, err
		}
	}
	if err := w.html("index.html", indexPage, s); err != nil {
		return nil, err
	}
	if err := w.json("catalog.json", s.catalogJSON()); err != nil {
		return nil, err
	}

	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("site %s: replace: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("site %s: %w", dir, err)
	}
	sort.Slice(w.pages, func(i, j int) bool { return w.pages[i].Path < w.pages[j].Path })
	return &Result{Dir: dir, Pages: w.pages}, nil
}

// replaceable refuses to replace a directory that holds something other than a site: the
// output directory is removed and written anew, and a mistyped path must not cost files.
func replaceable(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(ents) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("site %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "catalog.json")); err != nil {
		return fmt.Errorf("site %s: the directory is not empty and holds no catalog.json from an earlier site: give an empty or new directory", dir)
	}
	return nil
}

// SetBaseline sets the general-purpose equivalent of one entry from "NAME=IMAGE".
func SetBaseline(entries []Entry, spec string) error {
	name, img, ok := strings.Cut(spec, "=")
	if !ok || name == "" || img == "" {
		return fmt.Errorf("%q: want NAME=IMAGE (python=general-python.tar)", spec)
	}
	for i := range entries {
		if entries[i].Name == name {
			entries[i].Baseline = img
			return nil
		}
	}
	return fmt.Errorf("%q: no image %s in the catalog", spec, name)
}
