package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeSpec(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBaseFromCatalog(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := writeSpec(t, dir, "myapp.yaml", `name: myapp-base
base: python
packages: [libgl1, libglib2.0-0]
env: {PORT: "8080"}
files:
  - {src: ./app, dest: /app, owner: "65532:65532", mode: "0644", dirmode: "0755"}
healthcheck: {probe: "http://127.0.0.1:8080/health", interval: 10s}
`)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Base == nil || s.Base.Name != "python" {
		t.Fatalf("Base = %+v, want the catalog python spec", s.Base)
	}
	for _, want := range append(slices.Clone(s.Base.Packages), "libgl1", "libglib2.0-0") {
		if !slices.Contains(s.Packages, want) {
			t.Errorf("packages %v lack %s", s.Packages, want)
		}
	}
	if !slices.Equal(s.Exclude, s.Base.Exclude) || !slices.Equal(s.Entrypoint, s.Base.Entrypoint) {
		t.Errorf("exclude/entrypoint not inherited: %v %v", s.Exclude, s.Entrypoint)
	}
	if s.Env["PORT"] != "8080" || s.Env["LANG"] != "C.UTF-8" {
		t.Errorf("env not merged: %v", s.Env)
	}
	if !slices.Equal(s.Tags, []string{"myapp-base:latest"}) || s.Description != "" || s.Annotations["org.opencontainers.image.source"] != "" {
		t.Errorf("the base's identity leaked: tags %v, description %q, annotations %v", s.Tags, s.Description, s.Annotations)
	}
	if want := (FileSet{Src: filepath.Join(dir, "app"), Dest: "/app", UID: 65532, GID: 65532, Mode: 0o644, DirMode: 0o755}); len(s.Files) != 1 || s.Files[0] != want {
		t.Errorf("files = %+v, want %+v", s.Files, want)
	}
	if h := s.Healthcheck; h == nil || !s.Probe || h.Interval.String() != "10s" ||
		!slices.Equal(h.Test, []string{"CMD", ProbePath, "-timeout", "4.5s", "http://127.0.0.1:8080/health"}) {
		t.Errorf("healthcheck = %+v, probe %v", h, s.Probe)
	}
	// Variants inherit: the base's dev variant with the child's packages, the child's tags.
	dev, err := s.Variant("dev")
	if err != nil {
		t.Fatal(err)
	}
	if dev.Profile != Dev || !slices.Contains(dev.Packages, "libgl1") || !slices.Contains(dev.Packages, "python3-pip") {
		t.Errorf("dev variant: profile %s, packages %v", dev.Profile, dev.Packages)
	}
	if !slices.Equal(dev.Tags, []string{"myapp-base:latest-dev"}) || dev.Base == nil || dev.Base.VariantName != "dev" {
		t.Errorf("dev variant: tags %v, base %+v", dev.Tags, dev.Base)
	}
	if s.Digest() == "" || s.Digest() == s.Base.Digest() {
		t.Error("the digest must cover both recipes")
	}
}

func TestBaseFromPath(t *testing.T) {
	dir := t.TempDir()
	writeSpec(t, dir, "base/ca.pem", "")
	writeSpec(t, dir, "base/spartan.yaml", `name: b
packages: [libc6]
certificates: [ca.pem]
paths:
  - {path: /etc/app.conf, type: file, content: "base"}
  - {path: /srv, type: directory}
variants:
  debug: {profile: debug}
`)
	p := writeSpec(t, dir, "app/spartan.yaml", `name: c
base: ../base
packages: [zlib1g]
paths:
  - {path: /etc/app.conf, type: file, content: "child"}
variants:
  extra: {packages: [tzdata]}
`)
	s, err := Parse(p, mustRead(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Packages, []string{"libc6", "zlib1g"}) {
		t.Errorf("packages %v", s.Packages)
	}
	if !slices.Equal(s.Certificates, []string{filepath.Join(dir, "base", "ca.pem")}) {
		t.Errorf("certificates %v: relative to the base's folder", s.Certificates)
	}
	if len(s.Paths) != 2 || s.Paths[0].Content != "child" {
		t.Errorf("paths %+v: the child's entry replaces the base's", s.Paths)
	}
	if got := s.VariantNames(); !slices.Equal(got, []string{"debug", "extra"}) {
		t.Errorf("variants %v", got)
	}
	extra, _ := s.Variant("extra")
	if extra.Base == nil || extra.Base.VariantName != "" || !slices.Contains(extra.Packages, "tzdata") {
		t.Errorf("extra: base %+v, packages %v", extra.Base, extra.Packages)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBaseErrors(t *testing.T) {
	dir := t.TempDir()
	writeSpec(t, dir, "a.yaml", "name: a\nbase: ./b.yaml\n")
	writeSpec(t, dir, "b.yaml", "name: b\nbase: ./a.yaml\npackages: [libc6]\n")
	writeSpec(t, dir, "self.yaml", "name: s\nbase: ./self.yaml\n")
	writeSpec(t, dir, "broken.yaml", "name: x\npackages: [libc6]\nlayer: 3\n")
	writeSpec(t, dir, "tar.yaml", "name: x\nbase: python\nfiles: [{src: ./none.tar, dest: /app}]\n")
	writeSpec(t, dir, "conflict.yaml", "name: x\nbase: python\npackages: [mawk]\n")
	writeSpec(t, dir, "dest.yaml", "name: x\nbase: python\nfiles: [{src: ., dest: /app}, {src: ., dest: /app}]\n")
	writeSpec(t, dir, "owner.yaml", "name: x\nbase: python\nfiles: [{src: ., dest: /app, owner: www}]\n")
	tests := []struct{ file, src, want string }{
		{"missing.yaml", "name: x\nbase: pythn\n", `missing.yaml:2:7: base: base "pythn" is not a catalog image (did you mean "python"?); catalog: base, cc, java, java25, nginx, node, python, static, toolbox; or give a path`},
		{"nofile.yaml", "name: x\nbase: ./nope.yaml\n", `nofile.yaml:2:7: base: base "./nope.yaml": cannot read`},
		{"a.yaml", "", `a.yaml:2:7: base: base "./b.yaml" does not load:`},
		{"a.yaml", "", `b.yaml:2:7: base: base "./a.yaml" makes a cycle: ` + filepath.Base(dir) + `/a.yaml → ` + filepath.Base(dir) + `/b.yaml → ` + filepath.Base(dir) + `/a.yaml`},
		{"self.yaml", "", `self.yaml:2:7: base: base "./self.yaml" makes a cycle`},
		{"variant.yaml", "name: x\nbase: python\nvariants:\n  dev: {base: static}\n", `variant.yaml:4:9: variants.dev.base: cannot be set in a variant`},
		{"child.yaml", "name: x\nbase: ./broken.yaml\n", "broken.yaml:3:1: unknown field \"layer\""},
		{"tar.yaml", "", `tar.yaml:3:15: files[0].src: files source ` + filepath.Join(dir, "none.tar") + `: no such file or directory`},
		{"conflict.yaml", "", `conflict.yaml:3:12: packages[0]: package "mawk" is both requested and excluded (catalog:python line 14); list it in allow to take it back`},
		{"dest.yaml", "", `dest.yaml:3:46: files[1].dest: /app already receives files (line 3)`},
		{"owner.yaml", "", `owner.yaml:3:37: files[0].owner: owner "www": not a declared user (nonroot, root) nor uid[:gid]`},
		{"hc.yaml", "name: x\nbase: static\nhealthcheck: {probe: \"ftp://x/\"}\n", `hc.yaml:3:22: healthcheck.probe: probe target "ftp://x/": scheme must be http, https or tcp`},
		{"hc2.yaml", "name: x\nbase: static\nhealthcheck: {interval: 5s}\n", `hc2.yaml:3:14: healthcheck: set probe`},
		{"hc3.yaml", "name: x\nbase: static\nhealthcheck: {test: [/x], probe: \"tcp://127.0.0.1:1\"}\n", `hc3.yaml:3:14: healthcheck: set probe or test, not both`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			if tt.src != "" {
				writeSpec(t, dir, tt.file, tt.src)
			}
			_, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, tt.want)
			}
		})
	}
}
