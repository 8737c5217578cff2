package build

import (
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/appfiles"
	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/oci"
	probebin "github.com/spartan-images/spartan/internal/probe/bin"
	"github.com/spartan-images/spartan/internal/spec"
)

// basePackages is the part of the plan the spec's base would install: the packages reachable
// from the base's requested ones along the dependencies the resolution recorded (Why), so a
// build from a lockfile finds the same set without the archive's index. These keep the base
// image's layout (assemble.Options.BasePackages). nil when the spec extends nothing.
func (o Options) basePackages(p *Plan) []string {
	b := o.Spec.Base
	if b == nil {
		return nil
	}
	pkgs := make([]*archive.Package, 0, len(p.Result.Packages))
	for _, s := range p.Result.Packages {
		pkgs = append(pkgs, s.Pkg)
	}
	bo := o
	bo.Spec = b
	// The base's packages are those reachable from its requested ones along the recorded
	// edges ("<depender> Depends" in Why): walked once from each, not re-scanned to a fixpoint.
	pulled := map[string][]string{}
	for _, s := range p.Result.Packages {
		for _, why := range s.Why {
			if from, _, ok := strings.Cut(why, " "); ok {
				pulled[from] = append(pulled[from], s.Pkg.Name)
			}
		}
	}
	queue := bo.requestedPackages(pkgs, p.Arch)
	in := map[string]bool{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if !in[name] {
			in[name] = true
			queue = append(queue, pulled[name]...)
		}
	}
	var names []string
	for _, s := range p.Result.Packages {
		if in[s.Pkg.Name] {
			names = append(names, s.Pkg.Name)
		}
	}
	if len(names) == 0 {
		o.log().Warn("none of the base's packages is in this image: its layers cannot be shared", "base", b.Name, "arch", p.Arch)
		return nil
	}
	return names
}

// addedLayersTime is the mtime of the layers Spartan adds above the packages (the health
// probe, the application's files): 1980-01-01, the earliest time a ZIP archive can hold (so
// tools that pack these files, like zipapp or jar, accept them), capped by SOURCE_DATE_EPOCH.
// It depends on neither the host nor the packages, so these layers change only with their
// content.
func addedLayersTime(epoch time.Time) time.Time {
	t := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	if !epoch.IsZero() && epoch.Before(t) {
		return epoch
	}
	return t
}

// topLayers are the layers above the assembled ones: the health probe when the spec asks for
// it, then one layer per files: set, in spec order. history gives each its created_by.
func (o Options) topLayers(arch string, epoch time.Time) (layers []oci.Layer, history []string, err error) {
	mtime := addedLayersTime(epoch)
	if o.Spec.Probe {
		tar, err := probebin.Layer(arch, mtime)
		if err != nil {
			return nil, nil, fmt.Errorf("health probe for %s: %w", o.Spec.Name, err)
		}
		layers = append(layers, oci.Layer{Name: "spartan-probe", Tar: tar})
		history = append(history, "spartan: spartan-probe "+probebin.Version)
	}
	for _, f := range o.Spec.Files {
		tar, err := appfiles.Layer(appfiles.Set{Src: f.Src, Dest: f.Dest, UID: f.UID, GID: f.GID, Mode: f.Mode, DirMode: f.DirMode}, mtime)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.Spec.File, err)
		}
		layers = append(layers, oci.Layer{Name: "files " + f.Dest, Tar: tar})
		history = append(history, "spartan: files "+f.Dest)
	}
	return layers, history, nil
}

// healthConfig is the spec's healthcheck in the image config.
func healthConfig(h *spec.Healthcheck) *v1.HealthConfig {
	if h == nil {
		return nil
	}
	return &v1.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
}
