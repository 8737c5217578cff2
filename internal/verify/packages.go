package verify

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/debian/control"
)

// statusDir is where distroless-style images record each installed package, the place
// scanners read.
const statusDir = "var/lib/dpkg/status.d/"

// InstalledPackages returns "name version" → true for every status.d record in the image's
// layers (later layers override earlier ones, whiteouts delete).
func InstalledPackages(img v1.Image) (map[string]bool, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image layers: %w", err)
	}
	records := map[string]string{} // file name → "name version"
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		err = func() error {
			defer rc.Close()
			tr := tar.NewReader(rc)
			for {
				h, err := tr.Next()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				name := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")
				dir, file := path.Split(name)
				if dir != statusDir || file == "" || strings.HasSuffix(file, ".md5sums") {
					continue
				}
				if gone, ok := strings.CutPrefix(file, ".wh."); ok {
					delete(records, gone)
					continue
				}
				if h.Typeflag != tar.TypeReg {
					continue
				}
				paras, err := control.ParseAll(io.LimitReader(tr, 1<<20))
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				if len(paras) != 1 || paras[0].Get("Package") == "" {
					return fmt.Errorf("%s: want one package record, found %d", name, len(paras))
				}
				records[file] = paras[0].Get("Package") + " " + paras[0].Get("Version")
			}
		}()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	out := map[string]bool{}
	for _, r := range records {
		out[r] = true
	}
	return out, nil
}

// SBOMPackages returns "name version" → true for every Debian package (purl type deb) an SPDX
// or CycloneDX JSON document lists. Package URLs are what scanners match on, so they are the
// identity compared here.
func SBOMPackages(predicateType string, doc json.RawMessage) (map[string]bool, error) {
	var purls []string
	switch predicateType {
	case PredicateSPDX:
		var d struct {
			Packages []struct {
				ExternalRefs []struct {
					ReferenceType    string `json:"referenceType"`
					ReferenceLocator string `json:"referenceLocator"`
				} `json:"externalRefs"`
			} `json:"packages"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, fmt.Errorf("SPDX JSON: %w", err)
		}
		for _, p := range d.Packages {
			for _, r := range p.ExternalRefs {
				if r.ReferenceType == "purl" {
					purls = append(purls, r.ReferenceLocator)
				}
			}
		}
	case PredicateCycloneDX:
		var d struct {
			Components []cdxComponent `json:"components"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, fmt.Errorf("CycloneDX JSON: %w", err)
		}
		var walk func([]cdxComponent)
		walk = func(cs []cdxComponent) {
			for _, c := range cs {
				purls = append(purls, c.PURL)
				walk(c.Components)
			}
		}
		walk(d.Components)
	default:
		return nil, fmt.Errorf("predicate type %s is not an SBOM", predicateType)
	}
	out := map[string]bool{}
	for _, p := range purls {
		name, version, ok := debPURL(p)
		if ok {
			out[name+" "+version] = true
		}
	}
	return out, nil
}

type cdxComponent struct {
	PURL       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

// debPURL extracts name and version from "pkg:deb/<namespace>/<name>@<version>?…".
func debPURL(p string) (name, version string, ok bool) {
	rest, ok := strings.CutPrefix(p, "pkg:deb/")
	if !ok {
		return "", "", false
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, _, _ = strings.Cut(rest, "?")
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return "", "", false
	}
	nameEsc := rest[strings.LastIndex(rest[:at], "/")+1 : at]
	n, err1 := url.PathUnescape(nameEsc)
	v, err2 := url.PathUnescape(rest[at+1:])
	if err1 != nil || err2 != nil || n == "" || v == "" {
		return "", "", false
	}
	return n, v, true
}

func samePackages(installed, listed map[string]bool) error {
	var missing, extra []string
	for p := range installed {
		if !listed[p] {
			missing = append(missing, p)
		}
	}
	for p := range listed {
		if !installed[p] {
			extra = append(extra, p)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	slices.Sort(missing)
	slices.Sort(extra)
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("in the image but not the SBOM: %s", strings.Join(missing, ", ")))
	}
	if len(extra) > 0 {
		parts = append(parts, fmt.Sprintf("in the SBOM but not the image: %s", strings.Join(extra, ", ")))
	}
	return fmt.Errorf("%s", strings.Join(parts, "; "))
}
