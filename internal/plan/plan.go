// Package plan splits a catalog into work units that a CI engine can run on as many machines
// as it has: one unit is one image, variant and architecture, built from its lock with
// `spartan build --locked --push`. Each unit has a key computed from everything that decides
// the image's bytes, and the registry is the only shared state: a unit whose key is already
// tagged there is done. A final step per image and variant stitches the per-architecture
// images into the index a single-machine build makes, and signs it.
//
// Nothing here downloads an image: planning reads specs and locks from disk and asks the
// registry for manifests by HEAD.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/errgroup"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/spec"
)

// KeyVersion changes when what goes into a key changes, so that old keys stop matching.
const KeyVersion = 1

// TagPrefix starts the tag a unit's or index's key is pushed under: key-<sha256 hex>.
const TagPrefix = "key-"

// Options say what to plan and where the images go.
type Options struct {
	// Specs are spec files, image folders, or folders of image folders (images/).
	Specs []string
	// Registry is where images go: a host with an optional path (localhost:5000/team). Each
	// image's repository is Registry/<the repository of its first tag>, else Registry/<name>.
	// Without it the plan has keys but no references (enough for a CI matrix), and cannot
	// be checked or stitched.
	Registry string
	Version  string // Spartan's version: a new Spartan may make other bytes
	// Mirrors matter to dev variants only: their apt sources name them.
	Mirrors build.Mirrors
	Epoch   *time.Time // SOURCE_DATE_EPOCH, which caps every mtime
	// Variants and Archs, when set, keep only these.
	Variants []string
	Archs    []string
}

// Plan is every unit and every index of the specs planned.
type Plan struct {
	Version  string   `json:"spartanVersion"`
	Registry string   `json:"registry"`
	Units    []*Unit  `json:"units"`
	Indexes  []*Index `json:"indexes"`
	// Checked is set once the registry was asked which keys it holds (Satisfied is
	// meaningful only then).
	Checked bool `json:"checked"`
}

// Unit is one image × variant × architecture.
type Unit struct {
	ID      string `json:"id"` // image/variant/arch
	Image   string `json:"image"`
	Spec    string `json:"spec"` // the spec file, as given (relative paths stay relative)
	Variant string `json:"variant"`
	Arch    string `json:"arch"`
	Key     string `json:"key"`           // sha256 hex of the unit's inputs
	Ref     string `json:"ref,omitempty"` // where the unit's image is pushed: <repository>:key-<key>
	// Needs are the units to run first (the same variant and architecture of the image's
	// base); Level is the unit's depth in that order, 0 for units that need nothing.
	Needs     []string `json:"needs,omitempty"`
	Level     int      `json:"level"`
	Satisfied bool     `json:"satisfied"`
	// Sources are the source package names the unit's lock holds, for the reverse index.
	Sources []string `json:"-"`
	base    string   // baseKey of the spec's direct base; "" when it extends nothing
	file    string   // absolute spec path
}

// Index is the final step for one image and variant: the per-architecture images stitched
// into one index (or, for a single architecture, the image itself), signed and tagged.
type Index struct {
	ID        string   `json:"id"` // image/variant
	Image     string   `json:"image"`
	Spec      string   `json:"spec"`
	Variant   string   `json:"variant"`
	Units     []string `json:"units"` // in the spec's architecture order, which the index follows
	Key       string   `json:"key"`
	Ref       string   `json:"ref,omitempty"` // <repository>:key-<key>, tagged last, once signed
	Tags      []string `json:"tags"`          // the spec's tags, in the registry
	Level     int      `json:"level"`
	Satisfied bool     `json:"satisfied"`
}

// New plans the specs. Every spec needs its locks (spartan lock): a unit's key is made of
// what the lock pins, so that planning never reads a repository index.
func New(o Options) (*Plan, error) {
	reg := strings.TrimSuffix(o.Registry, "/")
	if _, err := name.NewRepository(reg+"/x", name.WeakValidation); reg != "" && err != nil {
		return nil, fmt.Errorf("--registry %q is not a registry host with an optional path: %w", o.Registry, err)
	}
	files, err := specFiles(o.Specs)
	if err != nil {
		return nil, err
	}
	p := &Plan{Version: o.Version, Registry: reg, Units: []*Unit{}, Indexes: []*Index{}}
	// Specs are read and hashed in parallel, each into its own plan, joined in their order.
	parts := make([]*Plan, len(files))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		g.Go(func() error {
			parts[i] = &Plan{Registry: reg}
			return parts[i].addSpec(o, f)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, part := range parts {
		p.Units = append(p.Units, part.Units...)
		p.Indexes = append(p.Indexes, part.Indexes...)
	}
	if err := p.order(); err != nil {
		return nil, err
	}
	return p, nil
}

// specFiles expands the arguments into spec files: a file stays, a folder with a
// spartan.yaml is that file, another folder is each of its subfolders that has one.
func specFiles(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, errors.New("plan: no specs: name spec files or folders (e.g. images/)")
	}
	var out []string
	seen := map[string]bool{}
	add := func(display string) error {
		abs, err := filepath.Abs(display)
		if err != nil {
			return err
		}
		if !seen[abs] {
			seen[abs] = true
			out = append(out, display)
		}
		return nil
	}
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("spec %s: %w", a, err)
		}
		if !fi.IsDir() {
			if err := add(a); err != nil {
				return nil, err
			}
			continue
		}
		if own := filepath.Join(a, spec.FileName); exists(own) {
			if err := add(own); err != nil {
				return nil, err
			}
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("spec folder %s: %w", a, err)
		}
		n := len(out)
		for _, e := range entries {
			if f := filepath.Join(a, e.Name(), spec.FileName); e.IsDir() && exists(f) {
				if err := add(f); err != nil {
					return nil, err
				}
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("spec folder %s holds no %s, nor do its subfolders", a, spec.FileName)
		}
	}
	return out, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

func (p *Plan) addSpec(o Options, file string) error {
	s, err := spec.Load(file)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(s.File)
	if err != nil {
		return fmt.Errorf("plan %s: %w", file, err)
	}
	variants := append([]string{string(spec.Runtime)}, s.VariantNames()...)
	for _, v := range variants {
		if len(o.Variants) > 0 && !slices.Contains(o.Variants, v) {
			continue
		}
		vs, err := s.Variant(v)
		if err != nil {
			return err
		}
		if err := p.addVariant(o, file, raw, vs, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *Plan) addVariant(o Options, file string, raw []byte, s *spec.Spec, variant string) error {
	l, err := build.ReadLock(build.LockPath(s), s, build.LockStrict)
	if err != nil {
		return fmt.Errorf("plan %s (%s): %w", s.Name, variant, err)
	}
	repo, tags, err := repository(p.Registry, s)
	if err != nil {
		return err
	}
	common, err := commonInputs(o, s, raw)
	if err != nil {
		return err
	}
	byArch := map[string]build.LockArch{}
	for _, a := range l.Archs {
		byArch[a.Arch] = a
	}
	idx := &Index{ID: s.Name + "/" + variant, Image: s.Name, Spec: file, Variant: variant, Units: []string{}, Tags: tags}
	var keys []string
	for _, arch := range s.Archs {
		if len(o.Archs) > 0 && !slices.Contains(o.Archs, arch) {
			continue
		}
		la, ok := byArch[arch]
		if !ok {
			return fmt.Errorf("plan %s (%s): the lock %s has no %s resolution: run `spartan lock` again", s.Name, variant, build.LockPath(s), arch)
		}
		key, err := unitKey(common, la)
		if err != nil {
			return fmt.Errorf("plan %s (%s, %s): %w", s.Name, variant, arch, err)
		}
		u := &Unit{
			ID: s.Name + "/" + variant + "/" + arch, Image: s.Name, Spec: file, Variant: variant, Arch: arch,
			Key: key, Sources: sources(la), file: s.File,
		}
		if s.Base != nil {
			u.base = baseKey(s.Base)
		}
		if repo != "" {
			u.Ref = repo + ":" + TagPrefix + key
		}
		p.Units = append(p.Units, u)
		idx.Units = append(idx.Units, u.ID)
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil
	}
	if idx.Key, err = hashJSON(struct {
		Units []string `json:"units"`
		Tags  []string `json:"tags"`
	}{keys, tags}); err != nil {
		return err
	}
	if repo != "" {
		idx.Ref = repo + ":" + TagPrefix + idx.Key
	}
	p.Indexes = append(p.Indexes, idx)
	return nil
}

// repository is where a spec's images go and the spec's tags there: the registry, then the
// repository of the spec's first tag without its host (spartan/static:latest under
// localhost:5000/ci is localhost:5000/ci/spartan/static:latest).
func repository(registry string, s *spec.Spec) (string, []string, error) {
	path := s.Name
	tags := []string{}
	if registry == "" {
		return "", tags, nil
	}
	for i, t := range s.Tags {
		ref, err := name.NewTag(t, name.WeakValidation)
		if err != nil {
			return "", nil, fmt.Errorf("%s: tag %q: %w", s.File, t, err)
		}
		if i == 0 {
			path = ref.RepositoryStr()
		}
		tags = append(tags, registry+"/"+ref.RepositoryStr()+":"+ref.TagStr())
	}
	return registry + "/" + path, tags, nil
}

// inputs are what decide a unit's bytes besides its architecture's lock. The lock's packages
// are pinned by SHA-256, so which mirror serves them does not matter, except to a dev image,
// whose apt sources name the mirror.
type inputs struct {
	KeyVersion int               `json:"keyVersion"`
	Spartan    string            `json:"spartan"`
	Variant    string            `json:"variant"`
	Spec       string            `json:"spec"`            // sha256 of the spec file
	Bases      []string          `json:"bases,omitempty"` // sha256 of each base spec file, nearest first
	Files      map[string]string `json:"files,omitempty"` // sha256 of files the spec reads (certificates, application files, dev keyrings)
	Epoch      string            `json:"epoch,omitempty"`
	AptMirrors []string          `json:"aptMirrors,omitempty"`
	LockArch   json.RawMessage   `json:"lockArch,omitempty"`
}

func commonInputs(o Options, s *spec.Spec, raw []byte) (inputs, error) {
	in := inputs{KeyVersion: KeyVersion, Spartan: o.Version, Variant: s.VariantName, Spec: sum(raw), Files: map[string]string{}}
	if o.Epoch != nil {
		in.Epoch = o.Epoch.UTC().Format(time.RFC3339)
	}
	for _, b := range bases(s) {
		in.Bases = append(in.Bases, b.Digest())
	}
	read := func(f string) error {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("plan %s: %w", s.Name, err)
		}
		in.Files[f] = sum(data)
		return nil
	}
	for _, f := range s.Certificates {
		if err := read(f); err != nil {
			return in, err
		}
	}
	for _, fs := range s.Files {
		d, err := treeDigest(fs.Src)
		if err != nil {
			return in, fmt.Errorf("plan %s: files: %w", s.Name, err)
		}
		in.Files[fs.Src] = d
	}
	if s.Profile == spec.Dev {
		for _, r := range s.Repositories {
			if r.Keyring != "" {
				if err := read(r.Keyring); err != nil {
					return in, err
				}
			}
		}
		in.AptMirrors = []string{o.Mirrors.Main, o.Mirrors.Security}
	}
	return in, nil
}

func unitKey(in inputs, la build.LockArch) (string, error) {
	data, err := json.Marshal(la)
	if err != nil {
		return "", err
	}
	in.LockArch = data
	return hashJSON(in)
}

func hashJSON(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("key inputs: %w", err)
	}
	return sum(data), nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// sources are the source package names in an architecture's lock, sorted.
func sources(la build.LockArch) []string {
	var out []string
	for _, p := range la.Packages {
		src := p.Source
		if src == "" {
			src = p.Name
		}
		out = append(out, src)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
