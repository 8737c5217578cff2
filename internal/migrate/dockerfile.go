// Package migrate rewrites a Dockerfile's FROM lines from common official images to
// Spartan's, and points out what will break in the final stage: Spartan runtime images have
// no shell, no package manager and run as an unprivileged user, which Dockerfiles written
// for Debian-based images often assume.
package migrate

import (
	"strconv"
	"strings"
)

// instruction is one logical Dockerfile instruction, which may span several physical lines
// joined by the escape character.
type instruction struct {
	line  int    // 1-based line of its first physical line
	lines int    // physical lines it spans
	cmd   string // upper-cased keyword: FROM, RUN, COPY…
	args  string // the rest, continuations joined with a space
}

// parse splits a Dockerfile into instructions. It understands the `# escape=` parser
// directive, comments and line continuations; everything else is carried as text.
func parse(lines []string) []instruction {
	escape := byte('\\')
	var out []instruction
	directives := true
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "#") {
			if directives {
				if k, v, ok := strings.Cut(strings.TrimSpace(l[1:]), "="); ok && strings.EqualFold(strings.TrimSpace(k), "escape") {
					if v = strings.TrimSpace(v); len(v) == 1 {
						escape = v[0]
					}
				}
			}
			continue
		}
		if l == "" {
			continue
		}
		directives = false
		start := i
		text := l
		for strings.HasSuffix(text, string(escape)) && i+1 < len(lines) {
			text = strings.TrimSuffix(text, string(escape))
			i++
			next := strings.TrimSpace(lines[i])
			if strings.HasPrefix(next, "#") { // comments inside a continuation are dropped
				text += " "
				continue
			}
			text += " " + next
		}
		cmd, args, _ := strings.Cut(text, " ")
		out = append(out, instruction{line: start + 1, lines: i - start + 1, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
	}
	return out
}

// from is a parsed FROM instruction.
type from struct {
	flags []string // --platform=…
	image string
	alias string
}

func parseFrom(args string) (from, bool) {
	var f from
	fields := strings.Fields(args)
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		f.flags = append(f.flags, fields[0])
		fields = fields[1:]
	}
	switch {
	case len(fields) == 1:
		f.image = fields[0]
	case len(fields) == 3 && strings.EqualFold(fields[1], "as"):
		f.image, f.alias = fields[0], fields[2]
	default:
		return f, false
	}
	return f, true
}

// copyFromSources returns the stage (name or index) a COPY --from= / RUN --mount=from= names.
func fromReferences(in instruction) []string {
	var refs []string
	for _, field := range strings.Fields(in.args) {
		if !strings.HasPrefix(field, "--") {
			break // flags come first
		}
		switch {
		case in.cmd == "COPY" && strings.HasPrefix(field, "--from="):
			refs = append(refs, strings.TrimPrefix(field, "--from="))
		case in.cmd == "RUN" && strings.HasPrefix(field, "--mount="):
			for _, kv := range strings.Split(strings.TrimPrefix(field, "--mount="), ",") {
				if v, ok := strings.CutPrefix(kv, "from="); ok {
					refs = append(refs, v)
				}
			}
		}
	}
	return refs
}

// isExecForm reports whether CMD/ENTRYPOINT/RUN arguments are a JSON array (no shell needed).
func isExecForm(args string) bool {
	a := strings.TrimSpace(args)
	return strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]")
}

// execWords is the unquoted list of an exec-form instruction, or the fields of a shell form.
func execWords(args string) []string {
	a := strings.TrimSpace(args)
	if !isExecForm(a) {
		return strings.Fields(a)
	}
	var words []string
	for _, part := range strings.Split(strings.Trim(a, "[]"), ",") {
		part = strings.TrimSpace(part)
		if s, err := strconv.Unquote(part); err == nil {
			words = append(words, s)
		} else {
			words = append(words, part)
		}
	}
	return words
}
