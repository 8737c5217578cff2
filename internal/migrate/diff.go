package migrate

import (
	"fmt"
	"path"
	"strings"
)

// contextLines is how many unchanged lines a hunk shows around a change, as diff -u does.
const contextLines = 3

// op is one line of an edit script: ' ' kept, '-' removed, '+' added.
type op struct {
	kind     byte
	old, new int // 1-based line numbers in each file (of the line, or where it would be)
	text     string
}

// Diff is a unified diff of the migration, or "" when nothing changed.
func (r Result) Diff(name string) string {
	if r.Migrated == r.Original {
		return ""
	}
	old, oldEOL := splitLines(r.Original)
	nu, newEOL := splitLines(r.Migrated)
	ops := editScript(old, nu)
	var b strings.Builder
	// patch -p1 strips the a/ and b/ of a relative name; an absolute one is written as is.
	oldName, newName := "a/"+name, "b/"+name
	if strings.HasPrefix(name, "/") {
		oldName, newName = name, name
	}
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", oldName, newName)
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from contextLines lines before this change to contextLines after the last change
		// whose gap to the next is small enough to share them.
		start := max(i-contextLines, 0)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j
			} else if j-end > 2*contextLines {
				break
			}
		}
		end = min(end+contextLines, len(ops)-1)
		var oldN, newN int
		for _, o := range ops[start : end+1] {
			if o.kind != '+' {
				oldN++
			}
			if o.kind != '-' {
				newN++
			}
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", span(ops[start].old, oldN), span(ops[start].new, newN))
		for _, o := range ops[start : end+1] {
			fmt.Fprintf(&b, "%c%s\n", o.kind, o.text)
			// diff -u marks a last line that lacks its newline after each side that shows it.
			if (o.kind != '+' && o.old == len(old) && !oldEOL) || (o.kind == '+' && o.new == len(nu) && !newEOL) {
				b.WriteString("\\ No newline at end of file\n")
			}
		}
		i = end + 1
	}
	return b.String()
}

// splitLines splits text into lines; eol reports whether the last one ended with a newline.
func splitLines(s string) (lines []string, eol bool) {
	if s == "" {
		return nil, true
	}
	eol = strings.HasSuffix(s, "\n")
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n"), eol
}

// editScript is a shortest edit script from a to b by longest common subsequence: Dockerfiles
// are short, so the quadratic table is cheap.
func editScript(a, b []string) []op {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{' ', i + 1, j + 1, a[i]})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, op{'+', i + 1, j + 1, b[j]})
			j++
		default:
			ops = append(ops, op{'-', i + 1, j + 1, a[i]})
			i++
		}
	}
	return ops
}

// span is a hunk range: start,count (start is the line before when count is 0).
func span(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// SpecDiff is the custom base spec as a new-file diff named beside the Dockerfile (dir is the
// Dockerfile's directory as the user gave it), or "" when no custom base is needed: with
// Diff it makes one patch.
func (r Result) SpecDiff(dockerfile string) string {
	if r.Base == nil {
		return ""
	}
	name := SpecFile
	if d := path.Dir(dockerfile); d != "." {
		name = path.Join(d, SpecFile)
	}
	lines, _ := splitLines(string(r.Base.Spec(path.Base(dockerfile))))
	var b strings.Builder
	newName := "b/" + name
	if strings.HasPrefix(name, "/") {
		newName = name
	}
	fmt.Fprintf(&b, "--- /dev/null\n+++ %s\n@@ -0,0 +1,%d @@\n", newName, len(lines))
	for _, l := range lines {
		fmt.Fprintf(&b, "+%s\n", l)
	}
	return b.String()
}
