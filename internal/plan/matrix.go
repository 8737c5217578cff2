package plan

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// GitHubEntry is one job of a GitHub Actions matrix: what `spartan build` needs.
type GitHubEntry struct {
	ID      string `json:"id"`
	Spec    string `json:"spec"`
	Variant string `json:"variant"`
	Arch    string `json:"arch,omitempty"` // empty for an index job
	Ref     string `json:"ref"`
}

// GitHubMatrix is a strategy.matrix value: {"include": [...]}. GitHub refuses an empty
// matrix, so callers skip the job when Count is 0.
type GitHubMatrix struct {
	Include []GitHubEntry `json:"include"`
}

// GitHub returns the matrix of the units at level (all levels when level < 0) and that of
// the indexes at that level.
func (p *Plan) GitHub(level int) (units, indexes GitHubMatrix) {
	units.Include, indexes.Include = []GitHubEntry{}, []GitHubEntry{}
	for _, u := range p.Units {
		if level < 0 || u.Level == level {
			units.Include = append(units.Include, GitHubEntry{ID: u.ID, Spec: u.Spec, Variant: u.Variant, Arch: u.Arch, Ref: u.Ref})
		}
	}
	for _, ix := range p.Indexes {
		if level < 0 || ix.Level == level {
			indexes.Include = append(indexes.Include, GitHubEntry{ID: ix.ID, Spec: ix.Spec, Variant: ix.Variant, Ref: ix.Ref})
		}
	}
	return units, indexes
}

// GitLabMaxJobs is how many jobs GitLab makes of one parallel:matrix at most.
const GitLabMaxJobs = 200

// WriteGitLab writes hidden jobs .spartan-units (SPEC, VARIANT, ARCH) and .spartan-indexes
// (SPEC, VARIANT) holding `parallel: matrix:`, for a .gitlab-ci.yml to include and extend. Units of one
// spec and variant share an entry with a list of architectures, as GitLab expands lists.
func (p *Plan) WriteGitLab(w io.Writer, level int) error {
	type entry struct {
		spec, variant string
		archs         []string
	}
	var units, indexes []*entry
	find := func(l []*entry, spec, variant string) *entry {
		for _, e := range l {
			if e.spec == spec && e.variant == variant {
				return e
			}
		}
		return nil
	}
	jobs := 0
	for _, u := range p.Units {
		if level >= 0 && u.Level != level {
			continue
		}
		e := find(units, u.Spec, u.Variant)
		if e == nil {
			e = &entry{spec: u.Spec, variant: u.Variant}
			units = append(units, e)
		}
		e.archs = append(e.archs, u.Arch)
		jobs++
	}
	for _, ix := range p.Indexes {
		if (level < 0 || ix.Level == level) && find(indexes, ix.Spec, ix.Variant) == nil {
			indexes = append(indexes, &entry{spec: ix.Spec, variant: ix.Variant})
		}
	}
	if jobs > GitLabMaxJobs || len(indexes) > GitLabMaxJobs {
		return fmt.Errorf("gitlab matrix: %d build jobs, GitLab makes at most %d of one matrix: plan fewer specs per pipeline or use --level", jobs, GitLabMaxJobs)
	}
	if len(units)+len(indexes) == 0 {
		return fmt.Errorf("gitlab matrix: nothing to run at this level")
	}
	var b strings.Builder
	b.WriteString("# Made by `spartan plan --format gitlab`: include this file and let the build and index\n" +
		"# jobs extend .spartan-units and .spartan-indexes.\n")
	block := func(job string, l []*entry) {
		if len(l) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n  parallel:\n    matrix:\n", job)
		for _, e := range l {
			fmt.Fprintf(&b, "      - SPEC: %s\n        VARIANT: %s\n", quote(e.spec), quote(e.variant))
			if e.archs != nil {
				slices.Sort(e.archs)
				q := make([]string, len(e.archs))
				for i, a := range e.archs {
					q[i] = quote(a)
				}
				fmt.Fprintf(&b, "        ARCH: [%s]\n", strings.Join(q, ", "))
			}
		}
	}
	block(".spartan-units", units)
	block(".spartan-indexes", indexes)
	_, err := io.WriteString(w, b.String())
	return err
}

// quote makes s a YAML double-quoted scalar (spec paths may hold characters YAML reads
// otherwise).
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
