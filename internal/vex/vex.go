// Package vex turns a scan's matches into an OpenVEX v0.2.0 document: what Debian's triage and
// Spartan's hardening say about each CVE of each package, so that scanners that read VEX
// (Trivy, Grype: --vex) stop reporting what does not apply.
package vex

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/purl"
	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/vuln"
)

// OpenVEX v0.2.0.
const (
	Context = "https://openvex.dev/ns/v0.2.0"

	StatusNotAffected        = "not_affected"
	StatusAffected           = "affected"
	StatusFixed              = "fixed"
	StatusUnderInvestigation = "under_investigation"

	JustificationComponentNotPresent = "component_not_present"
	JustificationCodeNotPresent      = "vulnerable_code_not_present"
)

// Document is an OpenVEX document.
type Document struct {
	Context    string      `json:"@context"`
	ID         string      `json:"@id"`
	Author     string      `json:"author"`
	Role       string      `json:"role,omitempty"`
	Timestamp  string      `json:"timestamp"`
	Version    int         `json:"version"`
	Tooling    string      `json:"tooling,omitempty"`
	Statements []Statement `json:"statements"`
}

// Statement says one thing about one vulnerability in some products.
type Statement struct {
	Vulnerability   Vulnerability `json:"vulnerability"`
	Products        []Product     `json:"products"`
	Status          string        `json:"status"`
	StatusNotes     string        `json:"status_notes,omitempty"`
	Justification   string        `json:"justification,omitempty"`
	ImpactStatement string        `json:"impact_statement,omitempty"`
	ActionStatement string        `json:"action_statement,omitempty"`
}

// Vulnerability names a CVE.
type Vulnerability struct {
	ID   string `json:"@id,omitempty"`
	Name string `json:"name"`
}

// Product is a package, identified by its purl.
type Product struct {
	ID          string            `json:"@id"`
	Identifiers map[string]string `json:"identifiers,omitempty"`
}

// Options for a document.
type Options struct {
	Author    string
	Timestamp time.Time
	Tooling   string
	// Cut names packages the hardening profile left out; their CVEs are not_affected with
	// component_not_present.
	Cut []string
}

// Build makes the document for an inventory from its matches. db is consulted for the CVEs of
// cut packages (which the matches cannot hold: they are not installed).
func Build(db scan.Lookup, inv *scan.Inventory, matches []scan.Match, o Options) (*Document, error) {
	type key struct{ cve, status, just, impact, action, notes string }
	groups := map[key]map[string]bool{}
	add := func(k key, ref string) {
		if groups[k] == nil {
			groups[k] = map[string]bool{}
		}
		groups[k][ref] = true
	}
	d := distroOf(inv)
	for _, m := range matches {
		r, p := m.Record, m.Package
		ref := d.purl(p.Name, p.Version, p.Arch)
		notes := fmt.Sprintf("%s, %s: %s", d.tracker, inv.Release, trackerNote(r))
		switch m.Verdict {
		case scan.Fixed:
			add(key{cve: r.CVE, status: StatusFixed, notes: fmt.Sprintf("%s %s carries the fix (fixed in %s)", p.Source, p.SourceVersion, r.FixedVersion)}, ref)
		case scan.NotAffected:
			add(key{cve: r.CVE, status: StatusNotAffected, just: JustificationCodeNotPresent,
				impact: fmt.Sprintf("%s %s never shipped the vulnerable code of %s (tracker fixed_version 0)", d.name, inv.Release, p.Source)}, ref)
		case scan.Investigating:
			add(key{cve: r.CVE, status: StatusUnderInvestigation, notes: notes}, ref)
		default:
			add(key{cve: r.CVE, status: StatusAffected, action: action(p, r, d.name, inv.Release), notes: notes}, ref)
		}
	}
	installed := map[string]bool{}
	for _, p := range inv.Packages {
		installed[p.Name] = true
	}
	cut := append([]string(nil), o.Cut...)
	cut = append(cut, inv.Cut...)
	for _, name := range cut {
		if installed[name] {
			continue
		}
		recs, err := db.Lookup(inv.Release, name)
		if err != nil {
			return nil, fmt.Errorf("look up cut package %s: %w", name, err)
		}
		for _, r := range recs {
			if r.NeverAffected() {
				continue
			}
			add(key{cve: r.CVE, status: StatusNotAffected, just: JustificationComponentNotPresent,
				impact: fmt.Sprintf("%s is not in the image: the hardening profile cut it", name)}, d.purl(name, "", ""))
		}
	}
	doc := &Document{Context: Context, Author: o.Author, Version: 1, Tooling: o.Tooling, Statements: []Statement{}}
	if doc.Author == "" {
		doc.Author = "spartan"
	}
	for k, set := range groups {
		st := Statement{Vulnerability: Vulnerability{Name: k.cve}, Status: k.status, Justification: k.just,
			ImpactStatement: k.impact, ActionStatement: k.action, StatusNotes: k.notes}
		if strings.HasPrefix(k.cve, "CVE-") {
			st.Vulnerability.ID = "https://nvd.nist.gov/vuln/detail/" + k.cve
		}
		ids := make([]string, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			st.Products = append(st.Products, Product{ID: id, Identifiers: map[string]string{"purl": id}})
		}
		doc.Statements = append(doc.Statements, st)
	}
	sort.Slice(doc.Statements, func(i, j int) bool {
		a, b := doc.Statements[i], doc.Statements[j]
		if a.Vulnerability.Name != b.Vulnerability.Name {
			return a.Vulnerability.Name < b.Vulnerability.Name
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return a.Products[0].ID < b.Products[0].ID
	})
	// The id names the content, so the same image and database give the same document id.
	body, err := json.Marshal(doc.Statements)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	doc.ID = "https://openvex.dev/docs/public/spartan-" + hex.EncodeToString(sum[:16])
	doc.Timestamp = o.Timestamp.UTC().Format(time.RFC3339)
	return doc, nil
}

func trackerNote(r vuln.Record) string {
	parts := []string{r.Status}
	if r.Urgency != "" {
		parts = append(parts, "urgency "+r.Urgency)
	}
	if r.NoDSA != "" {
		parts = append(parts, "no-dsa: "+r.NoDSA)
	}
	if r.NoDSAReason != "" {
		parts = append(parts, r.NoDSAReason)
	}
	return strings.Join(parts, ", ")
}

// action is what to do about an open CVE.
func action(p scan.Package, r vuln.Record, distro, release string) string {
	switch {
	case r.Status == vuln.StatusResolved && r.FixedVersion != "":
		return fmt.Sprintf("Update %s to %s or later and rebuild the image (spartan update).", p.Source, r.FixedVersion)
	case r.Severity() == "end-of-life":
		return fmt.Sprintf("%s is no longer supported by %s security in %s: replace it or move to a newer release.", p.Source, distro, release)
	case r.NoDSA != "" || r.NoDSAReason != "":
		return fmt.Sprintf("%s will not issue a security advisory for %s in %s (%s); assess the exposure or mitigate in the application.", distro, p.Source, release, firstNonEmpty(r.NoDSA, r.NoDSAReason))
	}
	return fmt.Sprintf("No fix in %s %s yet; rebuild when one is published (spartan update).", distro, release)
}

// distro is what statements name: the distribution, its vulnerability source and its purls.
type distro struct {
	name, tracker string
	purl          func(name, version, arch string) string
}

// distroOf tells Alpine inventories (secdb records, apk purls as the SBOMs write them:
// distro=alpine-<VERSION_ID>) from Debian ones.
func distroOf(inv *scan.Inventory) distro {
	if vuln.IsAlpineRelease(inv.Release) {
		v := firstNonEmpty(inv.VersionID, strings.TrimPrefix(strings.TrimPrefix(inv.Release, "alpine-"), "v"))
		return distro{name: "Alpine", tracker: "Alpine secdb", purl: func(name, version, arch string) string {
			return purl.APK(name, version, arch, "alpine-"+v).String()
		}}
	}
	return distro{name: "Debian", tracker: "Debian Security Tracker", purl: func(name, version, arch string) string {
		return PURL(name, version, arch, inv.Release)
	}}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// PURL is a Debian package's purl as Spartan's SBOMs write it (version and arch optional):
// the distro qualifier carries the release number ("debian-13"), as os-release's VERSION_ID
// does, or the codename for testing and unstable.
func PURL(name, version, arch, release string) string {
	d := vuln.ReleaseNumber(release)
	if d == "" {
		d = release
	}
	if d != "" {
		d = "debian-" + d
	}
	return purl.Deb(name, version, arch, d).String()
}

// Write writes the document as indented JSON.
func (d *Document) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// ReadCuts reads the cut package names from `spartan resolve --json` output.
func ReadCuts(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cuts: %w", err)
	}
	var arches []struct {
		Arch string `json:"arch"`
		Cuts []struct {
			To string `json:"to"`
		} `json:"cuts"`
	}
	if err := json.Unmarshal(b, &arches); err != nil {
		return nil, fmt.Errorf("cuts %s: want the output of `spartan resolve --json`: %w", path, err)
	}
	set := map[string]bool{}
	for _, a := range arches {
		for _, c := range a.Cuts {
			if c.To != "" {
				set[c.To] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

var statuses = map[string]bool{StatusNotAffected: true, StatusAffected: true, StatusFixed: true, StatusUnderInvestigation: true}

var justifications = map[string]bool{
	JustificationComponentNotPresent: true, JustificationCodeNotPresent: true, "vulnerable_code_not_in_execute_path": true,
	"vulnerable_code_cannot_be_controlled_by_adversary": true, "inline_mitigations_already_exist": true,
}

// Validate checks an OpenVEX v0.2.0 document against the specification's rules: the
// required fields, a known status per statement, a justification or impact statement for
// not_affected and an action statement for affected. It reports every problem, by statement.
func Validate(data []byte) error {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("OpenVEX: %w", err)
	}
	var bad []string
	if d.Context != Context {
		bad = append(bad, fmt.Sprintf("@context %q is not %s", d.Context, Context))
	}
	if d.ID == "" || d.Author == "" || d.Version < 1 {
		bad = append(bad, "@id, author and version (1 or more) are required")
	}
	if _, err := time.Parse(time.RFC3339, d.Timestamp); err != nil {
		bad = append(bad, fmt.Sprintf("timestamp %q is not RFC 3339", d.Timestamp))
	}
	for i, s := range d.Statements {
		at := fmt.Sprintf("statement %d (%s)", i, s.Vulnerability.Name)
		switch {
		case s.Vulnerability.Name == "":
			bad = append(bad, at+": no vulnerability name")
		case len(s.Products) == 0:
			bad = append(bad, at+": no products")
		case !statuses[s.Status]:
			bad = append(bad, fmt.Sprintf("%s: status %q", at, s.Status))
		case s.Status == StatusNotAffected && s.Justification == "" && s.ImpactStatement == "":
			bad = append(bad, at+": not_affected needs a justification or an impact statement")
		case s.Justification != "" && !justifications[s.Justification]:
			bad = append(bad, fmt.Sprintf("%s: justification %q", at, s.Justification))
		case s.Status == StatusAffected && s.ActionStatement == "":
			bad = append(bad, at+": affected needs an action statement")
		}
		for _, p := range s.Products {
			if p.ID == "" {
				bad = append(bad, at+": a product without @id")
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("OpenVEX: %s", strings.Join(bad, "; "))
	}
	return nil
}
