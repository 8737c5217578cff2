package vuln

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// osvRecord is the part of an OSV record (https://ossf.github.io/osv-schema/) Debian's
// records use.
type osvRecord struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases"`
	Related   []string `json:"related"`
	Upstream  []string `json:"upstream"`
	Summary   string   `json:"summary"`
	Published string   `json:"published"`
	Details   string   `json:"details"`
	Affected  []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Ranges []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
		EcosystemSpecific map[string]any `json:"ecosystem_specific"`
		DatabaseSpecific  map[string]any `json:"database_specific"`
	} `json:"affected"`
}

// osvRecords maps one OSV record to database records: one per CVE it names, per Debian release
// it affects. Non-Debian entries are skipped; a Debian entry without a release number cannot be
// placed and is skipped too.
func osvRecords(data []byte, name string) ([]Record, error) {
	var o osvRecord
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("OSV record %s: %w", name, err)
	}
	if o.ID == "" {
		return nil, fmt.Errorf("OSV record %s: no id", name)
	}
	cves := osvCVEs(o)
	desc := strings.TrimSpace(o.Summary)
	if desc == "" {
		desc = strings.TrimSpace(o.Details)
	}
	var out []Record
	for _, a := range o.Affected {
		eco, rel, ok := strings.Cut(a.Package.Ecosystem, ":")
		if eco != "Debian" || !ok || a.Package.Name == "" {
			continue
		}
		codename, err := Codename(rel)
		if err != nil {
			return nil, fmt.Errorf("OSV record %s: %w", o.ID, err)
		}
		status, fixed := StatusOpen, ""
		for _, r := range a.Ranges {
			if r.Type != "ECOSYSTEM" {
				continue
			}
			for _, ev := range r.Events {
				if f, ok := ev["fixed"]; ok {
					status, fixed = StatusResolved, f
				}
			}
		}
		urgency := stringField(a.EcosystemSpecific, "urgency")
		if urgency == "" {
			urgency = stringField(a.DatabaseSpecific, "urgency")
		}
		for _, cve := range cves {
			rec := Record{CVE: cve, Package: a.Package.Name, Release: codename, Status: status, FixedVersion: fixed,
				Urgency: urgency, Description: desc, Source: SourceOSV, Published: o.Published}
			if cve != o.ID {
				rec.Advisory = o.ID
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// osvCVEs are the CVE ids a record is about: DSA/DLA records name them in aliases (newer) or
// related (older); DEBIAN-CVE-… records are about the CVE in their id. A record without any
// is kept under its own id, so that the advisory still shows up.
func osvCVEs(o osvRecord) []string {
	if strings.HasPrefix(o.ID, "CVE-") {
		return []string{o.ID}
	}
	if c, ok := strings.CutPrefix(o.ID, "DEBIAN-"); ok && strings.HasPrefix(c, "CVE-") {
		return []string{c}
	}
	set := map[string]bool{}
	for _, l := range [][]string{o.Aliases, o.Upstream, o.Related} {
		for _, id := range l {
			if strings.HasPrefix(id, "CVE-") {
				set[id] = true
			}
		}
	}
	if len(set) == 0 {
		return []string{o.ID}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func stringField(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// ImportOSV imports OSV Debian records from a directory (every *.json below it), a single
// .json record, or a .zip of records (the form osv.dev publishes per ecosystem), replacing the
// OSV records the database held.
func ImportOSV(dbPath, src string, now time.Time) (Meta, error) {
	meta := Meta{Source: SourceOSV, URL: src, Imported: now.UTC()}
	h := sha256.New()
	files := 0
	each := func(put func(Record) error) error {
		return walkOSV(src, h, func(name string, data []byte) error {
			recs, err := osvRecords(data, name)
			if err != nil {
				return err
			}
			files++
			for _, r := range recs {
				if err := put(r); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return replaceSource(dbPath, meta, true, each, func(m *Meta) {
		m.SHA256 = hex.EncodeToString(h.Sum(nil))
		m.Packages = files
	})
}

// walkOSV hands every record under src to fn in name order; h sees each name and content, so
// the digest identifies the set.
func walkOSV(src string, h hash.Hash, fn func(name string, data []byte) error) error {
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("OSV records: %w", err)
	}
	visit := func(name string, data []byte) error {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
		return fn(name, data)
	}
	switch {
	case st.IsDir():
		var names []string
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
				names = append(names, p)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("OSV records in %s: %w", src, err)
		}
		if len(names) == 0 {
			return fmt.Errorf("OSV records: no .json files in %s", src)
		}
		slices.Sort(names)
		for _, p := range names {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if err := visit(rel, data); err != nil {
				return err
			}
		}
		return nil
	case strings.HasSuffix(src, ".zip"):
		zr, err := zip.OpenReader(src)
		if err != nil {
			return fmt.Errorf("OSV records %s: %w", src, err)
		}
		defer zr.Close()
		files := slices.Clone(zr.File)
		slices.SortFunc(files, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
		n := 0
		for _, f := range files {
			if !strings.HasSuffix(f.Name, ".json") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("OSV records %s: %s: %w", src, f.Name, err)
			}
			// One record is a few kB; the cap keeps a hostile archive from exhausting memory.
			data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
			rc.Close()
			if err != nil {
				return fmt.Errorf("OSV records %s: %s: %w", src, f.Name, err)
			}
			if err := visit(f.Name, data); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return fmt.Errorf("OSV records: no .json files in %s", src)
		}
		return nil
	default:
		data, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("OSV records: %w", err)
		}
		return visit(filepath.Base(src), data)
	}
}
