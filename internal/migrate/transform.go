package migrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ProbePath is the health-check probe every catalog runtime image carries: it takes one URL
// (http://, https:// or tcp://host:port) and exits 0 when the service answers.
const ProbePath = "/usr/bin/spartan-probe"

// nonroot is the uid and gid Spartan runtime images run as.
const nonroot = "65532"

// venv is where a final stage's pip installs go, built in the -deps stage and copied over.
const venv = "/opt/venv"

// Base is the custom base image a migration needs when the final stage installed Debian
// packages or made directories: a spec extending the catalog image, built by Spartan.
type Base struct {
	Catalog  string // catalog image it extends: python, node, java, nginx, base, static
	Packages []string
	Dirs     []Dir
	Links    []Link
	// Probe installs /usr/bin/spartan-probe, which a converted HEALTHCHECK runs; catalog
	// images carry it only when a spec asks.
	Probe bool
	Tag   string // the tag the migrated Dockerfile's final FROM uses
}

// Dir is a directory the spec creates (the Dockerfile's mkdir, chown, chmod).
type Dir struct {
	Path  string
	Mode  string // octal, "0755" when the Dockerfile did not chmod it
	Owner string // "65532:65532": the account the application runs as
}

// Link is a symbolic link the spec creates (the Dockerfile's ln -s).
type Link struct{ Path, Target string }

// chmod is a mode a final-stage RUN chmod gave a path.
type chmod struct {
	mode string
	line int
}

// runKind is what a final-stage RUN becomes.
type runKind int

const (
	runDrop    runKind = iota // folded into the spec or COPY flags
	runMove                   // moved to the -deps build stage
	runProblem                // stays as written; a problem was reported
)

// finalRun is a classified final-stage RUN.
type finalRun struct {
	in   instruction
	kind runKind
	// deps are the commands to run in the -deps stage when kind is runMove.
	deps []string
	// prefixes are what the -deps stage produced that the final stage must COPY.
	prefixes []string
}

// transformer rewrites the final chain of stages for a shell-less image.
type transformer struct {
	o        Options
	res      *Result
	fam      family
	image    string // the Spartan runtime image the final stage uses
	stages   []*stage
	inFinal  map[int]bool
	users    map[string]bool // accounts (and uids) the Dockerfile creates
	chowned  []string        // paths chowned to those accounts
	chmods   map[string]chmod
	base     Base
	pkgLines map[string]int
	runs     map[int]*finalRun // by line
	lastMove int               // line of the last RUN moved to -deps, 0 when none
	// depsNeedBase: the -deps stage runs a tool that only the custom base's packages bring
	// (Ruby), so it installs them too.
	depsNeedBase bool
}

func (t *transformer) problem(line int, format string, a ...any) {
	t.res.Problems = append(t.res.Problems, Warning{line, fmt.Sprintf(format, a...)})
}

func (t *transformer) note(line int, format string, a ...any) {
	t.res.Warnings = append(t.res.Warnings, Warning{line, fmt.Sprintf(format, a...)})
}

func (t *transformer) body() []instruction {
	var out []instruction
	for _, s := range t.stages {
		if t.inFinal[s.index] {
			out = append(out, s.body...)
		}
	}
	return out
}

// classify decides what becomes of each final-stage RUN (first pass: what the Dockerfile
// creates — accounts, directories, packages — is known before COPY and USER are rewritten).
func (t *transformer) classify() {
	workdir := "/"
	for _, in := range t.body() {
		switch in.cmd {
		case "WORKDIR":
			workdir = resolvePath(workdir, in.args)
		case "RUN":
			t.classifyRun(in, workdir)
		}
	}
}

func (t *transformer) classifyRun(in instruction, workdir string) {
	r := &finalRun{in: in, kind: runDrop}
	t.runs[in.line] = r
	script := stripFlags(in.args)
	var cmds []command
	if isExecForm(script) {
		words, err := jsonWords(script)
		if err != nil {
			t.problem(in.line, "RUN %s: %v", script, err)
			r.kind = runProblem
			return
		}
		cmds = []command{{words: words}}
	} else {
		var err error
		if cmds, err = splitShell(script); err != nil {
			t.problem(in.line, "RUN uses %v, which needs a shell; %s has none: move this step to a build stage (a -dev image) and COPY its result", err, t.image)
			r.kind = runProblem
			return
		}
	}
	for _, c := range cmds {
		if len(c.words) == 0 {
			continue // a bare assignment
		}
		if why := t.classifyCommand(in, r, c, workdir); why != "" {
			t.problem(in.line, "RUN %s: %s", strings.Join(c.words, " "), why)
			r.kind = runProblem
		}
	}
	if r.kind == runMove {
		t.lastMove = in.line
	}
}

// classifyCommand handles one simple command of a final-stage RUN; it returns why it cannot be
// migrated, or "".
func (t *transformer) classifyCommand(in instruction, r *finalRun, c command, workdir string) string {
	w := c.words
	if w[0] == "sudo" || w[0] == "exec" {
		w = w[1:]
		if len(w) == 0 {
			return ""
		}
	}
	args := operands(w[1:])
	prog := path.Base(w[0])
	switch prog {
	case "apt-get", "apt", "aptitude":
		sub := ""
		if len(args) > 0 {
			sub = args[0]
		}
		switch sub {
		case "update", "clean", "autoclean", "autoremove", "upgrade", "dist-upgrade", "purge", "remove":
			return "" // the image is built from the current release: nothing to update or clean
		case "install":
			for _, p := range args[1:] {
				t.addPackage(in.line, p)
			}
			return ""
		}
		return fmt.Sprintf("apt-get %s has no counterpart in a spec", sub)
	case "apk":
		sub := ""
		if len(args) > 0 {
			sub = args[0]
		}
		switch sub {
		case "update", "upgrade", "cache":
			return ""
		case "add":
			for _, p := range args[1:] {
				t.addPackage(in.line, p)
			}
			return ""
		}
		return fmt.Sprintf("apk %s has no counterpart in a spec", sub)
	case "rm":
		for _, a := range args {
			if !disposable(a) {
				return fmt.Sprintf("removes %s from the image, which has no shell to do it: leave it out of the image (.dockerignore, or a build stage)", a)
			}
		}
		return ""
	case "echo", "true", ":":
		return ""
	case "useradd", "adduser", "groupadd", "addgroup":
		for _, a := range args {
			t.users[a] = true
		}
		// A uid the Dockerfile gave the account is what USER and --chown may name it by.
		for i, x := range w {
			if (x == "-u" || x == "--uid" || x == "-g" || x == "--gid") && i+1 < len(w) {
				t.users[w[i+1]] = true
			}
			if v, ok := strings.CutPrefix(x, "--uid="); ok {
				t.users[v] = true
			}
		}
		return ""
	case "chown":
		if len(args) < 2 {
			return "chown needs an owner and a path"
		}
		for _, p := range args[1:] {
			t.chowned = append(t.chowned, resolvePath(workdir, p))
		}
		return ""
	case "chmod":
		if len(args) < 2 {
			return "chmod needs a mode and a path"
		}
		mode := args[0]
		if _, err := strconv.ParseUint(mode, 8, 32); err != nil {
			if mode != "+x" && mode != "a+x" && mode != "u+x" && mode != "755" {
				return fmt.Sprintf("mode %s: only octal modes and +x can become COPY --chmod", mode)
			}
			mode = "0755"
		}
		for _, p := range args[1:] {
			t.chmods[resolvePath(workdir, p)] = chmod{fmt.Sprintf("%04s", strings.TrimPrefix(mode, "0")), in.line}
		}
		return ""
	case "mkdir":
		for _, p := range args {
			t.addDir(resolvePath(workdir, p))
		}
		return ""
	case "ln":
		if len(args) == 2 && hasFlag(w, "-s", "-sf", "-fs", "-snf") {
			t.base.Links = append(t.base.Links, Link{Path: resolvePath(workdir, args[1]), Target: args[0]})
			return ""
		}
		return "only ln -s TARGET LINK can become a symlink in the spec"
	case "pip", "pip3", "python", "python3":
		if prog == "python" || prog == "python3" {
			if len(w) < 3 || w[1] != "-m" || w[2] != "pip" {
				return fmt.Sprintf("runs Python at build time; %s has no shell to do it in: move it to a build stage", t.image)
			}
			w = w[2:]
		}
		if len(w) < 2 || w[1] != "install" {
			return "only pip install can move to a build stage"
		}
		if t.fam != python {
			return fmt.Sprintf("pip install on %s: there is no Python to install into", t.image)
		}
		var keep []string
		for _, a := range w[2:] {
			if a != "--user" && a != "--break-system-packages" && a != "--system" {
				keep = append(keep, shellQuote(a))
			}
		}
		r.deps = append(r.deps, venv+"/bin/pip install "+strings.Join(keep, " "))
		r.prefixes = appendNew(r.prefixes, venv)
		r.kind = runMove
		return ""
	case "npm", "yarn", "pnpm":
		sub := ""
		if len(args) > 0 {
			sub = args[0]
		}
		if !(sub == "ci" || sub == "install" || sub == "i" || prog == "yarn" && sub == "") {
			return fmt.Sprintf("%s %s is a build step: move it to a build stage and COPY its output", prog, sub)
		}
		if t.fam != node {
			return fmt.Sprintf("%s on %s: there is no Node.js to install for", prog, t.image)
		}
		// A package without dependencies gets no node_modules, which COPY needs to exist.
		r.deps = append(r.deps, joinQuoted(w)+" && mkdir -p node_modules")
		r.prefixes = appendNew(r.prefixes, path.Join(workdir, "node_modules"))
		r.kind = runMove
		return ""
	case "bundle":
		if len(args) == 0 || args[0] != "install" {
			return "only bundle install can move to a build stage"
		}
		// No Spartan image carries Ruby: the final stage has it from the packages its
		// apt-get installs, now in the custom base, and the -deps stage needs the same.
		if !contains(t.base.Packages, "ruby") && !slices.ContainsFunc(t.base.Packages, isRubyPackage) {
			return fmt.Sprintf("bundle install on %s: there is no Ruby; install it with apt-get (ruby, ruby-bundler) before this line", t.image)
		}
		t.depsNeedBase = true
		r.deps = append(r.deps, "bundle config set --local path vendor/bundle && "+joinQuoted(w))
		r.prefixes = appendNew(r.prefixes, path.Join(workdir, "vendor/bundle"), path.Join(workdir, ".bundle"))
		r.kind = runMove
		return ""
	}
	return fmt.Sprintf("%s has no shell and no %s: move this step to a build stage (a -dev image) and COPY its result", t.image, prog)
}

func (t *transformer) addPackage(line int, name string) {
	if t.o.Index == nil {
		t.base.Packages = appendNew(t.base.Packages, name)
		t.pkgLines[name] = line
		return
	}
	names, note, ok := t.o.Index.translate(name)
	if !ok {
		t.problem(line, "apt-get install %s: Debian %s has no package %s%s", name, t.o.Index.Release, name, t.o.Index.suggest(name))
		return
	}
	if note != "" {
		t.note(line, "%s", note)
	}
	for _, n := range names {
		t.base.Packages = appendNew(t.base.Packages, n)
		t.pkgLines[n] = line
	}
}

func (t *transformer) addDir(p string) {
	for _, d := range t.base.Dirs {
		if d.Path == p {
			return
		}
	}
	t.base.Dirs = append(t.base.Dirs, Dir{Path: p})
}

// finish settles the spec's directories: their owner (chowned to the Dockerfile's account →
// nonroot) and mode, and the packages only the replaced health check needed.
func (t *transformer) finish(workdirs []string) {
	for _, c := range t.chowned {
		found := false
		for _, d := range t.base.Dirs {
			found = found || d.Path == c
		}
		// A chowned WORKDIR must be writable by nonroot: the spec creates it owned so.
		if !found && contains(workdirs, c) {
			t.base.Dirs = append(t.base.Dirs, Dir{Path: c})
		}
	}
	for i := range t.base.Dirs {
		d := &t.base.Dirs[i]
		// The application ran as whoever made these; here it runs as nonroot.
		d.Owner = nonroot + ":" + nonroot
		d.Mode = "0755"
		if m, ok := t.chmods[d.Path]; ok {
			d.Mode = m.mode
			delete(t.chmods, d.Path)
		}
	}
	left := make([]string, 0, len(t.chmods))
	for p := range t.chmods {
		left = append(left, p)
	}
	sort.Strings(left)
	for _, p := range left {
		m := t.chmods[p]
		t.note(m.line, "chmod %s %s: left out; the file keeps the mode it has in the build context (set it there, or COPY it alone with --chmod=%s)", m.mode, p, m.mode)
	}
	sort.Slice(t.base.Dirs, func(i, j int) bool { return t.base.Dirs[i].Path < t.base.Dirs[j].Path })
	if t.base.Probe {
		var keep []string
		for _, p := range t.base.Packages {
			if p == "curl" || p == "wget" {
				t.note(t.pkgLines[p], "%s was installed for the HEALTHCHECK, which now uses %s: left out", p, ProbePath)
				continue
			}
			keep = append(keep, p)
		}
		t.base.Packages = keep
	}
}

func (t *transformer) isChowned(p string) bool {
	for _, c := range t.chowned {
		if p == c || strings.HasPrefix(p, strings.TrimSuffix(c, "/")+"/") {
			return true
		}
	}
	return false
}

// rewrite is the second pass: the final chain's instructions as the shell-less image needs
// them. It returns replacement lines by instruction line (nil: keep) and the -deps stage.
func (t *transformer) rewrite() (edits map[int][]string, deps []string) {
	edits = map[int][]string{}
	env := map[string]string{}
	workdir := "/"
	var workdirs []string
	hasEntrypoint := false
	for _, in := range t.body() {
		if in.cmd == "ENTRYPOINT" {
			hasEntrypoint = true
		}
	}
	depsName := t.depsName()
	var depsBody []string
	copiedPrefix := false
	depsLen := 0        // depsBody up to the last moved RUN
	var copied []string // prefixes already copied from -deps
	for _, in := range t.body() {
		switch in.cmd {
		case "ENV":
			for k, v := range parseEnv(in.args) {
				env[k] = v
			}
			depsBody = append(depsBody, "ENV "+in.args)
		case "ARG":
			depsBody = append(depsBody, "ARG "+in.args)
		case "WORKDIR":
			workdir = resolvePath(workdir, in.args)
			workdirs = append(workdirs, workdir)
			depsBody = append(depsBody, "WORKDIR "+in.args)
		case "USER":
			u, _, _ := strings.Cut(in.args, ":")
			if t.users[u] {
				edits[in.line] = []string{"USER " + nonroot}
			}
		case "COPY", "ADD":
			nu := t.rewriteCopy(in, workdir)
			var lines []string
			if len(workdirs) == 0 && relativeDest(in.args) {
				// The official images work in /, Spartan's in /home/nonroot: a relative
				// destination before any WORKDIR meant /.
				lines = append(lines, "WORKDIR /")
				workdirs = append(workdirs, "/")
			}
			if nu != in.cmd+" "+in.args || len(lines) > 0 {
				edits[in.line] = append(lines, nu)
			}
			if !strings.Contains(in.args, "--from=") {
				depsBody = append(depsBody, in.cmd+" "+stripOwnerFlags(in.args))
			}
		case "RUN":
			r := t.runs[in.line]
			switch r.kind {
			case runDrop:
				edits[in.line] = []string{}
			case runMove:
				for _, d := range r.deps {
					if strings.HasPrefix(d, venv+"/") && !contains(depsBody, "RUN python3 -m venv "+venv) {
						depsBody = append(depsBody, "RUN python3 -m venv "+venv)
					}
					depsBody = append(depsBody, "RUN "+d)
				}
				var lines []string
				chown := ""
				for _, p := range r.prefixes {
					if contains(copied, p) {
						continue // an earlier install's COPY brings it over
					}
					copied = append(copied, p)
					if t.isChowned(p) {
						chown = "--chown=" + nonroot + ":" + nonroot + " "
					}
					lines = append(lines, fmt.Sprintf("COPY %s--from=%s %s %s", chown, depsName, p, p))
					if p == venv && !copiedPrefix {
						lines = append(lines, fmt.Sprintf(`ENV PATH="%s/bin:$PATH" PYTHONPATH="%s/lib/python%s/site-packages"`, venv, venv, python.version))
						env["PATH"] = venv + "/bin"
					}
				}
				copiedPrefix = true
				depsLen = len(depsBody)
				edits[in.line] = lines
			}
		case "CMD", "ENTRYPOINT":
			if lines, ok := t.rewriteCommand(in, env, hasEntrypoint); ok {
				edits[in.line] = lines
			}
		case "HEALTHCHECK":
			if lines, ok := t.rewriteHealthcheck(in, env); ok {
				edits[in.line] = lines
			}
		}
	}
	t.finish(workdirs)
	if t.lastMove == 0 {
		return edits, nil
	}
	// The -deps stage runs everything up to the last moved RUN: the files it installs from
	// (requirements.txt, package.json) come from the COPYs before it.
	deps = []string{"FROM " + t.fam.dev + " AS " + depsName}
	if t.depsNeedBase {
		deps = append(deps, "RUN apt-get update && apt-get install -y --no-install-recommends "+strings.Join(t.base.Packages, " ")+" && rm -rf /var/lib/apt/lists/*")
	}
	deps = append(deps, depsBody[:depsLen]...)
	return edits, append(deps, "")
}

func (t *transformer) depsName() string {
	name := "deps"
	for _, s := range t.stages {
		if strings.EqualFold(s.parsed.alias, name) {
			name = "spartan-deps"
		}
	}
	return name
}

// rewriteCopy gives COPY/ADD the owner and mode that the dropped chown/chmod gave their files.
func (t *transformer) rewriteCopy(in instruction, workdir string) string {
	fields := strings.Fields(in.args)
	var flags, rest []string
	for i, f := range fields {
		if !strings.HasPrefix(f, "--") {
			rest = fields[i:]
			break
		}
		flags = append(flags, f)
	}
	if len(rest) < 2 || isExecForm(strings.Join(rest, " ")) {
		return in.cmd + " " + in.args
	}
	dest := resolvePath(workdir, rest[len(rest)-1])
	hasChown := false
	for i, f := range flags {
		if v, ok := strings.CutPrefix(f, "--chown="); ok {
			hasChown = true
			u, _, _ := strings.Cut(v, ":")
			if t.users[u] {
				flags[i] = "--chown=" + nonroot + ":" + nonroot
			}
		}
	}
	if !hasChown && t.isChowned(dest) {
		flags = append(flags, "--chown="+nonroot+":"+nonroot)
	}
	for p, m := range t.chmods {
		if p == dest || len(rest) == 2 && p == path.Join(dest, path.Base(rest[0])) {
			flags = append(flags, "--chmod="+m.mode)
			delete(t.chmods, p)
			break
		}
	}
	return in.cmd + " " + strings.Join(append(flags, rest...), " ")
}

// rewriteCommand turns CMD/ENTRYPOINT into an exec form that runs on the image: no shell, and
// the image's own ENTRYPOINT taken into account.
func (t *transformer) rewriteCommand(in instruction, env map[string]string, hasEntrypoint bool) ([]string, bool) {
	args := strings.TrimSpace(in.args)
	var words []string
	script, shellForm := "", !isExecForm(args)
	if shellForm {
		script = args
	} else {
		w, err := jsonWords(args)
		if err != nil {
			t.problem(in.line, "%s %s: %v", in.cmd, args, err)
			return nil, false
		}
		if len(w) >= 3 && (path.Base(w[0]) == "sh" || path.Base(w[0]) == "bash") && w[1] == "-c" {
			if len(w) > 3 {
				t.problem(in.line, "%s passes arguments to sh -c: write the command as an exec form list", in.cmd)
				return nil, false
			}
			script, shellForm = w[2], true
		} else {
			words = w
		}
	}
	var lines []string
	if shellForm {
		cmds, err := splitShell(script)
		switch {
		case err != nil:
			t.problem(in.line, "%s %q uses %v, which needs a shell; %s has none: put it in a script in your application's language, or run the steps as separate processes", in.cmd, script, err, t.image)
			return nil, false
		case len(cmds) != 1:
			t.problem(in.line, "%s %q runs %d commands (&& or ;), which needs a shell; %s has none: run one program (a script in your application's language can run the others)", in.cmd, script, len(cmds), t.image)
			return nil, false
		}
		c := cmds[0]
		if len(c.words) > 0 && c.words[0] == "exec" {
			c.words = c.words[1:]
		}
		defaults := map[string]string{}
		for _, a := range c.env {
			k, v, _ := strings.Cut(a, "=")
			lines = append(lines, fmt.Sprintf("ENV %s=%s", k, shellQuote(v)))
			env[k] = v
		}
		for _, w := range c.words {
			x, unknown := expandVars(w, env, defaults)
			if unknown != "" && t.fam == java && strings.HasPrefix(unknown, "JAVA_OPTS") && strings.TrimSpace(strings.Trim(w, "${}")) == unknown {
				// The JVM reads JAVA_TOOL_OPTIONS itself: no shell needed to pass options.
				t.note(in.line, "%s: $%s is not set by the Dockerfile and was left out; set JAVA_TOOL_OPTIONS at run time instead, which the JVM reads itself", in.cmd, unknown)
				continue
			}
			if unknown != "" {
				t.problem(in.line, "%s uses $%s, which the Dockerfile does not set: without a shell nothing expands it; give it a default (${%s:-value}) or an ENV", in.cmd, unknown, unknown)
				return nil, false
			}
			if strings.Contains(w, "$") {
				// An unquoted expansion is split into words; an empty one disappears.
				words = append(words, strings.Fields(x)...)
				continue
			}
			words = append(words, x)
		}
		keys := make([]string, 0, len(defaults))
		for k := range defaults {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			lines = append(lines, fmt.Sprintf("ENV %s=%s", k, shellQuote(defaults[k])))
			env[k] = defaults[k]
			t.note(in.line, "%s's ${%s:-%s} is now ENV %s=%s and the value is fixed in the command: set it when building, or pass the argument at run time", in.cmd, k, defaults[k], k, defaults[k])
		}
	}
	if len(words) == 0 {
		t.problem(in.line, "%s runs nothing", in.cmd)
		return nil, false
	}
	if path.Base(words[0]) == "npm" || path.Base(words[0]) == "yarn" {
		w, err := t.npmScript(words)
		if err != nil {
			t.problem(in.line, "%s %s: %s has no npm: %v", in.cmd, strings.Join(words, " "), t.image, err)
			return nil, false
		}
		t.note(in.line, "%s %s runs package.json's script directly: %s", in.cmd, strings.Join(words, " "), strings.Join(w, " "))
		words = w
	}
	if strings.HasSuffix(words[0], ".sh") {
		t.problem(in.line, "%s runs the shell script %s; %s has no shell: do its steps in the Dockerfile or in your application", in.cmd, words[0], t.image)
		return nil, false
	}
	cmd := in.cmd
	switch {
	case t.fam.entrypoint == "":
	case in.cmd == "CMD" && !hasEntrypoint && sameProgram(path.Base(words[0]), t.fam.entrypoint):
		// The image's ENTRYPOINT already is this program: CMD carries its arguments.
		words = words[1:]
		if t.fam == nginx && len(words) == 2 && words[0] == "-g" && strings.HasPrefix(strings.TrimSpace(words[1]), "daemon off") {
			return append(lines, "# CMD: "+t.image+" runs nginx -g 'daemon off;' already"), true
		}
	case in.cmd == "CMD" && !hasEntrypoint:
		// Another program: it replaces the image's ENTRYPOINT, as it ran alone before.
		cmd = "ENTRYPOINT"
	case sameProgram(path.Base(words[0]), t.fam.entrypoint) && !strings.HasPrefix(words[0], "/"):
		words = append([]string{t.fam.entrypointPath}, words[1:]...)
	}
	if !shellForm && cmd == in.cmd && len(lines) == 0 && len(words) > 0 && sameWords(words, execWords(args)) {
		return nil, false
	}
	return append(lines, cmd+" "+jsonList(words)), true
}

// npmScript is the command an `npm start` / `npm run NAME` runs, read from package.json in
// the build context, when it is one program started without a shell.
func (t *transformer) npmScript(words []string) ([]string, error) {
	name := ""
	switch {
	case len(words) == 2 && (words[1] == "start" || words[1] == "test"):
		name = words[1]
	case len(words) == 3 && (words[1] == "run" || words[1] == "run-script"):
		name = words[2]
	default:
		return nil, errors.New("only npm start and npm run NAME can be read from package.json")
	}
	if t.o.Context == "" {
		return nil, errors.New("no build context to read package.json from: write the exec form [\"node\", \"server.js\"]")
	}
	b, err := os.ReadFile(filepath.Join(t.o.Context, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("read package.json: %w", err)
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
		Main    string            `json:"main"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return nil, fmt.Errorf("package.json: %w", err)
	}
	script, ok := pkg.Scripts[name]
	if !ok && name == "start" && pkg.Main != "" {
		script = "node " + pkg.Main // npm start's default
	} else if !ok && name == "start" {
		script = "node server.js" // npm start's default without a main
	}
	if script == "" {
		return nil, fmt.Errorf("package.json has no %s script", name)
	}
	cmds, err := splitShell(script)
	if err != nil || len(cmds) != 1 || len(cmds[0].env) > 0 || len(cmds[0].words) == 0 || cmds[0].words[0] != "node" {
		return nil, fmt.Errorf("package.json's %s script %q is not one node command: write the exec form [\"node\", \"file.js\"]", name, script)
	}
	return cmds[0].words, nil
}

// rewriteHealthcheck replaces a curl or wget health check by the image's probe.
func (t *transformer) rewriteHealthcheck(in instruction, env map[string]string) ([]string, bool) {
	a := strings.TrimSpace(in.args)
	i := indexFold(a, "CMD")
	if strings.EqualFold(a, "NONE") || i < 0 {
		return nil, false
	}
	opts, rest := strings.TrimSpace(a[:i]), strings.TrimSpace(a[i+3:])
	var words []string
	script := rest
	if isExecForm(rest) {
		w, err := jsonWords(rest)
		if err != nil || len(w) == 0 {
			t.problem(in.line, "HEALTHCHECK %s: not a JSON list", rest)
			return nil, false
		}
		switch w[0] {
		case "CMD-SHELL":
			script = strings.Join(w[1:], " ")
		case "CMD":
			words = w[1:]
		default:
			words = w
		}
	}
	if words == nil {
		// curl -f URL || exit 1: the probe's exit status already says it.
		for _, tail := range []string{"|| exit 1", "||exit 1", "|| exit", "|| false"} {
			script = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(script), tail))
		}
		cmds, err := splitShell(script)
		if err != nil || len(cmds) != 1 {
			if !hasAny(script, "curl", "wget") {
				t.problem(in.line, "HEALTHCHECK %q needs a shell, which %s does not have: use CMD [\"%s\", \"http://127.0.0.1:PORT/path\"]", script, t.image, ProbePath)
				return nil, false
			}
			t.problem(in.line, "HEALTHCHECK %q: only one curl or wget of a URL can become %s", script, ProbePath)
			return nil, false
		}
		words = cmds[0].words
	}
	if len(words) == 0 || (path.Base(words[0]) != "curl" && path.Base(words[0]) != "wget") {
		if isExecForm(rest) && !strings.HasPrefix(strings.TrimSpace(rest[1:]), `"CMD-SHELL"`) {
			return nil, false
		}
		// One command without shell syntax (python -c "…", node check.js) runs as is.
		var exec []string
		for _, w := range words {
			x, unknown := expandVars(w, env, nil)
			if unknown != "" {
				t.problem(in.line, "HEALTHCHECK uses $%s, which the Dockerfile does not set; %s has no shell to expand it: use CMD [\"%s\", \"http://127.0.0.1:PORT/path\"]", unknown, t.image, ProbePath)
				return nil, false
			}
			exec = append(exec, x)
		}
		line := "HEALTHCHECK "
		if opts != "" {
			line += opts + " "
		}
		return []string{line + "CMD " + jsonList(exec)}, true
	}
	url := ""
	for _, w := range words[1:] {
		if strings.Contains(w, "://") || strings.HasPrefix(w, "localhost") || strings.HasPrefix(w, "127.0.0.1") {
			url = w
		}
	}
	if url == "" {
		t.problem(in.line, "HEALTHCHECK %s: no URL to probe", words[0])
		return nil, false
	}
	url, unknown := expandVars(url, env, nil)
	if unknown != "" {
		t.problem(in.line, "HEALTHCHECK probes %s, but $%s is not set by the Dockerfile", url, unknown)
		return nil, false
	}
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	// The probe connects to an address: no resolver, no /etc/hosts lookup needed.
	url = strings.Replace(url, "://localhost", "://127.0.0.1", 1)
	line := "HEALTHCHECK "
	if opts != "" {
		line += opts + " "
	}
	t.base.Probe = true
	return []string{line + "CMD " + jsonList([]string{ProbePath, url})}, true
}

// relativeDest reports whether a COPY/ADD's destination is a relative path.
func relativeDest(args string) bool {
	f := strings.Fields(args)
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		f = f[1:]
	}
	if len(f) < 2 || isExecForm(args) {
		return false
	}
	return !strings.HasPrefix(f[len(f)-1], "/") && !strings.HasPrefix(f[len(f)-1], "$")
}

// jsonWords decodes an exec-form list.
func jsonWords(s string) ([]string, error) {
	var w []string
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return nil, fmt.Errorf("not a JSON list of strings (%v)", err)
	}
	return w, nil
}

func jsonList(words []string) string {
	b, _ := json.Marshal(words)
	// Dockerfiles conventionally space the list: ["a", "b"].
	return strings.ReplaceAll(string(b), `","`, `", "`)
}

// operands are a command's arguments without its options (and an option's value when the
// option is known to take one).
func operands(args []string) []string {
	var out []string
	takesValue := map[string]bool{"-u": true, "-g": true, "-G": true, "-m": true, "-s": true, "-d": true, "-c": true, "--uid": true, "--gid": true, "--home": true, "--shell": true, "--gecos": true, "--ingroup": true, "-o": true, "--mode": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i+1:]...)
		case strings.HasPrefix(a, "-") && a != "-":
			if takesValue[a] && i+1 < len(args) {
				i++
			}
		default:
			out = append(out, a)
		}
	}
	return out
}

// disposable paths are caches and temporary files an image built by Spartan never has.
func disposable(p string) bool {
	for _, prefix := range []string{"/var/lib/apt/lists", "/var/cache/apt", "/var/cache/debconf", "/tmp/", "/var/tmp/", "/root/.cache", "~/.cache", "/usr/share/doc", "/usr/share/man", "/var/log/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func resolvePath(workdir, p string) string {
	p = strings.Trim(p, `"'`)
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(workdir, p)
}

func parseEnv(args string) map[string]string {
	out := map[string]string{}
	if k, v, ok := strings.Cut(args, " "); ok && !strings.Contains(k, "=") {
		out[k] = strings.Trim(strings.TrimSpace(v), `"`)
		return out
	}
	if cmds, err := splitShell(args); err == nil && len(cmds) == 1 {
		for _, a := range cmds[0].env {
			k, v, _ := strings.Cut(a, "=")
			out[k] = v
		}
	}
	return out
}

func stripOwnerFlags(args string) string {
	var out []string
	for _, f := range strings.Fields(args) {
		if strings.HasPrefix(f, "--chown=") || strings.HasPrefix(f, "--chmod=") {
			continue
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == '=' || r == ':' || r == ',' || r == '+' || r == '@' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func joinQuoted(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

func hasFlag(words []string, flags ...string) bool {
	for _, w := range words {
		if contains(flags, w) {
			return true
		}
	}
	return false
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func appendNew(l []string, items ...string) []string {
	for _, s := range items {
		if !contains(l, s) {
			l = append(l, s)
		}
	}
	return l
}

func sameWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// indexFold is strings.Index ignoring ASCII case, on the bytes as they are (upper-casing
// invalid UTF-8 would move the offsets).
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// isRubyPackage: Debian names interpreters by version too (ruby3.3).
func isRubyPackage(name string) bool {
	return strings.HasPrefix(name, "ruby") && len(name) > 4 && name[4] >= '0' && name[4] <= '9'
}
