// Package migrate rewrites a Dockerfile's FROM lines from common official images to
// Spartan's, and points out what will break in the final stage: Spartan runtime images have
// no shell, no package manager and run as an unprivileged user, which Dockerfiles written
// for Debian-based images often assume.
package migrate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// keywords are the instructions a Dockerfile may use.
var keywords = map[string]bool{"FROM": true, "RUN": true, "CMD": true, "LABEL": true, "MAINTAINER": true,
	"EXPOSE": true, "ENV": true, "ADD": true, "COPY": true, "ENTRYPOINT": true, "VOLUME": true, "USER": true,
	"WORKDIR": true, "ARG": true, "ONBUILD": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true}

// heredoc finds a BuildKit here-document opener (<<EOF, <<-"EOF").
var heredoc = regexp.MustCompile(`<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?`)

// instruction is one logical Dockerfile instruction, which may span several physical lines
// joined by the escape character.
type instruction struct {
	line  int    // 1-based line of its first physical line
	lines int    // physical lines it spans
	cmd   string // upper-cased keyword: FROM, RUN, COPY…
	args  string // the rest, continuations joined with a space
}

// parse splits a Dockerfile into instructions. It understands the `# escape=` parser
// directive, comments, line continuations and here-documents; everything else is carried as
// text. An unknown instruction is an error naming its line, as docker build's would be.
func parse(lines []string) ([]instruction, error) {
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
		cmd, args := text, ""
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			cmd, args = text[:i], text[i+1:]
		}
		cmd = strings.ToUpper(cmd)
		if !keywords[cmd] {
			return nil, &ParseError{start + 1, fmt.Sprintf("unknown instruction %q: the Dockerfile does not parse (a continuation line whose previous line lacks its %c?)", firstField(text), escape)}
		}
		if m := heredoc.FindStringSubmatch(args); m != nil && (cmd == "RUN" || cmd == "COPY" || cmd == "ADD") {
			for i+1 < len(lines) {
				i++
				if strings.TrimSpace(lines[i]) == m[1] {
					break
				}
				args += "\n" + lines[i]
				if i == len(lines)-1 {
					return nil, &ParseError{start + 1, fmt.Sprintf("here-document %s has no closing %s line", m[0], m[1])}
				}
			}
		}
		if cmd == "FROM" && strings.TrimSpace(args) == "" {
			return nil, &ParseError{start + 1, "FROM names no image"}
		}
		out = append(out, instruction{line: start + 1, lines: i - start + 1, cmd: cmd, args: strings.TrimSpace(args)})
	}
	return out, nil
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
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
