package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"text/tabwriter"

	"github.com/spartan-images/spartan/internal/sarif"
)

// Ignore is a list of check ids, or id:path pairs, whose findings are dropped.
type Ignore struct {
	rules []ignoreRule
}

type ignoreRule struct {
	id, path string // path "" = every finding of the check; may be a glob (path.Match)
	line     int
}

// LoadIgnore reads an ignore file: one `ID` or `ID:PATH` per line; # starts a comment.
func LoadIgnore(file string) (*Ignore, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("ignore file: %w", err)
	}
	defer f.Close()
	return ParseIgnore(file, f)
}

// ParseIgnore parses ignore rules; unknown check ids are errors, so typos don't silently
// ignore nothing.
func ParseIgnore(name string, r io.Reader) (*Ignore, error) {
	ig := &Ignore{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		id, p, _ := strings.Cut(line, ":")
		id, p = strings.TrimSpace(id), strings.TrimSpace(p)
		if _, ok := CheckByID(id); !ok {
			return nil, fmt.Errorf("%s:%d: unknown check id %q (see spartan audit --list-checks)", name, n, id)
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%s:%d: bad path pattern %q: %w", name, n, p, err)
		}
		ig.rules = append(ig.rules, ignoreRule{id: id, path: p, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ig, nil
}

func (ig *Ignore) match(f Finding) bool {
	if ig == nil {
		return false
	}
	for _, r := range ig.rules {
		if r.id != f.ID {
			continue
		}
		if r.path == "" || r.path == f.Path {
			return true
		}
		if ok, _ := path.Match(r.path, f.Path); ok {
			return true
		}
	}
	return false
}

// Apply drops ignored findings (PASS entries stay) and counts them.
func (ig *Ignore) Apply(r *Report) {
	kept := r.Findings[:0]
	for _, f := range r.Findings {
		if f.Level != Pass && ig.match(f) {
			r.Ignored++
			continue
		}
		kept = append(kept, f)
	}
	r.Findings = kept
}

// Failed is true when a finding is at or above the exit level.
func (r *Report) Failed(exit Level) bool {
	return exit != Pass && r.Max() >= exit
}

// WriteTable prints findings, worst first, then a summary line. PASS lines are listed after
// the problems so that the report shows what was checked.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "LEVEL\tCHECK\tPATH\tMESSAGE\n")
	for _, f := range r.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Level, f.ID, orDash(f.Path), f.Message)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(tw, "SKIP\t%s\t-\t%s\n", s.ID, s.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := r.Counts()
	_, err := fmt.Fprintf(w, "\n%s: %d FATAL, %d WARN, %d INFO, %d PASS, %d skipped, %d ignored\n",
		r.Target, c[Fatal], c[Warn], c[Info], c[Pass], len(r.Skipped), r.Ignored)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func sarifLevel(l Level) string {
	switch l {
	case Fatal:
		return "error"
	case Warn:
		return "warning"
	case Info:
		return "note"
	}
	return "none"
}

// WriteSARIF writes SARIF 2.1.0: every check as a rule, every non-PASS finding as a result
// located at the file (or config field) it names.
func (r *Report) WriteSARIF(w io.Writer, toolVersion string) error {
	drv := sarif.Driver{Name: "spartan audit", Version: toolVersion, InformationURI: "https://github.com/spartan-images/spartan/blob/main/docs/audit.md"}
	index := map[string]int{}
	for i, c := range Checks {
		index[c.ID] = i
		drv.Rules = append(drv.Rules, sarif.Rule{
			ID: c.ID, Name: ruleName(c.Title), ShortDescription: sarif.Text{Text: c.Title}, Help: &sarif.Text{Text: c.Help},
			DefaultConfiguration: map[string]string{"level": sarifLevel(c.Level)},
		})
	}
	var results []sarif.Result
	for _, f := range r.Findings {
		if f.Level == Pass {
			continue
		}
		res := sarif.Result{RuleID: f.ID, RuleIndex: index[f.ID], Level: sarifLevel(f.Level), Message: sarif.Text{Text: f.Message}}
		if f.Path != "" {
			res.Locations = []sarif.Location{sarif.At(strings.TrimPrefix(f.Path, "/"))}
		}
		results = append(results, res)
	}
	return sarif.New(drv, results).Write(w)
}

// ruleName turns a title into SARIF's PascalCase rule name.
func ruleName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}
