package build

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/assemble"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/oci"
)

// The layer cache makes a rebuild of unchanged inputs cost a resolve and a copy: assembling
// and compressing are skipped when the same binary has already turned the same .debs with the
// same options into layers. The record lives in the download cache's derived area; the gzip
// blobs sit with the .debs, addressed by their digest.

// cachedLayer is one layer of a cached assembly.
type cachedLayer struct {
	Name     string   `json:"name"`
	Packages []string `json:"packages"`
	Digest   string   `json:"digest"`
	DiffID   string   `json:"diffID"`
}

// cachedAssembly is what a later build needs of an assembly without redoing it.
type cachedAssembly struct {
	Layers  []cachedLayer `json:"layers"`
	Notes   []string      `json:"notes"`
	Trimmed int           `json:"trimmed"`
	Files   int           `json:"files"`
	Epoch   time.Time     `json:"epoch"`
}

// assemblyKey hashes everything that decides an assembly's bytes: the executable (so a new
// Spartan never reuses an old one's layers), the options and each input .deb's digest.
func assemblyKey(inputs []assemble.Input, opts assemble.Options) (string, error) {
	self, err := executableDigest()
	if err != nil {
		return "", err
	}
	type in struct{ Name, Version, Arch, SHA256 string }
	ins := make([]in, len(inputs))
	for i, x := range inputs {
		ins[i] = in{x.Pkg.Name, x.Pkg.Version, x.Pkg.Architecture, x.Pkg.SHA256}
	}
	b, err := json.Marshal(struct {
		Self    string
		Options assemble.Options
		Inputs  []in
	}{self, opts, ins})
	if err != nil {
		return "", fmt.Errorf("layer cache key: %w", err)
	}
	sum := sha256.Sum256(b)
	return "assembly/" + hex.EncodeToString(sum[:]), nil
}

var exeDigest struct {
	once sync.Once
	hex  string
	err  error
}

func executableDigest() (string, error) {
	exeDigest.once.Do(func() {
		path, err := os.Executable()
		if err != nil {
			exeDigest.err = err
			return
		}
		f, err := os.Open(path)
		if err != nil {
			exeDigest.err = err
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			exeDigest.err = err
			return
		}
		exeDigest.hex = hex.EncodeToString(h.Sum(nil))
	})
	if exeDigest.err != nil {
		return "", fmt.Errorf("layer cache: hash the running executable: %w", exeDigest.err)
	}
	return exeDigest.hex, nil
}

// loadAssembly returns the cached layers for key, or ok=false on any miss or damage (a damaged
// record is simply rebuilt).
func loadAssembly(c *cache.Cache, key string) (*assemble.Result, []oci.Layer, bool) {
	raw, ok := c.GetDerived(key)
	if !ok {
		return nil, nil, false
	}
	var rec cachedAssembly
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, nil, false
	}
	res := &assemble.Result{Notes: rec.Notes, Trimmed: rec.Trimmed, Files: rec.Files, Epoch: rec.Epoch}
	layers := make([]oci.Layer, 0, len(rec.Layers))
	for _, l := range rec.Layers {
		d, err1 := v1.NewHash(l.Digest)
		diff, err2 := v1.NewHash(l.DiffID)
		if err1 != nil || err2 != nil {
			return nil, nil, false
		}
		gz, err := os.ReadFile(c.Path(d.Hex))
		if err != nil || sha256.Sum256(gz) != mustHex(d.Hex) {
			return nil, nil, false
		}
		layers = append(layers, oci.Layer{Name: l.Name, Gzip: gz, Digest: d, DiffID: diff})
		res.Layers = append(res.Layers, assemble.Layer{Name: l.Name, Packages: l.Packages})
	}
	return res, layers, true
}

func mustHex(h string) [32]byte {
	var out [32]byte
	b, err := hex.DecodeString(h)
	if err == nil && len(b) == 32 {
		copy(out[:], b)
	}
	return out
}

// storeAssembly records a fresh assembly. Failing to cache is not failing to build: errors are
// returned for logging only.
func storeAssembly(c *cache.Cache, key string, asm *assemble.Result, img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	// The assembled layers come first; the probe and application files above them are not
	// part of the assembly and are written afresh on every build.
	if len(layers) < len(asm.Layers) {
		return fmt.Errorf("layer cache: %d layers in the image, %d assembled", len(layers), len(asm.Layers))
	}
	rec := cachedAssembly{Notes: asm.Notes, Trimmed: asm.Trimmed, Files: asm.Files, Epoch: asm.Epoch}
	for i, l := range layers[:len(asm.Layers)] {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		diff, err := l.DiffID()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		gz, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if _, err := c.Put(d.Hex, bytes.NewReader(gz)); err != nil {
			return err
		}
		rec.Layers = append(rec.Layers, cachedLayer{Name: asm.Layers[i].Name, Packages: asm.Layers[i].Packages, Digest: d.String(), DiffID: diff.String()})
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return c.PutDerived(key, raw)
}
