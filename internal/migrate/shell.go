package migrate

import (
	"fmt"
	"strings"
)

// command is one simple command of a shell line: its leading VAR=value assignments and words.
type command struct {
	env   []string
	words []string
}

// shellError says why a shell string cannot be rewritten without a shell.
type shellError struct{ what string }

func (e *shellError) Error() string { return e.what }

// splitShell splits a RUN or CMD string into simple commands joined by && or ;, with quotes
// removed and variables left as written. What needs a real shell to mean anything — pipes,
// ||, redirections, command substitution, subshells, background jobs — is an error naming it.
func splitShell(s string) ([]command, error) {
	var cmds []command
	var cur command
	var word strings.Builder
	inWord := false
	flushWord := func() {
		if !inWord {
			return
		}
		w := word.String()
		if len(cur.words) == 0 && isAssignment(w) {
			cur.env = append(cur.env, w)
		} else {
			cur.words = append(cur.words, w)
		}
		word.Reset()
		inWord = false
	}
	flushCmd := func() error {
		flushWord()
		if len(cur.words) == 0 && len(cur.env) == 0 {
			return &shellError{"an empty command between && or ;"}
		}
		cmds = append(cmds, cur)
		cur = command{}
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, &shellError{"an unterminated ' quote"}
			}
			word.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0:
					i++
					word.WriteByte(s[i])
				case s[i] == '`' || s[i] == '$' && i+1 < len(s) && s[i+1] == '(':
					return nil, &shellError{"a command substitution"}
				default:
					word.WriteByte(s[i])
				}
			}
			if i >= len(s) {
				return nil, &shellError{`an unterminated " quote`}
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			word.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			flushWord()
		case c == '&' && i+1 < len(s) && s[i+1] == '&':
			if err := flushCmd(); err != nil {
				return nil, err
			}
			i++
		case c == ';':
			if err := flushCmd(); err != nil {
				return nil, err
			}
		case c == '|' && i+1 < len(s) && s[i+1] == '|':
			return nil, &shellError{"|| (run on failure)"}
		case c == '|':
			return nil, &shellError{"a pipe (|)"}
		case c == '>' || c == '<':
			return nil, &shellError{fmt.Sprintf("a redirection (%c)", c)}
		case c == '&':
			return nil, &shellError{"a background job (&)"}
		case c == '`' || c == '$' && i+1 < len(s) && s[i+1] == '(':
			return nil, &shellError{"a command substitution"}
		case c == '(' || c == ')':
			return nil, &shellError{"a subshell ( )"}
		case c == '*' || c == '?' || c == '~':
			// Globs and ~ are expanded by the shell; as plain words they mean something else.
			word.WriteByte(c)
			inWord = true
			if len(cur.words) == 0 || !globTolerant(cur.words[0]) {
				return nil, &shellError{fmt.Sprintf("a pattern the shell expands (%c)", c)}
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flushWord()
	if len(cur.words) > 0 || len(cur.env) > 0 {
		cmds = append(cmds, cur)
	} else if len(cmds) > 0 {
		return nil, &shellError{"a trailing && or ;"}
	}
	return cmds, nil
}

// globTolerant: commands migration drops entirely (cleanups), where a glob does no harm.
func globTolerant(prog string) bool {
	return prog == "rm" || prog == "apt-get" || prog == "apt" || prog == "chmod" || prog == "chown"
}

func isAssignment(w string) bool {
	k, _, ok := strings.Cut(w, "=")
	if !ok || k == "" {
		return false
	}
	for i, c := range k {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// expandVars substitutes $VAR, ${VAR} and ${VAR:-default} from env, the values the image sets.
// defaults collects the ${VAR:-default} forms whose variable env does not set: they become ENV
// lines. A variable with neither a value nor a default is returned as unknown.
func expandVars(w string, env map[string]string, defaults map[string]string) (out string, unknown string) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] != '$' || i+1 >= len(w) {
			b.WriteByte(w[i])
			continue
		}
		var name, def string
		hasDef := false
		if w[i+1] == '{' {
			end := strings.IndexByte(w[i:], '}')
			if end < 0 {
				return "", w[i:]
			}
			inner := w[i+2 : i+end]
			name, def, hasDef = strings.Cut(inner, ":-")
			if !hasDef {
				name, def, hasDef = strings.Cut(inner, "-")
			}
			i += end
		} else {
			j := i + 1
			for j < len(w) && (w[j] == '_' || w[j] >= 'A' && w[j] <= 'Z' || w[j] >= 'a' && w[j] <= 'z' || w[j] >= '0' && w[j] <= '9') {
				j++
			}
			if j == i+1 {
				b.WriteByte('$')
				continue
			}
			name = w[i+1 : j]
			i = j - 1
		}
		switch v, ok := env[name]; {
		case ok:
			b.WriteString(v)
		case hasDef:
			if defaults != nil {
				defaults[name] = def
			}
			b.WriteString(def)
		default:
			if unknown == "" {
				unknown = name
			}
		}
	}
	return b.String(), unknown
}
