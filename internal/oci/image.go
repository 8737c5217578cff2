package oci

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// AnnotationCreated is the OCI annotation set from Config.Created.
const AnnotationCreated = "org.opencontainers.image.created"

// Config is everything about an image besides its layers.
type Config struct {
	// Arch is a GOARCH-style architecture ("amd64", "arm64"); required.
	Arch string
	// Variant is the CPU variant; arm64 defaults to "v8", as registries and
	// engines normalise it, so that platform matching works either way.
	Variant string

	User       string
	WorkingDir string
	// Env entries are "KEY=value", kept in the given order.
	Env        []string
	Entrypoint []string
	Cmd        []string
	// Labels go to the config (what `docker inspect` shows).
	Labels map[string]string
	// Annotations go to the manifest. org.opencontainers.image.created is
	// added from Created unless set here.
	Annotations map[string]string
	// Created is the image creation time for config.created, every history
	// entry and the created annotation. It is stored in UTC truncated to the
	// second (the annotation is RFC 3339); the zero value means the Unix
	// epoch, never "now", so that an unset time cannot break reproducibility.
	Created time.Time
	// Healthcheck is the config's HEALTHCHECK (nil: none), as Docker and podman read it.
	Healthcheck *v1.HealthConfig
	// History holds one created_by per layer, e.g. "spartan: packages a b c".
	// Empty means "spartan: layer <name>" for each layer.
	History []string
}

// created is the normalised creation time (see Config.Created).
func (c Config) created() time.Time {
	if c.Created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return c.Created.UTC().Truncate(time.Second)
}

func (c Config) variant() string {
	if c.Variant == "" && c.Arch == "arm64" {
		return "v8"
	}
	return c.Variant
}

func (c Config) validate(nlayers int) error {
	if c.Arch == "" {
		return fmt.Errorf("image config: architecture is empty; set it to the target GOARCH (amd64, arm64, ...)")
	}
	for _, e := range c.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("image config: env entry %q is not KEY=value", e)
		}
	}
	if len(c.History) != 0 && len(c.History) != nlayers {
		return fmt.Errorf("image config: %d history entries for %d layers; give one per layer or none", len(c.History), nlayers)
	}
	return nil
}

// Image builds an OCI image (OCI manifest, config and gzip layer media types)
// from layers, bottom layer first. Layers are compressed in parallel.
func Image(layers []Layer, cfg Config) (v1.Image, error) {
	if err := cfg.validate(len(layers)); err != nil {
		return nil, err
	}
	gls, err := compressLayers(layers)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}

	created := v1.Time{Time: cfg.created()}
	cf := v1.ConfigFile{
		Architecture: cfg.Arch,
		Variant:      cfg.variant(),
		OS:           "linux",
		Created:      created,
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}},
		Config: v1.Config{
			User:        cfg.User,
			WorkingDir:  cfg.WorkingDir,
			Env:         cfg.Env,
			Entrypoint:  cfg.Entrypoint,
			Cmd:         cfg.Cmd,
			Labels:      cfg.Labels,
			Healthcheck: cfg.Healthcheck,
		},
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Layers:        []v1.Descriptor{},
		Annotations:   maps.Clone(cfg.Annotations),
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	if _, ok := m.Annotations[AnnotationCreated]; !ok {
		m.Annotations[AnnotationCreated] = created.Format(time.RFC3339)
	}

	byDigest := make(map[v1.Hash]*gzipLayer, len(gls))
	for i, gl := range gls {
		createdBy := "spartan: layer " + gl.name
		if len(cfg.History) != 0 {
			createdBy = cfg.History[i]
		}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, gl.diffID)
		cf.History = append(cf.History, v1.History{Created: created, CreatedBy: createdBy})
		m.Layers = append(m.Layers, v1.Descriptor{
			MediaType: types.OCILayer,
			Size:      int64(len(gl.gz)),
			Digest:    gl.digest,
		})
		byDigest[gl.digest] = gl
	}

	// encoding/json writes struct fields in declaration order and map keys
	// sorted, so these bytes are a pure function of the inputs.
	rawConfig, err := json.Marshal(cf)
	if err != nil {
		return nil, fmt.Errorf("build image: marshal config: %w", err)
	}
	m.Config = v1.Descriptor{
		MediaType: types.OCIConfigJSON,
		Size:      int64(len(rawConfig)),
		Digest:    sha256Hash(rawConfig),
	}
	rawManifest, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("build image: marshal manifest: %w", err)
	}
	return partial.CompressedToImage(&image{manifest: rawManifest, config: rawConfig, configDigest: m.Config.Digest, layers: byDigest})
}

// image is the minimal core go-containerregistry's partial package extends
// into a full v1.Image; keeping the raw bytes here means nothing downstream
// can re-marshal them differently.
type image struct {
	manifest     []byte
	config       []byte
	configDigest v1.Hash
	layers       map[v1.Hash]*gzipLayer
}

func (i *image) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (i *image) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *image) RawConfigFile() ([]byte, error)      { return i.config, nil }

func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	// Some writers fetch every blob the manifest names, config included.
	if h == i.configDigest {
		return partial.ConfigLayer(i)
	}
	return nil, fmt.Errorf("image has no layer %s", h)
}

// Digest returns the "sha256:..." digest of an image or index manifest.
func Digest(x interface{ Digest() (v1.Hash, error) }) (string, error) {
	h, err := x.Digest()
	if err != nil {
		return "", fmt.Errorf("compute digest: %w", err)
	}
	return h.String(), nil
}
