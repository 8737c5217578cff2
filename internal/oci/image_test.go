package oci

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// goldenDigest pins the manifest digest of testLayers+testConfig. If it
// changes, images built from the same packages get new digests: that must be
// a deliberate decision (e.g. a change to internal/deflate), noted in the
// changelog, not an accident.
const goldenDigest = "sha256:aba53a5e0f47da8ba08ae9e215e2724de869268cf4af45b41137bd2b525fcae7"

func TestImageGoldenDigest(t *testing.T) {
	if got := mustDigest(t, mustImage(t, testLayers(t), testConfig())); got != goldenDigest {
		t.Errorf("digest = %s, want %s", got, goldenDigest)
	}
}

func TestImageDeterministic(t *testing.T) {
	want := mustDigest(t, mustImage(t, testLayers(t), testConfig()))

	// The same instant given in another zone, a different local zone and
	// serial compression must not change anything.
	oldLocal := time.Local
	oldProcs := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { time.Local = oldLocal; runtime.GOMAXPROCS(oldProcs) })
	time.Local = time.FixedZone("UTC+13", 13*3600)
	cfg := testConfig()
	cfg.Created = cfg.Created.In(time.FixedZone("UTC-7", -7*3600))
	cfg.Created = cfg.Created.Add(400 * time.Millisecond) // sub-second noise is dropped
	if got := mustDigest(t, mustImage(t, testLayers(t), cfg)); got != want {
		t.Errorf("digest with other zones/GOMAXPROCS = %s, want %s", got, want)
	}

	// A fresh process with another TZ, at another time.
	cmd := exec.Command(os.Args[0], "-test.run=^TestDigestHelperProcess$")
	cmd.Env = append(os.Environ(), "SPARTAN_OCI_HELPER=1", "TZ=Pacific/Chatham")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper process: %v", err)
	}
	if got := strings.TrimSpace(strings.Split(string(out), "\n")[0]); got != want {
		t.Errorf("digest in TZ=Pacific/Chatham process = %q, want %s", got, want)
	}
}

// TestDigestHelperProcess prints the test image digest when run by
// TestImageDeterministic in a child process.
func TestDigestHelperProcess(t *testing.T) {
	if os.Getenv("SPARTAN_OCI_HELPER") != "1" {
		t.Skip("helper for TestImageDeterministic")
	}
	os.Stdout.WriteString(mustDigest(t, mustImage(t, testLayers(t), testConfig())) + "\n")
}

func TestImageConfig(t *testing.T) {
	cfg := testConfig()
	img := mustImage(t, testLayers(t), cfg)

	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"container", "hostname", "docker_version", "container_config"} {
		if _, ok := keys[k]; ok {
			t.Errorf("config has %q: %s", k, raw)
		}
	}
	if bytes.Contains(raw, []byte(`"Hostname"`)) {
		t.Errorf("config has a Hostname: %s", raw)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 5, 1, 12, 30, 45, 0, time.UTC)
	checks := []struct {
		name      string
		got, want any
	}{
		{"os", cf.OS, "linux"},
		{"architecture", cf.Architecture, "amd64"},
		{"variant", cf.Variant, ""},
		{"created", cf.Created.Time, created},
		{"user", cf.Config.User, cfg.User},
		{"workdir", cf.Config.WorkingDir, cfg.WorkingDir},
		{"env", cf.Config.Env, cfg.Env},
		{"entrypoint", cf.Config.Entrypoint, cfg.Entrypoint},
		{"cmd", cf.Config.Cmd, cfg.Cmd},
		{"labels", cf.Config.Labels, cfg.Labels},
		{"rootfs type", cf.RootFS.Type, "layers"},
		{"diff_ids", len(cf.RootFS.DiffIDs), 3},
		{"history", len(cf.History), 3},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	for i, h := range cf.History {
		if h.CreatedBy != cfg.History[i] || !h.Created.Time.Equal(created) || h.EmptyLayer {
			t.Errorf("history[%d] = %+v", i, h)
		}
	}
	if !bytes.Contains(raw, []byte(`"created":"2024-05-01T12:30:45Z"`)) {
		t.Errorf("created not in UTC RFC 3339: %s", raw)
	}

	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types: manifest %s, config %s", m.MediaType, m.Config.MediaType)
	}
	for i, l := range m.Layers {
		if l.MediaType != types.OCILayer {
			t.Errorf("layer %d media type %s", i, l.MediaType)
		}
	}
	wantAnn := map[string]string{
		"org.opencontainers.image.source":  "https://example.invalid/spartan",
		"org.opencontainers.image.created": "2024-05-01T12:30:45Z",
	}
	if !reflect.DeepEqual(m.Annotations, wantAnn) {
		t.Errorf("annotations = %v, want %v", m.Annotations, wantAnn)
	}
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("MediaType() = %s", mt)
	}
}

func TestImageDefaults(t *testing.T) {
	layers := testLayers(t)
	tests := []struct {
		name        string
		cfg         Config
		variant     string
		created     string
		createdBy0  string
		annCreated  string
		annotations map[string]string
	}{
		{
			name:       "arm64 gets v8, zero time is the epoch, default history",
			cfg:        Config{Arch: "arm64"},
			variant:    "v8",
			created:    "1970-01-01T00:00:00Z",
			createdBy0: "spartan: layer base",
			annCreated: "1970-01-01T00:00:00Z",
		},
		{
			name:       "explicit variant and created annotation win",
			cfg:        Config{Arch: "arm", Variant: "v7", Annotations: map[string]string{AnnotationCreated: "2000-01-01T00:00:00Z"}, Created: time.Unix(1e9, 0)},
			variant:    "v7",
			created:    "2001-09-09T01:46:40Z",
			createdBy0: "spartan: layer base",
			annCreated: "2000-01-01T00:00:00Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := mustImage(t, layers, tt.cfg)
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.Variant != tt.variant {
				t.Errorf("variant = %q, want %q", cf.Variant, tt.variant)
			}
			if got := cf.Created.Format(time.RFC3339); got != tt.created {
				t.Errorf("created = %s, want %s", got, tt.created)
			}
			if cf.History[0].CreatedBy != tt.createdBy0 {
				t.Errorf("history[0] = %q, want %q", cf.History[0].CreatedBy, tt.createdBy0)
			}
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Annotations[AnnotationCreated]; got != tt.annCreated {
				t.Errorf("created annotation = %q, want %q", got, tt.annCreated)
			}
			if tt.cfg.Annotations != nil && len(tt.cfg.Annotations) != 1 {
				t.Errorf("caller's annotations were modified: %v", tt.cfg.Annotations)
			}
		})
	}
}

func TestImageErrors(t *testing.T) {
	layers := testLayers(t)
	tests := []struct {
		name   string
		layers []Layer
		cfg    Config
		want   string
	}{
		{"no arch", layers, Config{}, "architecture is empty"},
		{"env without =", layers, Config{Arch: "amd64", Env: []string{"PATH"}}, `"PATH" is not KEY=value`},
		{"env with empty key", layers, Config{Arch: "amd64", Env: []string{"=x"}}, "not KEY=value"},
		{"history count", layers, Config{Arch: "amd64", History: []string{"one"}}, "1 history entries for 3 layers"},
		{"empty tar", []Layer{{Name: "hollow"}}, Config{Arch: "amd64"}, `layer "hollow": tar is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Image(tt.layers, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLayerDigests(t *testing.T) {
	layers := testLayers(t)
	img := mustImage(t, layers, testConfig())
	got, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(layers) {
		t.Fatalf("%d layers, want %d", len(got), len(layers))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range got {
		diffID, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256Hex(layers[i].Tar); diffID.Hex != want {
			t.Errorf("layer %d DiffID = %s, want sha256 of the tar %s", i, diffID.Hex, want)
		}
		if cf.RootFS.DiffIDs[i] != diffID {
			t.Errorf("config diff_ids[%d] = %s, want %s", i, cf.RootFS.DiffIDs[i], diffID)
		}

		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		gz, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		digest, _ := l.Digest()
		if want := sha256Hex(gz); digest.Hex != want {
			t.Errorf("layer %d Digest = %s, want sha256 of the blob %s", i, digest.Hex, want)
		}
		if size, _ := l.Size(); size != int64(len(gz)) {
			t.Errorf("layer %d Size = %d, blob has %d bytes", i, size, len(gz))
		}
		if mt, _ := l.MediaType(); mt != types.OCILayer {
			t.Errorf("layer %d media type %s", i, mt)
		}

		// The blob is real gzip of exactly the tar, with a header that says
		// nothing about the build host or time.
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("layer %d is not gzip: %v", i, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain, layers[i].Tar) {
			t.Errorf("layer %d decompresses to something other than its tar", i)
		}
		if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() || zr.OS != 255 || zr.Extra != nil {
			t.Errorf("layer %d gzip header = %+v", i, zr.Header)
		}
		if gz[4] != 0 || gz[5] != 0 || gz[6] != 0 || gz[7] != 0 {
			t.Errorf("layer %d gzip mtime bytes = %v", i, gz[4:8])
		}

		byDiff, err := img.LayerByDiffID(diffID)
		if err != nil {
			t.Fatalf("LayerByDiffID: %v", err)
		}
		if d, _ := byDiff.Digest(); d != digest {
			t.Errorf("LayerByDiffID(%s) digest %s, want %s", diffID, d, digest)
		}
	}

	// The config blob is reachable by digest too (some writers ask for it).
	cfgName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := img.LayerByDigest(cfgName)
	if err != nil {
		t.Fatalf("LayerByDigest(config): %v", err)
	}
	if d, _ := cl.Digest(); d != cfgName {
		t.Errorf("config layer digest %s, want %s", d, cfgName)
	}
	if _, err := img.LayerByDigest(v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}); err == nil {
		t.Error("LayerByDigest(unknown) succeeded")
	}
}

func TestDigestError(t *testing.T) {
	if _, err := Digest(failingDigest{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}

type failingDigest struct{}

func (failingDigest) Digest() (v1.Hash, error) { return v1.Hash{}, errors.New("boom") }

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
