package migrate

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Change is one FROM line rewritten.
type Change struct {
	Line     int // 1-based
	Old, New string
}

// Warning is something in the Dockerfile that will not work, or works differently, on the
// Spartan image it now uses.
type Warning struct {
	Line    int
	Message string
}

// Result is a migrated Dockerfile. Migrated has the same lines as the input, FROM lines
// replaced one for one, so a line-based diff shows exactly the changes.
type Result struct {
	Original, Migrated string
	Changes            []Change
	Warnings           []Warning
}

// stage is one FROM and the instructions up to the next.
type stage struct {
	index  int
	from   instruction
	parsed from
	ok     bool // the FROM parsed
	body   []instruction
	parent int // index of the stage this one is FROM, -1 for an image
}

// Dockerfile migrates a Dockerfile's text.
func Dockerfile(src string) Result {
	res := Result{Original: src}
	lines := strings.Split(src, "\n")
	instrs := parse(lines)

	args := map[string]string{} // ARGs before the first FROM, with their defaults
	var stages []*stage
	for _, in := range instrs {
		if in.cmd == "FROM" {
			f, ok := parseFrom(in.args)
			stages = append(stages, &stage{index: len(stages), from: in, parsed: f, ok: ok, parent: -1})
			continue
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				k, v, _ := strings.Cut(in.args, "=")
				args[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
			}
			continue
		}
		s := stages[len(stages)-1]
		s.body = append(s.body, in)
	}
	if len(stages) == 0 {
		res.Migrated = src
		return res
	}

	// Which stages feed others: COPY --from, RUN --mount=from, or FROM <stage>.
	names := map[string]int{}
	for _, s := range stages {
		if s.parsed.alias != "" {
			names[strings.ToLower(s.parsed.alias)] = s.index
		}
		if p, ok := names[strings.ToLower(s.parsed.image)]; ok && p != s.index {
			s.parent = p
		}
	}
	lookup := func(ref string) (int, bool) {
		if i, ok := names[strings.ToLower(ref)]; ok {
			return i, true
		}
		if i, err := strconv.Atoi(ref); err == nil && i >= 0 && i < len(stages) {
			return i, true
		}
		return 0, false
	}

	// The final chain: the last stage and the stages it is built FROM. Their instructions
	// run on (and their image is) what ships.
	final := stages[len(stages)-1]
	inFinal := map[int]bool{}
	for s := final; ; s = stages[s.parent] {
		inFinal[s.index] = true
		if s.parent < 0 {
			break
		}
	}
	root := final
	for root.parent >= 0 {
		root = stages[root.parent]
	}
	// A final-chain stage that a build stage also starts FROM must keep build tools.
	sharedWithBuild := map[int]string{}
	for _, s := range stages {
		if !inFinal[s.index] && s.parent >= 0 && inFinal[s.parent] {
			sharedWithBuild[s.parent] = stageName(s)
		}
	}
	// The stages the final chain copies from, to recognise a static Go binary.
	var copied []*stage
	for _, s := range stages {
		if !inFinal[s.index] {
			continue
		}
		for _, in := range s.body {
			for _, r := range fromReferences(in) {
				if i, ok := lookup(r); ok {
					copied = append(copied, stages[i])
				}
			}
		}
	}

	warn := func(line int, format string, a ...any) {
		res.Warnings = append(res.Warnings, Warning{line, fmt.Sprintf(format, a...)})
	}
	var finalImage string // the Spartan runtime image the final stage now uses
	var finalFamily family
	for _, s := range stages {
		if s.parent >= 0 {
			continue // FROM another stage: nothing to rewrite
		}
		if !s.ok {
			warn(s.from.line, "cannot read this FROM: not migrated")
			continue
		}
		image := s.parsed.image
		expanded, unresolved := expand(image, args)
		r := parseRef(expanded)
		if strings.ContainsAny(parseRef(image).repo, "$") {
			warn(s.from.line, "the image comes from a build argument (%s): not migrated; pass a Spartan image as its value", image)
			continue
		}
		f, known := classify(r)
		runtime := inFinal[s.index] && sharedWithBuild[s.index] == ""
		if inFinal[s.index] && !runtime {
			warn(s.from.line, "stage %s is the base of both the final stage and build stage %s: it gets the -dev image (shell, apt, compilers); give the final stage its own FROM %s to ship the runtime image", stageName(s), sharedWithBuild[s.index], f.runtime)
		}
		// A final stage that only runs what a CGO_ENABLED=0 Go build stage produced needs no libc.
		if runtime && goStaticOnly(copied, stages) && (r.repo == "scratch" || r.repo == "alpine" || r.repo == "busybox" || f == base || f == static) {
			f, known = static, true
		}
		if !known {
			continue
		}
		var to string
		switch {
		case f == golang && runtime:
			warn(s.from.line, "the final stage runs on the Go toolchain image; Spartan has none: build in a golang stage with CGO_ENABLED=0, then COPY --from it into FROM %s", static.runtime)
			continue
		case f == golang:
			continue // build stages keep the Go toolchain: Spartan has no Go image
		case runtime:
			to = f.runtime
		case f.dev == "":
			continue
		default:
			to = f.dev
		}
		if unresolved != "" {
			warn(s.from.line, "build argument %s has no default before the first FROM: migrated to %s, which ignores it", unresolved, to)
		} else if strings.Contains(image, "$") {
			warn(s.from.line, "%s picked the version through a build argument; Spartan ships one version per image, so %s no longer depends on it", image, to)
		}
		if n := versionNote(f, r); n != "" && f != static {
			warn(s.from.line, "%s", n)
		}
		if f == base && r.repo == "debian" && r.tag != "" && !strings.Contains(r.tag, "trixie") && !strings.HasPrefix(r.tag, "13") && r.tag != "latest" && r.tag != "stable-slim" && r.tag != "stable" {
			warn(s.from.line, "debian:%s: Spartan images are Debian 13 (trixie): libraries and packages come from trixie", r.tag)
		}
		if strings.Contains(r.tag, "alpine") {
			warn(s.from.line, "%s is Alpine (musl, apk); Spartan is Debian (glibc): apk add becomes apt-get install, and native modules must be rebuilt", r.repo+":"+r.tag)
		}
		if r.digest != "" {
			warn(s.from.line, "the digest pin @%s was dropped: pin the Spartan image's digest instead", r.digest)
		}
		if s.from.lines > 1 {
			warn(s.from.line, "this FROM spans several lines: not rewritten; use %s", to)
			continue
		}
		old := lines[s.from.line-1]
		nu, ok := replaceImage(old, image, to)
		if !ok {
			warn(s.from.line, "cannot find %s on this line: not rewritten; use %s", image, to)
			continue
		}
		lines[s.from.line-1] = nu
		res.Changes = append(res.Changes, Change{Line: s.from.line, Old: old, New: nu})
		if runtime && s == root {
			finalImage, finalFamily = to, f
		}
	}
	if finalImage != "" {
		res.Warnings = append(res.Warnings, finalStageWarnings(stages, inFinal, root, finalImage, finalFamily)...)
	}
	sort.SliceStable(res.Warnings, func(i, j int) bool { return res.Warnings[i].Line < res.Warnings[j].Line })
	res.Migrated = strings.Join(lines, "\n")
	return res
}

// finalStageWarnings lists what the final chain assumes that a Spartan runtime image lacks:
// a shell, a package manager, root, curl.
func finalStageWarnings(stages []*stage, inFinal map[int]bool, root *stage, image string, f family) []Warning {
	var ws []Warning
	warn := func(line int, format string, a ...any) {
		ws = append(ws, Warning{line, fmt.Sprintf(format, a...)})
	}
	hasUser, hasEntrypoint := false, false
	for _, s := range stages {
		if !inFinal[s.index] {
			continue
		}
		for _, in := range s.body {
			switch in.cmd {
			case "USER":
				hasUser = true
				u, _, _ := strings.Cut(in.args, ":")
				_, numeric := strconv.Atoi(u)
				switch {
				case u == "root" || u == "0":
					warn(in.line, "USER %s: %s runs as nonroot (65532); switching to root gives that up", in.args, image)
				case numeric != nil && u != "nonroot" && u != "nobody" && !strings.Contains(u, "$"):
					warn(in.line, "USER %s: %s has the accounts root, nobody and nonroot (65532) only: use USER nonroot or a numeric uid", in.args, image)
				}
			case "ENTRYPOINT":
				hasEntrypoint = true
			}
		}
	}
	for _, s := range stages {
		if !inFinal[s.index] {
			continue
		}
		for _, in := range s.body {
			switch in.cmd {
			case "RUN":
				words := strings.Join(execWords(stripFlags(in.args)), " ")
				switch {
				case hasAny(words, "apt-get", "apt ", "dpkg", "apk ", "yum", "dnf", "pip install", "npm install", "npm ci"):
					warn(in.line, "RUN installs packages, but %s has no shell and no package manager: install in a build stage (a -dev image) and COPY --from it, or add the Debian package to a Spartan spec", image)
				case isExecForm(in.args):
					warn(in.line, "RUN runs in %s, which has no shell and few programs: check that %s exists there, or move this step to a build stage", image, firstWord(in.args))
				default:
					warn(in.line, "RUN needs /bin/sh, which %s does not have: move this step to a build stage (a -dev image) and COPY --from it", image)
				}
			case "SHELL":
				warn(in.line, "SHELL: %s has no shell", image)
			case "CMD", "ENTRYPOINT":
				if !isExecForm(in.args) {
					warn(in.line, "%s in shell form runs /bin/sh -c, which %s does not have: write the exec form [\"prog\", \"arg\"]", in.cmd, image)
					continue
				}
				if in.cmd == "CMD" && !hasEntrypoint && f.entrypoint != "" {
					if w := execWords(in.args); len(w) > 0 && sameProgram(path.Base(w[0]), f.entrypoint) {
						warn(in.line, "%s's ENTRYPOINT already runs %s, so CMD is passed to it as arguments: drop %q from CMD", image, f.entrypoint, w[0])
					}
				}
			case "EXPOSE":
				for _, p := range strings.Fields(in.args) {
					port, _, _ := strings.Cut(p, "/")
					if n, err := strconv.Atoi(port); err == nil && n < 1024 {
						hint := ""
						if f == nginx {
							hint = " (spartan/nginx listens on 8080)"
						}
						warn(in.line, "EXPOSE %s: as nonroot the server cannot bind ports below 1024; listen on a port such as 8080%s and publish it with -p %d:8080", p, hint, n)
					}
				}
			case "HEALTHCHECK":
				a := strings.TrimSpace(in.args)
				switch {
				case strings.EqualFold(a, "NONE"):
				case hasAny(a, "curl", "wget"):
					warn(in.line, "HEALTHCHECK calls curl/wget, which %s does not have: probe from the orchestrator (an HTTP liveness probe) or with a check in your application's language", image)
				case strings.Contains(strings.ToUpper(a), "CMD") && !isExecForm(a[strings.Index(strings.ToUpper(a), "CMD")+3:]):
					warn(in.line, "HEALTHCHECK in shell form runs /bin/sh -c, which %s does not have: write CMD [\"prog\", \"arg\"]", image)
				}
			}
		}
	}
	if !hasUser {
		warn(root.from.line, "no USER: the image used to run as root and %s runs as nonroot (65532): directories the application writes must be writable by it (COPY --chown=65532:65532, or /tmp)", image)
	}
	return ws
}

// goStaticOnly reports whether every stage the final chain copies from is a Go build with
// CGO_ENABLED=0 (and there is at least one).
func goStaticOnly(copied, stages []*stage) bool {
	if len(copied) == 0 {
		return false
	}
	for _, s := range copied {
		r := s
		for r.parent >= 0 {
			r = stages[r.parent]
		}
		if f, _ := classify(parseRef(r.parsed.image)); f != golang {
			return false
		}
		cgoOff := false
		for x := s; ; x = stages[x.parent] {
			for _, in := range x.body {
				if (in.cmd == "RUN" || in.cmd == "ENV" || in.cmd == "ARG") && strings.Contains(strings.ReplaceAll(in.args, " ", "="), "CGO_ENABLED=0") {
					cgoOff = true
				}
			}
			if x.parent < 0 {
				break
			}
		}
		if !cgoOff {
			return false
		}
	}
	return true
}

// expand substitutes $VAR and ${VAR} (and ${VAR:-default}) with the ARG defaults; unresolved
// is the first variable without a value.
func expand(s string, args map[string]string) (out, unresolved string) {
	out = os.Expand(s, func(name string) string {
		name, def, hasDef := strings.Cut(name, ":-")
		if v, ok := args[name]; ok && v != "" {
			return v
		}
		if hasDef {
			return def
		}
		if unresolved == "" {
			unresolved = name
		}
		return ""
	})
	return out, unresolved
}

// replaceImage swaps the image token of a one-line FROM, keeping the keyword's case, flags,
// alias, spacing and comments.
func replaceImage(line, image, to string) (string, bool) {
	kw := strings.Index(strings.ToUpper(line), "FROM")
	if kw < 0 {
		return line, false
	}
	rest := line[kw+4:]
	i := strings.Index(rest, image)
	if i < 0 {
		return line, false
	}
	return line[:kw+4] + rest[:i] + to + rest[i+len(image):], true
}

func stageName(s *stage) string {
	if s.parsed.alias != "" {
		return s.parsed.alias
	}
	return strconv.Itoa(s.index)
}

func stripFlags(args string) string {
	f := strings.Fields(args)
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		f = f[1:]
	}
	return strings.Join(f, " ")
}

func firstWord(args string) string {
	if w := execWords(args); len(w) > 0 {
		return w[0]
	}
	return ""
}

func hasAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// sameProgram: "python3" and "python" name the python3.13 entrypoint too.
func sameProgram(word, entrypoint string) bool {
	if word == entrypoint {
		return true
	}
	return entrypoint == "python3.13" && (word == "python" || word == "python3")
}
