package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/editdist"
)

// Error is one problem in a spec file, located at the YAML node that
// caused it so editors and CI logs can jump straight to it.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem concerns the whole file
	Col  int // 1-based; 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
}

// where locates a value: its node position and its dotted field path
// (e.g. "accounts.users[1].uid"), kept through variant merging so that
// errors found after merging still point at the line that caused them.
type where struct {
	line, col int
	field     string
	file      string // set for values inherited from a base spec: the file they come from
}

// errList collects every problem instead of stopping at the first, so a
// user fixes a spec in one round trip.
type errList struct {
	file string
	errs []*Error
}

func (l *errList) at(w where, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if w.field != "" {
		msg = w.field + ": " + msg
	}
	file := l.file
	if w.file != "" {
		file = w.file
	}
	l.errs = append(l.errs, &Error{File: file, Line: w.line, Col: w.col, Msg: msg})
}

func (l *errList) empty() bool { return len(l.errs) == 0 }

// err sorts by position and drops duplicates: the base spec is resolved
// again inside every variant, so its problems would otherwise repeat.
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	seen := map[string]bool{}
	var out []error
	for _, e := range l.errs {
		k := e.Error()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// suggest returns the known name closest to an unknown one, or "" when
// nothing is close enough to be a plausible typo.
func suggest(unknown string, known []string) string {
	best, bestDist := "", -1
	for _, k := range known {
		// run_as, runAs and RunAs all mean run-as.
		if norm(k) == norm(unknown) {
			return k
		}
		d := editdist.Distance(strings.ToLower(unknown), k, -1)
		if bestDist < 0 || d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	limit := 2
	if len(unknown) <= 3 {
		limit = 1
	}
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}
