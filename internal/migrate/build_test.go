package migrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEngine is a podman stand-in that records its arguments, one call a line.
func fakeEngine(t *testing.T) (path, log string) { return fakeNamedEngine(t, "podman") }

// fakeNamedEngine is a script named like the engine (podman or docker) that logs its calls.
func fakeNamedEngine(t *testing.T, name string) (path, log string) {
	t.Helper()
	dir := t.TempDir()
	path, log = filepath.Join(dir, name), filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$@\" >> " + log + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, log
}

// TestBuild: both engines load the custom base and build the migrated Dockerfile; podman is
// told to keep the docker format (HEALTHCHECK) and never to pull, docker does both already.
func TestBuild(t *testing.T) {
	for _, tc := range []struct{ engine, flags string }{
		{"podman", " --format docker --pull=never --runtime runc"},
		{"docker", ""},
	} {
		t.Run(tc.engine, func(t *testing.T) { testBuild(t, tc.engine, tc.flags) })
	}
}

func testBuild(t *testing.T, name, flags string) {
	engine, log := fakeNamedEngine(t, name)
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	src := "FROM python:3.13-slim\nRUN apt-get update && apt-get install -y libssl3\nCOPY app.py /app/\nCMD python /app/app.py\n"
	if err := os.WriteFile(df, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var builtSpec string
	r, err := Build(context.Background(), BuildOptions{
		Options: Options{Index: testIndex}, Dockerfile: df, Tag: "myapp", Engine: engine, Runtime: "runc",
		BuildBase: func(_ context.Context, spec, archive string) error {
			builtSpec = spec
			return os.WriteFile(archive, []byte("archive"), 0o644)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(df); string(b) != src {
		t.Errorf("the original Dockerfile changed:\n%s", b)
	}
	migrated, err := os.ReadFile(filepath.Join(dir, MigratedFile))
	if err != nil || string(migrated) != r.Migrated {
		t.Fatalf("%s: %v\n%s", MigratedFile, err, migrated)
	}
	if !strings.HasPrefix(r.Migrated, "FROM spartan-migrate/") || !strings.Contains(r.Migrated, `CMD ["/app/app.py"]`) {
		t.Errorf("migrated:\n%s", r.Migrated)
	}
	spec, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil || builtSpec != filepath.Join(dir, SpecFile) || !strings.Contains(string(spec), "packages: [libssl3t64]") {
		t.Fatalf("spec %s (built %s): %v\n%s", SpecFile, builtSpec, err, spec)
	}
	calls, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "load -i ") ||
		lines[1] != "build -f "+filepath.Join(dir, MigratedFile)+" -t myapp"+flags+" "+dir {
		t.Errorf("engine calls:\n%s", calls)
	}
}

func TestBuildRefusesProblems(t *testing.T) {
	engine, log := fakeEngine(t)
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM python:3.13\nCMD [\"sh\", \"-c\", \"python a.py | tee log\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), BuildOptions{Dockerfile: df, Tag: "x", Engine: engine,
		BuildBase: func(context.Context, string, string) error { t.Fatal("built a base"); return nil }})
	var pe *ProblemsError
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || pe.Problems[0].Line != 2 || !strings.Contains(err.Error(), "Dockerfile:2: CMD") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("wrote files though nothing was built: %v", entries)
	}
	if _, err := os.Stat(log); err == nil {
		t.Error("the engine ran")
	}
	if _, err := Build(context.Background(), BuildOptions{Dockerfile: df, Engine: engine}); err == nil || !strings.Contains(err.Error(), "-t NAME") {
		t.Errorf("no tag: %v", err)
	}
}

// TestWriteWithBase: --write replaces the Dockerfile and writes the spec beside it, leaving
// no temporary file behind.
func TestWriteWithBase(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM node:20\nRUN apt-get install -y libnss3\nCMD [\"node\", \"s.js\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := File(df, Options{Index: testIndex}, true)
	if err != nil || r.Base == nil {
		t.Fatalf("File: %v, base %v", err, r.Base)
	}
	b, _ := os.ReadFile(df)
	if string(b) != r.Migrated {
		t.Errorf("Dockerfile:\n%s", b)
	}
	if fi, _ := os.Stat(df); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("files: %v", entries)
	}
}
