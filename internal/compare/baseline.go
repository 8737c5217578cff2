package compare

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/audit"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/spec"
)

// General describes the general-purpose equivalent of a catalog image: Debian's minbase
// variant plus the packages the spec asks for, installed the ordinary way (apt, maintainer
// scripts and all) by mmdebstrap.
type General struct {
	Release  string
	Arch     string   // Debian architecture
	Packages []string // --include
	Sources  []string // "deb URL SUITE COMPONENTS…" lines
	// Mmdebstrap is the program to run ("mmdebstrap" from PATH when empty).
	Mmdebstrap string
	Stderr     io.Writer // mmdebstrap's progress; nil = discarded unless it fails
}

// GeneralFor is the general-purpose equivalent of a spec, from the same repositories and
// mirrors the Spartan build uses, so that the comparison is about the packaging, not the
// package versions.
func GeneralFor(s *spec.Spec, m build.Mirrors, arch string) General {
	g := General{Release: s.Release, Arch: arch, Packages: s.Packages}
	for _, r := range s.Repositories {
		url := r.URL
		switch {
		case url != "":
		case r.Archive == spec.ArchiveSecurity:
			url = m.Security
		default:
			url = m.Main
		}
		for _, suite := range r.Suites {
			g.Sources = append(g.Sources, fmt.Sprintf("deb %s %s %s", url, suite, strings.Join(r.Components, " ")))
		}
	}
	return g
}

// Args are mmdebstrap's arguments writing the root filesystem tarball to out.
func (g General) Args(out string) []string {
	args := []string{"--variant=minbase", "--architectures=" + g.Arch}
	if len(g.Packages) > 0 {
		args = append(args, "--include="+strings.Join(g.Packages, ","))
	}
	args = append(args, g.Release, out)
	return append(args, g.Sources...)
}

// Build runs mmdebstrap into a temporary directory under dir and turns the tarball into an
// image.
func (g General) Build(ctx context.Context, dir string) (v1.Image, error) {
	tmp, err := os.MkdirTemp(dir, "spartan-baseline-")
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "rootfs.tar")
	prog := g.Mmdebstrap
	if prog == "" {
		prog = "mmdebstrap"
	}
	if _, err := exec.LookPath(prog); err != nil {
		return nil, fmt.Errorf("baseline needs mmdebstrap (apt-get install mmdebstrap): %w", err)
	}
	cmd := exec.CommandContext(ctx, prog, g.Args(out)...)
	var errBuf bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &errBuf
	if g.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&errBuf, g.Stderr)
	}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("mmdebstrap %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, tailOf(errBuf.String(), 3000))
	}
	return ImageFromRootfs(out, g.Arch, strings.Join(append([]string{"mmdebstrap"}, g.Args("-")...), " "))
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// ImageFromRootfs turns a root filesystem tarball into a one-layer image configured the way
// general-purpose Debian images are: root user, bash as the command. The layer is compressed
// like Spartan's own, so that compressed sizes compare like for like.
func ImageFromRootfs(tarPath, debArch, createdBy string) (v1.Image, error) {
	b, err := os.ReadFile(tarPath)
	if err != nil {
		return nil, fmt.Errorf("read root filesystem tarball: %w", err)
	}
	img, err := oci.Image([]oci.Layer{{Name: "rootfs", Tar: b}}, oci.Config{
		Arch:    oci.Arch(debArch),
		User:    "root",
		Env:     []string{"PATH=" + build.DefaultPath},
		Cmd:     []string{"bash"},
		Created: time.Unix(0, 0),
		History: []string{createdBy},
	})
	if err != nil {
		return nil, fmt.Errorf("image from %s: %w", tarPath, err)
	}
	return img, nil
}

// BaselineOptions say how `compare --baseline general` builds the two images.
type BaselineOptions struct {
	Arch    string    // Debian architecture of both images
	Archive string    // also write the general-purpose image as a docker-archive here
	Stderr  io.Writer // mmdebstrap's progress; nil = discarded unless it fails
	TempDir string    // where mmdebstrap's root filesystem goes (os.TempDir() when empty)
	Audit   audit.Options
	// Mmdebstrap is the program to run ("mmdebstrap" from PATH when empty).
	Mmdebstrap string
}

// Baseline builds the general-purpose equivalent of o's spec (GeneralFor) and the Spartan
// image of the spec for one architecture and measures both: a is the general-purpose image,
// b Spartan's.
func Baseline(ctx context.Context, o build.Options, bo BaselineOptions) (a, b *Metrics, err error) {
	o.Archs = []string{bo.Arch}
	gen := GeneralFor(o.Spec, o.Mirrors, bo.Arch)
	gen.Stderr, gen.Mmdebstrap = bo.Stderr, bo.Mmdebstrap
	if o.Log != nil {
		o.Log.Info("baseline", "mmdebstrap", strings.Join(gen.Args("OUT"), " "))
	}
	dir := bo.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	genImg, err := gen.Build(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	if bo.Archive != "" {
		tag := "spartan-baseline/" + o.Spec.Name + ":general"
		if err := oci.WriteArchive(bo.Archive, genImg, []string{tag}); err != nil {
			return nil, nil, fmt.Errorf("write baseline archive: %w", err)
		}
	}
	out, err := build.Build(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	if a, _, err = MeasureTarget("general-purpose (mmdebstrap minbase)", &audit.Target{Name: "baseline", Kind: audit.KindMemory, Image: genImg}, bo.Audit); err != nil {
		return nil, nil, err
	}
	if b, _, err = MeasureTarget("spartan/"+o.Spec.Name, &audit.Target{Name: o.Spec.Name, Kind: audit.KindMemory, Image: out.Images[0].Image}, bo.Audit); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}
