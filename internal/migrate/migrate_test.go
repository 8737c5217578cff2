package migrate

import (
	"errors"
	"flag"
	"fmt"
	"github.com/spartan-images/spartan/internal/debian/archive"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// render is what the CLI prints for a Dockerfile: the diff, then the warnings.
func render(name string, r Result) string {
	var b strings.Builder
	b.WriteString(r.Diff(name))
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "%s:%d: warning: %s\n", name, w.Line, w.Message)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "%s:%d: cannot migrate: %s\n", name, p.Line, p.Message)
	}
	if r.Base != nil {
		fmt.Fprintf(&b, "--- %s\n%s", SpecFile, r.Base.Spec(name))
	}
	return b.String()
}

// TestGolden migrates each testdata/*.Dockerfile and compares diff and warnings with the
// .golden file beside it (go test -update rewrites them: review the result).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.Dockerfile")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".Dockerfile")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Dockerfile(string(src), Options{Index: testIndex, Name: "app"})
			if err != nil {
				t.Fatal(err)
			}
			got := render("Dockerfile", r)
			golden := strings.TrimSuffix(f, ".Dockerfile") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("migrate %s:\n--- got\n%s\n--- want\n%s", f, got, want)
			}
		})
	}
}

func TestFromMapping(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"FROM python:3.13-slim\n", "FROM spartan/python:3.13\n"},
		{"FROM python:3.13-slim AS b\nFROM scratch\nCOPY --from=b /x /x\n", "FROM spartan/python:3.13-dev AS b\nFROM scratch\nCOPY --from=b /x /x\n"},
		{"FROM node:20\n", "FROM spartan/node:20\n"},
		{"FROM eclipse-temurin:21-jre\n", "FROM spartan/java:21\n"},
		{"FROM openjdk:21-jdk AS 0build\nFROM eclipse-temurin:21-jre\nCOPY --from=0 /a /a\n", "FROM spartan/java:21-dev AS 0build\nFROM spartan/java:21\nCOPY --from=0 /a /a\n"},
		{"FROM nginx:1.27\n", "FROM spartan/nginx:latest\n"},
		{"FROM debian:bookworm-slim\n", "FROM spartan/base:latest\n"},
		{"FROM docker.io/library/debian:trixie AS tools\nFROM debian:trixie\n", "FROM spartan/base:dev AS tools\nFROM spartan/base:latest\n"},
		{"FROM --platform=$BUILDPLATFORM golang:1.23 AS b\nENV CGO_ENABLED=0\nRUN go build -o /a .\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=b /a /a\n",
			"FROM --platform=$BUILDPLATFORM spartan/static:dev AS b\nENV CGO_ENABLED=0\nRUN go build -o /a .\nFROM spartan/static:latest\nCOPY --from=b /a /a\n"},
		{"FROM golang:1.23 AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM scratch\nCOPY --from=b /a /a\n", "FROM spartan/static:dev AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM spartan/static:latest\nCOPY --from=b /a /a\n"},
		{"FROM python:3.13 AS b\r\nFROM python:3.13\r\nCOPY --from=b /a /a\r\n", "FROM spartan/python:3.13-dev AS b\r\nFROM spartan/python:3.13\r\nCOPY --from=b /a /a\r\n"},
		{"FROM ubuntu:24.04\n", "FROM ubuntu:24.04\n"},
		{"FROM redis:7\n", "FROM redis:7\n"},
		{"", ""},
	} {
		got, err := Dockerfile(tc.src, Options{})
		if err != nil {
			t.Fatalf("Dockerfile(%q): %v", tc.src, err)
		}
		if got.Migrated != tc.want {
			t.Errorf("Dockerfile(%q) =\n%q, want\n%q", tc.src, got.Migrated, tc.want)
		}
		if len(got.Changes) == 0 != (tc.src == tc.want) {
			t.Errorf("Dockerfile(%q): %d changes", tc.src, len(got.Changes))
		}
	}
}

func TestVersionNote(t *testing.T) {
	for _, tc := range []struct {
		f     family
		image string
		note  bool
	}{
		{python, "python:3.13.1-slim", false},
		{python, "python:3", false},
		{python, "python:slim", false},
		{python, "python:3.12", true},
		{node, "node:22-alpine", true},
		{node, "node:lts", false},
		{java, "eclipse-temurin:17-jre", true},
		{java, "gcr.io/distroless/java21-debian12", false},
		{node, "gcr.io/distroless/nodejs22-debian12", true},
	} {
		if got := versionNote(tc.f, parseRef(tc.image)) != ""; got != tc.note {
			t.Errorf("versionNote(%s, %s) = %v, want %v", tc.f.name, tc.image, got, tc.note)
		}
	}
}

func TestEscapeDirectiveAndContinuations(t *testing.T) {
	src := "# escape=`\nFROM python:3.13 AS b\nRUN pip install `\n    flask\nFROM python:3.13\nCOPY --from=b /a /a\nRUN echo `\n  hi\n"
	r, err := Dockerfile(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Both FROMs, and the final stage's RUN echo (no effect in an image) dropped whole.
	if len(r.Changes) != 3 || r.Changes[2].Line != 7 || r.Changes[2].New != "" {
		t.Fatalf("changes: %+v", r.Changes)
	}
	if !strings.HasSuffix(r.Migrated, "COPY --from=b /a /a\n") {
		t.Errorf("migrated:\n%s", r.Migrated)
	}
}

func TestFileWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(p, []byte("FROM python:3.13-slim\nCOPY app.py /app/\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	r, err := File(p, Options{}, false)
	if err != nil || len(r.Changes) != 1 {
		t.Fatalf("File: %v, %+v", err, r.Changes)
	}
	if b, _ := os.ReadFile(p); string(b) != r.Original {
		t.Fatalf("File without write changed the file:\n%s", b)
	}
	if _, err := File(p, Options{}, true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "FROM spartan/python:3.13\nCOPY app.py /app/\n" {
		t.Errorf("written:\n%s", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
	// With an instruction that cannot be migrated nothing is written.
	bad := "FROM python:3.13-slim\nCMD [\"sh\", \"-c\", \"python app.py | tee log\"]\n"
	if err := os.WriteFile(p, []byte(bad), 0o640); err != nil {
		t.Fatal(err)
	}
	if r, err := File(p, Options{}, true); err != nil || len(r.Problems) == 0 || len(r.Changes) == 0 {
		t.Fatalf("File with a pipe in sh -c: %v, %d problems, %d changes", err, len(r.Problems), len(r.Changes))
	}
	if b, _ := os.ReadFile(p); string(b) != bad {
		t.Errorf("a Dockerfile with problems was rewritten:\n%s", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
	if _, err := File(dir, Options{}, false); err == nil {
		t.Error("File(directory) succeeded")
	}
	if _, err := File(filepath.Join(dir, "missing"), Options{}, false); err == nil {
		t.Error("File(missing) succeeded")
	}
}

// testIndex is a small trixie: names as the release spells them after the t64 transition.
var testIndex = NewIndex("trixie", []*archive.Package{
	{Name: "ca-certificates"}, {Name: "libpq5"}, {Name: "libgl1"}, {Name: "libglx-mesa0"},
	{Name: "libglib2.0-0t64"}, {Name: "libssl3t64"}, {Name: "libnss3"}, {Name: "libgtk-3-0t64"},
	{Name: "libgbm1"}, {Name: "curl"}, {Name: "wget"}, {Name: "tzdata"}, {Name: "fonts-liberation"},
	{Name: "libasound2t64"}, {Name: "ruby"}, {Name: "ruby-bundler"}, {Name: "netcat-openbsd", Provides: "netcat"}, {Name: "ffmpeg"},
	{Name: "mawk", Provides: "awk"}, {Name: "gawk", Provides: "awk"},
	{Name: "libjpeg62-turbo", Provides: "libjpeg62 (= 1:2.1.5-4), libjpeg-compat | x"},
})

// TestBadInput: each kind of input migration cannot use is refused with the line it is on.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		parseErr  bool
		line      int
		want      string
	}{
		{"does not parse", "FROM python:3.13\nCOPY . /app\n  pip install flask\n", true, 3, `unknown instruction "pip"`},
		{"FROM without image", "FROM python:3.13 AS b\nFROM\n", true, 2, "FROM names no image"},
		{"unterminated here-document", "FROM python:3.13\nRUN <<EOF\necho hi\n", true, 2, "no closing EOF"},
		{"before FROM", "RUN echo hi\nFROM python:3.13\n", true, 1, "only ARG may come before it"},
		{"unknown package", "FROM python:3.13-slim\nRUN apt-get update && \\\n    apt-get install -y libgl1 libfoo-nonexistent\n", false, 2, "trixie has no package libfoo-nonexistent"},
		{"misspelt package", "FROM python:3.13-slim\nRUN apt-get install -y ffmpg\n", false, 2, "did you mean ffmpeg?"},
		{"base that does not exist", "FROM pyhton:3.12-slim\nCOPY . /app\n", false, 1, "FROM pyhton: no such image in Spartan's catalog; did you mean python?"},
		{"unknown base", "FROM mycorp/runtime:7\nCOPY . /app\n", false, 1, "FROM mycorp/runtime: no such image in Spartan's catalog"},
		{"sh -c with a pipe", "FROM python:3.13\nCMD [\"sh\", \"-c\", \"python app.py | tee /tmp/log\"]\n", false, 2, "uses a pipe (|), which needs a shell"},
		{"shell form with &&", "FROM node:20\nCMD node migrate.js && node server.js\n", false, 2, "runs 2 commands"},
		{"unset variable", "FROM node:20\nCMD node server.js --port $PORT\n", false, 2, "uses $PORT, which the Dockerfile does not set"},
		{"redirection in RUN", "FROM node:20\nRUN echo ok > /status\n", false, 2, "a redirection (>)"},
		{"bundle install without Ruby", "FROM debian:bookworm-slim\nWORKDIR /app\nRUN bundle install\n", false, 3, "there is no Ruby"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Dockerfile(tc.src, Options{Index: testIndex})
			if tc.parseErr {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.want) {
					t.Fatalf("err = %v, want a parse error on line %d containing %q", err, tc.line, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.Problems {
				if p.Line == tc.line && strings.Contains(p.Message, tc.want) {
					return
				}
			}
			t.Errorf("problems %+v: none on line %d containing %q", r.Problems, tc.line, tc.want)
		})
	}
}

func TestSplitShell(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // commands joined by " ;; ", words by " "
		err  string
	}{
		{`uvicorn app:app --port 80`, `uvicorn app:app --port 80`, ""},
		{`A=1 exec node 'a b' "c \"d\""`, `exec node a b c "d"`, ""},
		{`apt-get update && apt-get install -y x; rm -rf /var/lib/apt/lists/*`, `apt-get update ;; apt-get install -y x ;; rm -rf /var/lib/apt/lists/*`, ""},
		{`a | b`, "", "pipe"},
		{`a || b`, "", "||"},
		{`a > f`, "", "redirection"},
		{`echo $(date)`, "", "command substitution"},
		{"echo `date`", "", "command substitution"},
		{`a &`, "", "background"},
		{`ls *.py`, "", "pattern"},
		{`a && `, "", "trailing"},
		{`'open`, "", "unterminated"},
	} {
		cmds, err := splitShell(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("splitShell(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		var parts []string
		for _, c := range cmds {
			parts = append(parts, strings.Join(c.words, " "))
		}
		if err != nil || strings.Join(parts, " ;; ") != tc.want {
			t.Errorf("splitShell(%q) = %q, %v; want %q", tc.in, strings.Join(parts, " ;; "), err, tc.want)
		}
	}
}

func TestExpandVars(t *testing.T) {
	env := map[string]string{"HOME": "/home/nonroot"}
	defaults := map[string]string{}
	got, unknown := expandVars("${PORT:-7860} $HOME/x ${WORKERS-2}", env, defaults)
	if got != "7860 /home/nonroot/x 2" || unknown != "" || defaults["PORT"] != "7860" || defaults["WORKERS"] != "2" {
		t.Errorf("expandVars = %q, %q, %v", got, unknown, defaults)
	}
	if _, unknown := expandVars("$NOPE", env, nil); unknown != "NOPE" {
		t.Errorf("unknown = %q, want NOPE", unknown)
	}
}

func TestIndexTranslate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"libssl3", "libssl3t64", true},
		{"libglib2.0-0", "libglib2.0-0t64", true},
		{"libgl1-mesa-glx", "libgl1 libglx-mesa0", true},
		{"netcat", "netcat-openbsd", true},
		{"curl=7.88.1-10", "curl", true},
		{"awk", "gawk", true},
		{"libjpeg62", "libjpeg62-turbo", true}, // a versioned Provides
		{"libjpeg-compat", "libjpeg62-turbo", true},
		{"libssl1.1", "", false},
	} {
		names, _, ok := testIndex.translate(tc.in)
		if ok != tc.ok || strings.Join(names, " ") != tc.want {
			t.Errorf("translate(%s) = %v, %v; want %q, %v", tc.in, names, ok, tc.want, tc.ok)
		}
	}
}

// TestCorpus migrates the real Dockerfiles of testdata/corpus (their SOURCE files say where
// each comes from) and compares with migrated.golden beside each: what the e2e then builds.
func TestCorpus(t *testing.T) {
	dirs, err := filepath.Glob("testdata/corpus/*")
	if err != nil || len(dirs) < 12 {
		t.Fatalf("corpus: %d cases, %v", len(dirs), err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, "SOURCE")); err != nil {
				t.Fatalf("no SOURCE: %v", err)
			}
			r, err := File(filepath.Join(dir, "Dockerfile"), Options{Index: testIndex, Name: filepath.Base(dir)}, false)
			if err != nil {
				t.Fatal(err)
			}
			got := render("Dockerfile", r)
			golden := filepath.Join(dir, "migrated.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("migrate %s:\n--- got\n%s\n--- want\n%s", dir, got, want)
			}
		})
	}
}

func TestSpecDiff(t *testing.T) {
	r, err := Dockerfile("FROM python:3.13\nRUN apt-get install -y libgl1\n", Options{Index: testIndex, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	got := r.SpecDiff("app/Dockerfile")
	if !strings.HasPrefix(got, "--- /dev/null\n+++ b/app/spartan-base.yaml\n@@ -0,0 +1,6 @@\n+# Written by spartan migrate from Dockerfile") || !strings.Contains(got, "\n+packages: [libgl1]\n") {
		t.Errorf("SpecDiff:\n%s", got)
	}
	if r, _ := Dockerfile("FROM python:3.13\n", Options{}); r.SpecDiff("Dockerfile") != "" {
		t.Error("SpecDiff without a base")
	}
}
