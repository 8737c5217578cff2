package archive

import (
	"context"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	e := newEnv(t)
	srcs := []Source{e.source("trixie", "main", "contrib"), e.source("trixie-updates")}
	pkgs, rels, err := e.client.Load(context.Background(), srcs, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 2 || rels[0].Codename != "trixie" || rels[1].Codename != "trixie-updates" {
		t.Fatalf("releases = %v", rels)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Origin.Codename+":"+p.Name+"="+p.Version)
	}
	// Source order, then component order, then index order; no Components means "main".
	want := "trixie:base-files=13.8 trixie:libc6=2.41-12 trixie:hello=2.10-5+b1 trixie:tzdata=2025b-4 " +
		"trixie:helper=1.0 trixie-updates:tzdata=2025c-0+deb13u1"
	if strings.Join(got, " ") != want {
		t.Errorf("packages:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestLoadFails(t *testing.T) {
	tests := []struct {
		name string
		srcs func(e *env) []Source
		arch string
		want string
	}{
		{"bad signature on one source", func(e *env) []Source {
			e.srv.BadSignature = true
			return []Source{e.source("trixie")}
		}, "amd64", "unknown key"},
		{"unknown component", func(e *env) []Source {
			return []Source{e.source("trixie", "main"), e.source("trixie-updates", "non-free")}
		}, "amd64", `component "non-free"`},
		{"unknown architecture", func(e *env) []Source { return []Source{e.source("trixie")} }, "riscv64", `architecture "riscv64"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_, _, err := e.client.Load(context.Background(), tt.srcs(e), tt.arch)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
