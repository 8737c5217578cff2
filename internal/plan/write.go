package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Write writes the plan in a format: text (a table for people), json (the whole plan),
// github (lines for $GITHUB_OUTPUT), gitlab (WriteGitLab), refs (each unit's reference).
// level keeps one level of the order for github and gitlab; all when < 0.
func (p *Plan) Write(w io.Writer, format string, level int) error {
	if p.Registry == "" && (format == "github" || format == "refs") {
		return fmt.Errorf("--format %s: the references need --registry HOST[/PATH]", format)
	}
	switch format {
	case "json":
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(p)
	case "github":
		units, indexes := p.GitHub(level)
		u, err := json.Marshal(units)
		if err != nil {
			return err
		}
		ix, err := json.Marshal(indexes)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "units=%s\nunits-count=%d\nindexes=%s\nindexes-count=%d\nlevels=%d\n",
			u, len(units.Include), ix, len(indexes.Include), p.Levels())
		return err
	case "gitlab":
		return p.WriteGitLab(w, level)
	case "refs":
		for _, u := range p.Units {
			if _, err := fmt.Fprintln(w, u.Ref); err != nil {
				return err
			}
		}
		return nil
	case "text":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "UNIT\tLEVEL\tSTATE\tKEY")
		state := func(done bool) string {
			switch {
			case !p.Checked:
				return "unchecked"
			case done:
				return "done"
			}
			return "to build"
		}
		for _, u := range p.Units {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.12s\n", u.ID, u.Level, state(u.Satisfied), u.Key)
		}
		for _, ix := range p.Indexes {
			fmt.Fprintf(tw, "%s (index of %s)\t%d\t%s\t%.12s\n", ix.ID, strings.Join(ix.Units, ", "), ix.Level, state(ix.Satisfied), ix.Key)
		}
		return tw.Flush()
	}
	return fmt.Errorf("--format %q: use text, json, github, gitlab or refs", format)
}
