package scan

import (
	"fmt"
	"sort"
	"strings"

	alpineversion "github.com/spartan-images/spartan/internal/alpine/version"
	"github.com/spartan-images/spartan/internal/debian/version"
	"github.com/spartan-images/spartan/internal/vuln"
)

// Verdict is how one database record applies to one installed package.
type Verdict string

// Verdicts; VEX statuses follow from them one to one.
const (
	Fixed         Verdict = "fixed"        // the installed version carries the fix
	NotAffected   Verdict = "not_affected" // the release never had the vulnerable code
	Vulnerable    Verdict = "affected"     // vulnerable, whether or not a fix exists
	Investigating Verdict = "undetermined" // the tracker has not decided
)

// Finding statuses, from most to least actionable.
const (
	StatusFixAvailable = "fix available"
	StatusNoFix        = "no fix yet"
	StatusNoDSA        = "won't fix: no-dsa"
	StatusIgnored      = "won't fix: ignored"
	StatusPostponed    = "won't fix: postponed"
	StatusUnimportant  = "won't fix: unimportant"
	StatusEndOfLife    = "end-of-life"
	StatusUndetermined = "undetermined"
)

// Match is one (installed package, database record) pair.
type Match struct {
	Package Package
	Record  vuln.Record
	Verdict Verdict
}

// Finding is a vulnerability present in the target.
type Finding struct {
	CVE              string `json:"cve"`
	Package          string `json:"package"`
	Version          string `json:"installed_version"`
	Source           string `json:"source_package"`
	SourceVersion    string `json:"source_version"`
	FixedVersion     string `json:"fixed_version,omitempty"`
	Status           string `json:"status"`
	Urgency          string `json:"urgency,omitempty"`
	Severity         string `json:"severity"`
	Description      string `json:"description,omitempty"`
	Advisory         string `json:"advisory,omitempty"`
	DataSource       string `json:"data_source"`
	Location         string `json:"location,omitempty"`
	NoDSA            string `json:"nodsa,omitempty"`
	NextPointRelease string `json:"next_point_update,omitempty"`
	// Published is when the CVE was published (RFC 3339), when the feed says: what `spartan
	// timeline` measures exposure from.
	Published string `json:"published,omitempty"`
}

// Report is a scan's result.
type Report struct {
	Target    string      `json:"target"`
	Digest    string      `json:"digest,omitempty"`
	Release   string      `json:"release"`
	Packages  int         `json:"packages"`
	Database  []vuln.Meta `json:"database"`
	Findings  []Finding   `json:"findings"`
	Matches   []Match     `json:"-"`
	Inventory *Inventory  `json:"-"`
}

// Lookup is the part of the database a scan needs.
type Lookup interface {
	Lookup(release, pkg string) ([]vuln.Record, error)
}

// Matches applies every record of every installed package's source to it.
func Matches(db Lookup, inv *Inventory) ([]Match, error) {
	var out []Match
	cache := map[string][]vuln.Record{}
	for _, p := range inv.Packages {
		recs, ok := cache[p.Source]
		if !ok {
			var err error
			if recs, err = db.Lookup(inv.Release, p.Source); err != nil {
				return nil, fmt.Errorf("look up %s in %s: %w", p.Source, inv.Release, err)
			}
			cache[p.Source] = recs
		}
		for _, r := range recs {
			out = append(out, Match{Package: p, Record: r, Verdict: verdict(p, r)})
		}
	}
	return out, nil
}

func verdict(p Package, r vuln.Record) Verdict {
	switch {
	case r.NeverAffected():
		return NotAffected
	case r.Status == vuln.StatusUndetermined:
		return Investigating
	case r.Status == vuln.StatusResolved && r.FixedVersion != "" && compareVersions(r.Release, p.SourceVersion, r.FixedVersion) >= 0:
		return Fixed
	}
	return Vulnerable
}

// compareVersions orders versions by the rules of the release's distribution.
func compareVersions(release, a, b string) int {
	if vuln.IsAlpineRelease(release) {
		return alpineversion.CompareStrings(a, b)
	}
	return version.Compare(a, b)
}

// status names what a vulnerable or undetermined match means for the image's owner.
func status(r vuln.Record) string {
	switch {
	case r.Status == vuln.StatusUndetermined:
		return StatusUndetermined
	case r.Status == vuln.StatusResolved && r.FixedVersion != "":
		return StatusFixAvailable
	case r.Severity() == "end-of-life":
		return StatusEndOfLife
	case r.NoDSAReason == "ignored":
		return StatusIgnored
	case r.NoDSAReason == "postponed":
		return StatusPostponed
	case r.NoDSA != "":
		return StatusNoDSA
	case r.Severity() == "unimportant":
		return StatusUnimportant
	}
	return StatusNoFix
}

// Scan matches the inventory against the database and keeps what is present in it.
func Scan(db Lookup, inv *Inventory) (*Report, error) {
	ms, err := Matches(db, inv)
	if err != nil {
		return nil, err
	}
	rep := &Report{Target: inv.Target, Digest: inv.Digest, Release: inv.Release, Packages: len(inv.Packages), Findings: []Finding{}, Matches: ms, Inventory: inv}
	for _, m := range ms {
		if m.Verdict == Fixed || m.Verdict == NotAffected {
			continue
		}
		r := m.Record
		f := Finding{
			CVE: r.CVE, Package: m.Package.Name, Version: m.Package.Version, Source: m.Package.Source,
			SourceVersion: m.Package.SourceVersion, Status: status(r), Urgency: r.Urgency,
			Severity: Severity(r.Urgency), Description: r.Description, Advisory: r.Advisory,
			DataSource: r.Source, Location: m.Package.Location, NoDSA: r.NoDSA, NextPointRelease: r.NextPointFix,
			Published: r.Published,
		}
		if r.Status == vuln.StatusResolved {
			f.FixedVersion = r.FixedVersion
		}
		rep.Findings = append(rep.Findings, f)
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return a.CVE < b.CVE
	})
	return rep, nil
}

// Severities in increasing order. Debian's urgencies are unimportant, low, medium and high;
// "critical" comes only from other sources. "not yet assigned" and "end-of-life" say nothing
// about severity and are "unknown".
var severities = []string{"unknown", "unimportant", "low", "medium", "high", "critical"}

// Severity maps a tracker urgency ("high**" included) to one of the severities.
func Severity(urgency string) string {
	u := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(urgency), "**"))
	for _, s := range severities {
		if u == s {
			return s
		}
	}
	return "unknown"
}

func rank(sev string) int {
	for i, s := range severities {
		if s == sev {
			return i
		}
	}
	return 0
}

// ParseSeverity checks a --fail-on value.
func ParseSeverity(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if rank(s) > 0 {
		return s, nil
	}
	return "", fmt.Errorf("severity %q: want one of unimportant, low, medium, high, critical", s)
}

// AtOrAbove lists the findings whose severity is at least min.
func (r *Report) AtOrAbove(min string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if rank(f.Severity) >= rank(min) && rank(min) > 0 {
			out = append(out, f)
		}
	}
	return out
}
