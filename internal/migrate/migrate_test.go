package migrate

import (
	"flag"
	"fmt"
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
			got := render("Dockerfile", Dockerfile(string(src)))
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
			"FROM --platform=$BUILDPLATFORM golang:1.23 AS b\nENV CGO_ENABLED=0\nRUN go build -o /a .\nFROM spartan/static:latest\nCOPY --from=b /a /a\n"},
		{"FROM golang:1.23 AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM scratch\nCOPY --from=b /a /a\n", "FROM golang:1.23 AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM spartan/static:latest\nCOPY --from=b /a /a\n"},
		{"FROM python:3.13 AS b\r\nFROM python:3.13\r\nCOPY --from=b /a /a\r\n", "FROM spartan/python:3.13-dev AS b\r\nFROM spartan/python:3.13\r\nCOPY --from=b /a /a\r\n"},
		{"FROM ubuntu:24.04\n", "FROM ubuntu:24.04\n"},
		{"FROM redis:7\n", "FROM redis:7\n"},
		{"FROM\n", "FROM\n"},
		{"", ""},
	} {
		got := Dockerfile(tc.src)
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
	r := Dockerfile(src)
	if len(r.Changes) != 2 {
		t.Fatalf("changes: %+v", r.Changes)
	}
	var runLines []int
	for _, w := range r.Warnings {
		if strings.HasPrefix(w.Message, "RUN") {
			runLines = append(runLines, w.Line)
		}
	}
	if len(runLines) != 1 || runLines[0] != 7 {
		t.Errorf("RUN warnings at lines %v, want [7] (the final stage's RUN only)", runLines)
	}
}

func TestFileWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(p, []byte("FROM python:3.13-slim\nCOPY app.py /app/\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	r, err := File(p, false)
	if err != nil || len(r.Changes) != 1 {
		t.Fatalf("File: %v, %+v", err, r.Changes)
	}
	if b, _ := os.ReadFile(p); string(b) != r.Original {
		t.Fatalf("File without write changed the file:\n%s", b)
	}
	if _, err := File(p, true); err != nil {
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
	if _, err := File(dir, false); err == nil {
		t.Error("File(directory) succeeded")
	}
	if _, err := File(filepath.Join(dir, "missing"), false); err == nil {
		t.Error("File(missing) succeeded")
	}
}
