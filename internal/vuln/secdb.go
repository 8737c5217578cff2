package vuln

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	alpineversion "github.com/spartan-images/spartan/internal/alpine/version"
)

// SourceAlpineSecDB is Alpine's security database (secdb): per branch and repository, the
// package versions that fixed each CVE.
const SourceAlpineSecDB = "alpine-secdb"

// AlpineRelease is the database's release key for an Alpine branch: "alpine-v3.22".
func AlpineRelease(branch string) string { return "alpine-" + branch }

// IsAlpineRelease tells a release key of Alpine records.
func IsAlpineRelease(release string) bool { return strings.HasPrefix(release, "alpine-") }

const maxSecDB = 64 << 20

var (
	reAlpineBranch = regexp.MustCompile(`^(v[0-9]+\.[0-9]+|edge)$`)
	reCVE          = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
)

// secdbFile is the shape of secdb's main.json / community.json (and the older .yaml files).
type secdbFile struct {
	DistroVersion string `yaml:"distroversion"`
	RepoName      string `yaml:"reponame"`
	Packages      []struct {
		Pkg struct {
			Name     string              `yaml:"name"`
			SecFixes map[string][]string `yaml:"secfixes"`
		} `yaml:"pkg"`
	} `yaml:"packages"`
}

// ParseSecDB reads one secdb file (JSON or YAML) into records: one per package, CVE and
// fixed version; a fixed version of "0" means the branch never shipped the vulnerable code.
// Entries that name no CVE (XSA-…, GHSA-… alone) are skipped. A fixed version that is not an
// apk version (the real v3.11 file has python2 "2.7.16-33") cannot be compared, so its
// entries are skipped and named in skipped; a file that is not secdb at all is an error.
func ParseSecDB(data []byte, name string) (recs []Record, skipped []string, err error) {
	var f secdbFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, nil, fmt.Errorf("secdb %s: %w", name, err)
	}
	if !reAlpineBranch.MatchString(f.DistroVersion) {
		return nil, nil, fmt.Errorf("secdb %s: distroversion %q is not an Alpine branch (v3.22, edge): not a secdb file?", name, f.DistroVersion)
	}
	release := AlpineRelease(f.DistroVersion)
	var out []Record
	for _, p := range f.Packages {
		pkg := p.Pkg.Name
		if pkg == "" {
			return nil, nil, fmt.Errorf("secdb %s: a package without a name", name)
		}
		vers := make([]string, 0, len(p.Pkg.SecFixes))
		for v := range p.Pkg.SecFixes {
			vers = append(vers, v)
		}
		sort.Strings(vers)
		for _, v := range vers {
			if v != NotAffectedVersion && !alpineversion.Valid(v) {
				skipped = append(skipped, fmt.Sprintf("secdb %s: %s: fixed version %q is not an apk version; its entries are skipped", name, pkg, v))
				continue
			}
			for _, entry := range p.Pkg.SecFixes[v] {
				for _, id := range strings.Fields(entry) {
					if !reCVE.MatchString(id) {
						continue
					}
					out = append(out, Record{CVE: id, Package: pkg, Release: release, Status: StatusResolved,
						FixedVersion: v, Source: SourceAlpineSecDB})
				}
			}
		}
	}
	return out, skipped, nil
}

// ImportSecDB imports secdb files (several branches and repositories at once), replacing the
// secdb records the database held. Where files disagree on a CVE of a package, the highest
// fixed version in apk order wins.
func ImportSecDB(dbPath string, files []string, now time.Time) (Meta, []string, error) {
	meta := Meta{Source: SourceAlpineSecDB, URL: strings.Join(files, " "), Imported: now.UTC()}
	h := sha256.New()
	var skipped []string
	best := map[[3]string]Record{}
	packages := map[[2]string]bool{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return meta, nil, fmt.Errorf("secdb: %w", err)
		}
		if len(data) > maxSecDB {
			return meta, nil, fmt.Errorf("secdb %s: more than %d bytes", file, maxSecDB)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", file, len(data))
		h.Write(data)
		recs, skip, err := ParseSecDB(data, file)
		if err != nil {
			return meta, nil, err
		}
		skipped = append(skipped, skip...)
		for _, r := range recs {
			k := [3]string{r.Release, r.Package, r.CVE}
			packages[[2]string{r.Release, r.Package}] = true
			if old, ok := best[k]; !ok || alpineversion.CompareStrings(r.FixedVersion, old.FixedVersion) > 0 {
				best[k] = r
			}
		}
	}
	keys := make([][3]string, 0, len(best))
	for k := range best {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0]+"\x00"+keys[i][1]+"\x00"+keys[i][2] < keys[j][0]+"\x00"+keys[j][1]+"\x00"+keys[j][2]
	})
	meta, err := replaceSource(dbPath, meta, false, func(put func(Record) error) error {
		for _, k := range keys {
			if err := put(best[k]); err != nil {
				return err
			}
		}
		return nil
	}, func(m *Meta) { m.SHA256 = hex.EncodeToString(h.Sum(nil)); m.Packages = len(packages) })
	return meta, skipped, err
}
