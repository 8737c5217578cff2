package rebase

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/rootfs"
)

// OCI's base-image annotations (image-spec annotations.md): the reference and the manifest
// digest of the image an image was built FROM. buildah sets them on what it builds; rebase
// reads them to find the old base and writes them for the new one.
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// Refusal is why an application cannot be rebased; the message says what to do instead.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return r.Reason }

func refuse(format string, args ...any) error { return &Refusal{Reason: fmt.Sprintf(format, args...)} }

// Image is one platform's application image on a new base: newBase's layers, then the
// application's layers above the old base, byte for byte (their blobs are reused, never
// recompressed). The config is the application's, with diff_ids and history re-stitched and
// everything the application inherited from the base unchanged — environment variables,
// labels, user, working directory, entrypoint and command whose value is still the old
// base's — taking the new base's value.
//
// Like go-containerregistry's mutate.Rebase it checks the application is built on oldBase,
// but by diff_id (the uncompressed layer), not by blob digest: podman and docker recompress
// the base's layers when they push an application, so the blobs differ while the files are
// the same. Unlike it, it refuses a platform mismatch and application layers that change an
// installed-package database (dpkg's or apk's): a package installed on top was resolved against the old base's
// libraries and its record would shadow the new base's.
func Image(app, oldBase, newBase v1.Image) (v1.Image, error) {
	appCfg, err := app.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("application config: %w", err)
	}
	oldCfg, err := oldBase.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("old base config: %w", err)
	}
	newCfg, err := newBase.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("new base config: %w", err)
	}
	if a, n := platformOf(appCfg), platformOf(newCfg); a != n {
		return nil, refuse("the new base is %s, the application is %s: rebase onto the new base's %s image", n, a, a)
	}
	if a, o := platformOf(appCfg), platformOf(oldCfg); a != o {
		return nil, refuse("the old base is %s, the application is %s: name the old base's %s image", o, a, a)
	}
	appIDs, oldIDs := appCfg.RootFS.DiffIDs, oldCfg.RootFS.DiffIDs
	if len(oldIDs) == 0 {
		return nil, refuse("the old base has no layers")
	}
	if len(appIDs) < len(oldIDs) {
		return nil, refuse("the application has %d layers, fewer than the old base's %d: it is not built on the old base", len(appIDs), len(oldIDs))
	}
	for i, id := range oldIDs {
		if appIDs[i] != id {
			return nil, refuse("layer %d of the application (%s%s) is not the old base's (%s): the application is not built on the old base, "+
				"or something below its own layers changed the base's; rebuild it on the new base instead", i, appIDs[i], createdBy(appCfg.History, i), id)
		}
	}

	appLayers, err := app.Layers()
	if err != nil {
		return nil, fmt.Errorf("application layers: %w", err)
	}
	if len(appLayers) != len(appIDs) {
		return nil, fmt.Errorf("application: %d layers for %d diff_ids: the image is malformed", len(appLayers), len(appIDs))
	}
	top := appLayers[len(oldIDs):]
	for i, l := range top {
		if path, err := packageDatabase(l); err != nil {
			return nil, fmt.Errorf("application layer %d: %w", len(oldIDs)+i, err)
		} else if path != "" {
			return nil, refuse("layer %d of the application (%s) changes the package database (%s): packages installed on top of the base were resolved against the old base's libraries, "+
				"and rebasing would leave their records beside the new base's; rebuild the application on the new base instead", len(oldIDs)+i, strings.TrimPrefix(createdBy(appCfg.History, len(oldIDs)+i), ", "), path)
		}
	}

	appHist, err := ownHistory(appCfg.History, len(oldCfg.History), len(oldIDs))
	if err != nil {
		return nil, err
	}
	cfg := appCfg.DeepCopy()
	cfg.Architecture, cfg.OS, cfg.OSVersion, cfg.Variant = newCfg.Architecture, newCfg.OS, newCfg.OSVersion, newCfg.Variant
	cfg.RootFS.DiffIDs = append(slices.Clone(newCfg.RootFS.DiffIDs), appIDs[len(oldIDs):]...)
	if appCfg.History != nil {
		cfg.History = append(slices.Clone(newCfg.History), appHist...)
	}
	inherit(&cfg.Config, oldCfg.Config, newCfg.Config)

	baseType, err := newBase.MediaType()
	if err != nil {
		return nil, fmt.Errorf("new base manifest: %w", err)
	}
	adds := make([]mutate.Addendum, 0, len(top))
	for _, l := range top {
		mt, err := l.MediaType()
		if err != nil {
			return nil, fmt.Errorf("application layer: %w", err)
		}
		adds = append(adds, mutate.Addendum{Layer: l, MediaType: layerType(mt, baseType)})
	}
	img, err := mutate.Append(newBase, adds...)
	if err != nil {
		return nil, fmt.Errorf("append the application's layers: %w", err)
	}
	// Set last: Append wrote history and diff_ids of its own.
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return nil, fmt.Errorf("application config: %w", err)
	}
	return img, nil
}

// platformOf is a config's platform as people write it (linux/amd64, linux/arm/v7).
func platformOf(c *v1.ConfigFile) string {
	p := v1.Platform{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant}
	return p.String()
}

// createdBy names layer i by the history entry that made it, for messages.
func createdBy(h []v1.History, layer int) string {
	n := 0
	for _, e := range h {
		if e.EmptyLayer {
			continue
		}
		if n == layer {
			if e.CreatedBy == "" {
				return ""
			}
			return ", created by " + strings.TrimSpace(e.CreatedBy)
		}
		n++
	}
	return ""
}

// ownHistory is the application's history above the old base's: the first baseEntries
// entries (holding baseLayers layers) are the base's. An image without history has none.
func ownHistory(h []v1.History, baseEntries, baseLayers int) ([]v1.History, error) {
	if len(h) == 0 {
		return nil, nil
	}
	if len(h) < baseEntries {
		return nil, refuse("the application's history has %d entries, fewer than the old base's %d: it is not built on the old base", len(h), baseEntries)
	}
	n := 0
	for _, e := range h[:baseEntries] {
		if !e.EmptyLayer {
			n++
		}
	}
	if n != baseLayers {
		return nil, refuse("the application's first %d history entries make %d layers, the old base has %d: it is not built on the old base", baseEntries, n, baseLayers)
	}
	return h[baseEntries:], nil
}

// inherit gives cfg the new base's value of whatever it still holds the old base's value of:
// what the application set itself stays.
func inherit(cfg *v1.Config, old, cur v1.Config) {
	cfg.Env = inheritEnv(cfg.Env, old.Env, cur.Env)
	cfg.Labels = inheritMap(cfg.Labels, old.Labels, cur.Labels)
	if cfg.User == old.User {
		cfg.User = cur.User
	}
	if cfg.WorkingDir == old.WorkingDir {
		cfg.WorkingDir = cur.WorkingDir
	}
	if slices.Equal(cfg.Entrypoint, old.Entrypoint) {
		cfg.Entrypoint = slices.Clone(cur.Entrypoint)
		// The command belongs with the entrypoint: an inherited pair moves together.
		if slices.Equal(cfg.Cmd, old.Cmd) {
			cfg.Cmd = slices.Clone(cur.Cmd)
		}
	}
	if cfg.StopSignal == old.StopSignal {
		cfg.StopSignal = cur.StopSignal
	}
}

// inheritEnv applies inheritMap to KEY=VALUE lists, keeping the application's order and
// appending what the new base adds.
func inheritEnv(app, old, cur []string) []string {
	toMap := func(env []string) (map[string]string, []string) {
		m := map[string]string{}
		var order []string
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = v
		}
		return m, order
	}
	a, order := toMap(app)
	o, _ := toMap(old)
	c, curOrder := toMap(cur)
	m := inheritMap(a, o, c)
	var out []string
	for _, k := range order {
		if v, ok := m[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	for _, k := range curOrder {
		if _, had := a[k]; !had {
			if v, ok := m[k]; ok {
				out = append(out, k+"="+v)
			}
		}
	}
	return out
}

// inheritMap: a key the application holds with the old base's value takes the new base's
// (and goes when the new base dropped it); a key the new base added that the application
// lacks is added; the application's own keys stay.
func inheritMap(app, old, cur map[string]string) map[string]string {
	if app == nil && cur == nil {
		return nil
	}
	out := maps.Clone(app)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range app {
		ov, inherited := old[k]
		if !inherited || ov != v {
			continue
		}
		if nv, ok := cur[k]; ok {
			out[k] = nv
		} else {
			delete(out, k)
		}
	}
	for k, v := range cur {
		if _, ok := app[k]; !ok {
			if _, wasOld := old[k]; !wasOld {
				out[k] = v
			}
		}
	}
	return out
}

// layerType is the media type an application layer gets in the new manifest: the same
// compression in the manifest's own family (docker and OCI media types do not mix in one
// manifest). The blob is unchanged.
func layerType(layer, manifest types.MediaType) types.MediaType {
	oci := manifest == types.OCIManifestSchema1
	switch {
	case oci && layer == types.DockerLayer:
		return types.OCILayer
	case oci && layer == types.DockerUncompressedLayer:
		return types.OCIUncompressedLayer
	case !oci && layer == types.OCILayer:
		return types.DockerLayer
	case !oci && layer == types.OCIUncompressedLayer:
		return types.DockerUncompressedLayer
	}
	return layer
}

// packageDatabase returns the first record of an installed-package database (dpkg's or
// apk's: inventory.IsRecord) that layer writes or deletes, or "" when it leaves them alone.
func packageDatabase(l v1.Layer) (string, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	layer, err := rootfs.ReadLayer(rc, rootfs.Options{Select: inventory.IsRecord})
	if err != nil {
		return "", err
	}
	for _, op := range layer.Ops {
		switch {
		case op.File != nil && !op.File.IsDir() && inventory.IsRecord(op.File.Path):
			return op.File.Path, nil
		case op.Whiteout != "" && inventory.IsRecord(op.Whiteout):
			// A removed package is a change too.
			return op.Whiteout, nil
		}
	}
	return "", nil
}
