package migrate

import (
	"fmt"
	"strings"
)

// context is how many unchanged lines a hunk shows around a change, as diff -u does.
const context = 3

// Diff is a unified diff of the migration, or "" when nothing changed. Migration replaces
// lines one for one, so hunks pair line i of the original with line i of the result.
func (r Result) Diff(name string) string {
	if len(r.Changes) == 0 {
		return ""
	}
	old := strings.Split(r.Original, "\n")
	nu := strings.Split(r.Migrated, "\n")
	// A final newline leaves an empty last element that is not a line.
	if len(old) > 0 && old[len(old)-1] == "" {
		old, nu = old[:len(old)-1], nu[:len(nu)-1]
	}
	var b strings.Builder
	// patch -p1 strips the a/ and b/ of a relative name; an absolute one is written as is.
	oldName, newName := "a/"+name, "b/"+name
	if strings.HasPrefix(name, "/") {
		oldName, newName = name, name
	}
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", oldName, newName)
	// Group changes whose context windows touch into one hunk.
	for i := 0; i < len(r.Changes); {
		j := i
		for j+1 < len(r.Changes) && r.Changes[j+1].Line-r.Changes[j].Line-1 <= 2*context {
			j++
		}
		start := max(r.Changes[i].Line-context, 1)
		end := min(r.Changes[j].Line+context, len(old))
		n := end - start + 1
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", span(start, n), span(start, n))
		for l := start; l <= end; l++ {
			// diff -u marks a last line that lacks its newline after each side that shows it.
			noEOL := ""
			if l == len(old) && !strings.HasSuffix(r.Original, "\n") {
				noEOL = "\\ No newline at end of file\n"
			}
			if old[l-1] == nu[l-1] {
				fmt.Fprintf(&b, " %s\n%s", old[l-1], noEOL)
				continue
			}
			fmt.Fprintf(&b, "-%s\n%s", old[l-1], noEOL)
			fmt.Fprintf(&b, "+%s\n%s", nu[l-1], noEOL)
		}
		i = j + 1
	}
	return b.String()
}

func span(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
