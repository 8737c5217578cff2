package migrate

import (
	"fmt"
	"os"

	"sort"
	"strconv"
	"strings"

	"github.com/spartan-images/spartan/internal/editdist"
)

// Change is one instruction rewritten (a FROM line, or one the shell-less image needs in
// another form).
type Change struct {
	Line     int // 1-based
	Old, New string
}

// Warning is something in the Dockerfile that will not work, or works differently, on the
// Spartan image it now uses; as a Problem, something migration could not rewrite.
type Warning struct {
	Line    int
	Message string
}

// Options configure a migration.
type Options struct {
	// Index checks the packages a final stage's apt-get installs; nil leaves them unchecked.
	Index *Index
	// Name names the custom base image ("myapp" → tag spartan-migrate/myapp:base).
	Name string
	// Context is the build context, to read package.json when CMD is npm start; "" when
	// there is none.
	Context string
}

// Result is a migrated Dockerfile.
type Result struct {
	Original, Migrated string
	Changes            []Change
	Warnings           []Warning
	// Problems are what could not be migrated: the image will not build or not run until
	// they are fixed by hand.
	Problems []Warning
	// Base is the custom base image the final stage now starts FROM, nil when the catalog
	// image serves as is.
	Base *Base
}

// ParseError is a Dockerfile that cannot be read.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// stage is one FROM and the instructions up to the next.
type stage struct {
	index  int
	from   instruction
	parsed from
	ok     bool // the FROM parsed
	body   []instruction
	parent int // index of the stage this one is FROM, -1 for an image
}

// Dockerfile migrates a Dockerfile's text: FROM lines to Spartan images and, for the final
// stage, what needs a shell or a package manager into what the shell-less image can do.
func Dockerfile(src string, o Options) (Result, error) {
	res := Result{Original: src}
	lines := strings.Split(src, "\n")
	instrs, err := parse(lines)
	if err != nil {
		return res, err
	}

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
				continue
			}
			return res, &ParseError{in.line, fmt.Sprintf("%s before the first FROM: only ARG may come before it", in.cmd)}
		}
		s := stages[len(stages)-1]
		s.body = append(s.body, in)
	}
	if len(stages) == 0 {
		res.Migrated = src
		return res, nil
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
			if runtime && s == root && r.repo != "scratch" {
				res.Problems = append(res.Problems, Warning{s.from.line, unknownImage(r.repo)})
			}
			continue
		}
		var to string
		switch {
		case f == golang && runtime:
			warn(s.from.line, "the final stage runs on the Go toolchain image: build in a spartan/static:dev stage (it has Debian's Go, CGO_ENABLED=0), then COPY --from it into FROM %s", static.runtime)
			continue
		case f == golang:
			// spartan/static:dev carries Debian's Go toolchain with CGO_ENABLED=0.
			to = static.dev
			if v := requestedVersion(r); v != "" {
				warn(s.from.line, "%s asks for Go %s; spartan/static:dev builds with Debian trixie's Go (1.24) and CGO_ENABLED=0", r.repo, v)
			}
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
	var edits map[int][]string
	var deps []string
	if finalImage != "" {
		t := &transformer{o: o, res: &res, fam: finalFamily, image: finalImage, stages: stages, inFinal: inFinal,
			users: map[string]bool{}, chmods: map[string]chmod{}, pkgLines: map[string]int{},
			runs: map[int]*finalRun{}}
		// The official images' own accounts, which Spartan's images do not have.
		switch finalFamily {
		case node:
			t.users["node"] = true
		case nginx:
			t.users["nginx"] = true
		}
		t.classify()
		edits, deps = t.rewrite()
		res.Warnings = append(res.Warnings, finalStageWarnings(stages, inFinal, root, finalImage, finalFamily, t)...)
		if len(t.base.Packages) > 0 || len(t.base.Dirs) > 0 || len(t.base.Links) > 0 || t.base.Probe {
			b := t.base
			b.Catalog = finalFamily.name
			b.Tag = "spartan-migrate/" + imageName(o.Name) + ":base"
			res.Base = &b
			nu, _ := replaceImage(lines[root.from.line-1], finalImage, b.Tag)
			res.Changes = append(res.Changes, Change{Line: root.from.line, Old: lines[root.from.line-1], New: nu})
			lines[root.from.line-1] = nu
		}
	}
	sort.SliceStable(res.Warnings, func(i, j int) bool { return res.Warnings[i].Line < res.Warnings[j].Line })
	sort.SliceStable(res.Problems, func(i, j int) bool { return res.Problems[i].Line < res.Problems[j].Line })
	res.Migrated = assemble(lines, instrs, edits, final.from.line, deps, &res)
	return res, nil
}

// assemble applies the instruction edits to the lines and inserts the -deps stage before the
// final stage, keeping the original's line ending.
func assemble(lines []string, instrs []instruction, edits map[int][]string, finalLine int, deps []string, res *Result) string {
	cr := ""
	if len(lines) > 0 && strings.HasSuffix(lines[0], "\r") {
		cr = "\r"
	}
	span := map[int]int{}
	for _, in := range instrs {
		span[in.line] = in.lines
	}
	var out []string
	for i := 0; i < len(lines); i++ {
		if i+1 == finalLine && len(deps) > 0 {
			for _, d := range deps {
				out = append(out, d+cr)
			}
		}
		nu, ok := edits[i+1]
		if !ok {
			out = append(out, lines[i])
			continue
		}
		n := span[i+1]
		res.Changes = append(res.Changes, Change{Line: i + 1, Old: strings.Join(lines[i:i+n], "\n"), New: strings.Join(nu, "\n")})
		for _, l := range nu {
			out = append(out, l+cr)
		}
		i += n - 1
	}
	sort.SliceStable(res.Changes, func(i, j int) bool { return res.Changes[i].Line < res.Changes[j].Line })
	return strings.Join(out, "\n")
}

// imageName turns a directory name into a repository name component.
func imageName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && r != '.' || r == '.':
			b.WriteByte('-')
		}
	}
	n := strings.Trim(b.String(), "-")
	if n == "" {
		return "app"
	}
	return n
}

// unknownImage explains a final stage on an image Spartan has no counterpart for, suggesting
// the catalog name a typo was meant to be.
func unknownImage(repo string) string {
	known := []string{"python", "node", "eclipse-temurin", "openjdk", "amazoncorretto", "nginx", "debian", "golang"}
	if k := editdist.Closest(repo, known, 2); k != "" {
		return fmt.Sprintf("FROM %s: no such image in Spartan's catalog; did you mean %s?", repo, k)
	}
	return fmt.Sprintf("FROM %s: no such image in Spartan's catalog (python, node, java, nginx, base, static): the final stage is not migrated", repo)
}

// finalStageWarnings lists what the final chain assumes that a Spartan runtime image lacks:
// a shell, a package manager, root, curl.
func finalStageWarnings(stages []*stage, inFinal map[int]bool, root *stage, image string, f family, t *transformer) []Warning {
	var ws []Warning
	warn := func(line int, format string, a ...any) {
		ws = append(ws, Warning{line, fmt.Sprintf(format, a...)})
	}
	hasUser := false
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
				case numeric != nil && u != "nonroot" && u != "nobody" && !strings.Contains(u, "$") && !t.users[u]:
					warn(in.line, "USER %s: %s has the accounts root, nobody and nonroot (65532) only: use USER nonroot or a numeric uid", in.args, image)
				}
			}
		}
	}
	for _, s := range stages {
		if !inFinal[s.index] {
			continue
		}
		for _, in := range s.body {
			switch in.cmd {
			case "SHELL":
				warn(in.line, "SHELL: %s has no shell", image)
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
	kw := indexFold(line, "FROM")
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
