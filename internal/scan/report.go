package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spartan-images/spartan/internal/sarif"
)

// WriteTable writes the findings as a table followed by a summary by status.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s: Debian %s, %d packages, %d findings\n", r.Target, r.Release, r.Packages, len(r.Findings))
	if len(r.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PACKAGE\tINSTALLED\tCVE\tSEVERITY\tSTATUS\tFIXED IN")
		for _, f := range r.Findings {
			fixed := f.FixedVersion
			if fixed == "" {
				fixed = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Package, f.Version, f.CVE, f.Severity, f.Status, fixed)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	counts := map[string]int{}
	for _, f := range r.Findings {
		counts[f.Status]++
	}
	var parts []string
	for _, s := range []string{StatusFixAvailable, StatusNoFix, StatusUndetermined, StatusNoDSA, StatusIgnored, StatusPostponed, StatusUnimportant, StatusEndOfLife} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintln(w, strings.Join(parts, ", "))
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// securitySeverity is the CVSS-like score code-scanning tools sort by.
var securitySeverity = map[string]string{"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "unimportant": "0.5", "unknown": "0.0"}

func sarifLevel(sev string) string {
	switch sev {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "note"
}

// WriteSARIF writes the findings as a SARIF 2.1.0 log: one rule per CVE, one result per
// affected package, located at the package's status record.
func (r *Report) WriteSARIF(w io.Writer, toolVersion string) error {
	rules := map[string]int{}
	var ruleList []sarif.Rule
	cves := map[string]Finding{}
	for _, f := range r.Findings {
		if old, ok := cves[f.CVE]; !ok || rank(f.Severity) > rank(old.Severity) {
			cves[f.CVE] = f
		}
	}
	ids := make([]string, 0, len(cves))
	for id := range cves {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		f := cves[id]
		rules[id] = len(ruleList)
		desc := f.Description
		if desc == "" {
			desc = id
		}
		ruleList = append(ruleList, sarif.Rule{
			ID: id, ShortDescription: sarif.Text{Text: id + " in " + f.Source}, FullDescription: &sarif.Text{Text: desc},
			HelpURI:    "https://security-tracker.debian.org/tracker/" + id,
			Properties: map[string]any{"security-severity": securitySeverity[f.Severity], "tags": []string{"security", "vulnerability", f.Severity}},
		})
	}
	results := []sarif.Result{}
	for _, f := range r.Findings {
		fixed := "no fixed version yet"
		if f.FixedVersion != "" {
			fixed = "fixed in " + f.FixedVersion
		}
		res := sarif.Result{
			RuleID: f.CVE, RuleIndex: rules[f.CVE], Level: sarifLevel(f.Severity),
			Message:    sarif.Text{Text: fmt.Sprintf("%s %s (source %s %s) is affected by %s: %s, %s, severity %s", f.Package, f.Version, f.Source, f.SourceVersion, f.CVE, f.Status, fixed, f.Severity)},
			Properties: map[string]any{"package": f.Package, "installedVersion": f.Version, "fixedVersion": f.FixedVersion, "status": f.Status},
		}
		res.Locations = []sarif.Location{sarif.At(firstNonEmpty(f.Location, r.Target))}
		results = append(results, res)
	}
	drv := sarif.Driver{Name: "spartan", Version: toolVersion, InformationURI: "https://github.com/spartan-images/spartan", Rules: ruleList}
	return sarif.New(drv, results).Write(w)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
