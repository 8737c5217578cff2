package audit

import (
	"strings"

	"fmt"

	"github.com/spartan-images/spartan/internal/scan"
)

// Options are what some checks need beyond the image itself.
type Options struct {
	// Vulns is the vulnerability database SPT-0009 matches the image's Debian packages
	// against; nil skips the check.
	Vulns scan.Lookup
	// CVELevel is the lowest severity SPT-0009 reports: unimportant, low, medium, high or
	// critical ("" = DefaultCVELevel).
	CVELevel string
}

// DefaultCVELevel keeps the report about what a rebuild or an upgrade decision hinges on;
// Debian rates most CVEs low or unimportant for a reason.
const DefaultCVELevel = "high"

// noDatabase is SPT-0009's skip reason when no database was given.
const noDatabase = "no vulnerability database: run spartan db update or spartan db import"

// scanVulns matches the image's packages against the database, from the dpkg records and
// os-release the inventory read. An image the scanner cannot read (not Debian, no dpkg
// records) is not an error: the check is skipped with the scanner's reason.
func (im *Image) scanVulns(o Options) error {
	level := o.CVELevel
	if level == "" {
		level = DefaultCVELevel
	}
	min, err := scan.ParseSeverity(level)
	if err != nil {
		return fmt.Errorf("CVE level: %w", err)
	}
	im.CVELevel = min
	if o.Vulns == nil {
		im.VulnsSkipped = noDatabase
		return nil
	}
	if im.InstalledErr != nil {
		im.VulnsSkipped = "cannot read the installed packages: " + im.InstalledErr.Error()
		return nil
	}
	inv, err := scan.FromInstalled(im.Installed, im.Target.Name)
	if err != nil {
		im.VulnsSkipped = "cannot match the packages against security data: " + err.Error()
		return nil
	}
	inv.Digest = im.Digest
	rep, err := scan.Scan(o.Vulns, inv)
	if err != nil {
		return fmt.Errorf("%s: vulnerability scan: %w", im.Target.Name, err)
	}
	im.Vulns = rep
	return nil
}

func hasVulnScan(im *Image) string {
	if im.Vulns != nil {
		return ""
	}
	if im.VulnsSkipped != "" {
		return im.VulnsSkipped
	}
	return noDatabase
}

// checkVulns reports each CVE at or above the threshold once per source package, at the first
// binary package it affects. A fix Debian has published makes the image stale (WARN: rebuild);
// a CVE with no fix, or one Debian will not fix, is there to be known about (INFO).
func checkVulns(im *Image) []Finding {
	type key struct{ cve, source string }
	var order []key
	groups := map[key][]scan.Finding{}
	for _, f := range im.Vulns.AtOrAbove(im.CVELevel) {
		k := key{f.CVE, f.Source}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], f)
	}
	var out []Finding
	for _, k := range order {
		g := groups[k]
		f := g[0]
		fixed := f.FixedVersion
		if fixed == "" {
			fixed = "none"
		}
		msg := fmt.Sprintf("%s, severity %s, %s, fixed version %s", f.CVE, f.Severity, f.Status, fixed)
		var notes []string
		if f.Source != f.Package {
			notes = append(notes, fmt.Sprintf("source %s %s", f.Source, f.SourceVersion))
		}
		if len(g) > 1 {
			also := make([]string, 0, len(g)-1)
			for _, o := range g[1:] {
				also = append(also, o.Package+"="+o.Version)
			}
			notes = append(notes, "also in "+strings.Join(also, ", "))
		}
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, "; ") + ")"
		}
		level := Info
		if f.Status == scan.StatusFixAvailable {
			level = Warn
			msg += ": rebuild the image to pick up the fix"
		}
		out = append(out, Finding{ID: "SPT-0009", Level: level, Path: f.Package + "=" + f.Version, Message: msg})
	}
	return out
}
