// Package vuln keeps Debian's vulnerability data in an embedded database: the Security
// Tracker's JSON feed (the authority on what affects which Debian release) and, as a second
// source, OSV records for Debian, both reduced to one model keyed by release codename, source
// package and CVE. Scans and VEX documents read it; nothing here decides what a finding means
// for an image.
package vuln

import (
	"fmt"
	"strings"
)

// Tracker statuses, as the feed spells them.
const (
	StatusResolved     = "resolved"     // fixed in fixed_version ("0": never affected)
	StatusOpen         = "open"         // affected, no fix in the release yet
	StatusUndetermined = "undetermined" // the security team has not decided yet
)

// NotAffectedVersion is the fixed_version the tracker uses for "this release never shipped the
// vulnerable code".
const NotAffectedVersion = "0"

// Record is what the database knows about one CVE in one source package of one release.
type Record struct {
	CVE          string `json:"cve"`
	Package      string `json:"package"` // source package
	Release      string `json:"release"` // codename
	Status       string `json:"status"`
	FixedVersion string `json:"fixed_version,omitempty"`
	// Urgency as the tracker gives it ("low", "high**", "end-of-life", "not yet assigned"…).
	Urgency      string `json:"urgency,omitempty"`
	NoDSA        string `json:"nodsa,omitempty"`        // why the team will not issue an advisory
	NoDSAReason  string `json:"nodsa_reason,omitempty"` // "", "ignored" or "postponed"
	Description  string `json:"description,omitempty"`
	Scope        string `json:"scope,omitempty"`
	Source       string `json:"source"` // SourceTracker or SourceOSV
	Advisory     string `json:"advisory,omitempty"`
	DebianBug    int64  `json:"debianbug,omitempty"`
	NextPointFix string `json:"next_point_update,omitempty"`
	// Published is when the CVE was made public (RFC 3339), when the source says: OSV records
	// do, the tracker feed does not.
	Published string `json:"published,omitempty"`
}

// Database sources.
const (
	SourceTracker = "debian-tracker"
	SourceOSV     = "osv"
)

// NeverAffected tells whether the release never carried the vulnerable code.
func (r Record) NeverAffected() bool {
	return r.Status == StatusResolved && r.FixedVersion == NotAffectedVersion
}

// Severity is the urgency without the tracker's "**" marker (which says the value was taken
// from NVD rather than assessed by Debian).
func (r Record) Severity() string { return strings.TrimSuffix(strings.TrimSpace(r.Urgency), "**") }

// releases maps Debian release numbers to codenames: OSV names releases by number
// ("Debian:13"), the tracker and os-release by codename.
var releases = []struct{ Number, Codename string }{
	{"1.1", "buzz"}, {"1.2", "rex"}, {"1.3", "bo"}, {"2.0", "hamm"}, {"2.1", "slink"}, {"2.2", "potato"},
	{"3.0", "woody"}, {"3.1", "sarge"}, {"4", "etch"}, {"5", "lenny"}, {"6", "squeeze"},
	{"7", "wheezy"}, {"8", "jessie"}, {"9", "stretch"}, {"10", "buster"}, {"11", "bullseye"},
	{"12", "bookworm"}, {"13", "trixie"}, {"14", "forky"}, {"15", "duke"},
}

// Codename turns a release number ("13", "13.2", "6.0", "3.0") or codename into a codename.
func Codename(release string) (string, error) {
	r := strings.ToLower(strings.TrimSpace(release))
	if r == "" {
		return "", fmt.Errorf("empty Debian release")
	}
	for _, x := range releases {
		if r == x.Codename {
			return r, nil
		}
	}
	if r == "sid" || r == "unstable" {
		return "sid", nil
	}
	// Point releases share the major release's codename; before 7 the minor number was part
	// of the release name (3.0 woody, 3.1 sarge), and 6.0 is squeeze.
	for _, x := range releases {
		if r == x.Number || strings.HasPrefix(r, x.Number+".") && !strings.Contains(x.Number, ".") {
			return x.Codename, nil
		}
	}
	return "", fmt.Errorf("unknown Debian release %q (want a codename such as trixie or a number such as 13)", release)
}

// ReleaseNumber is the inverse of Codename for purl distro qualifiers; "" when unknown.
func ReleaseNumber(codename string) string {
	for _, x := range releases {
		if x.Codename == codename {
			return x.Number
		}
	}
	return ""
}
