package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxSpecSize keeps a stray huge file from being parsed; real specs are a
// few kilobytes.
const maxSpecSize = 1 << 20

// Load reads a spec from an image folder (images/<name>) or from the YAML
// file itself, then checks it like Parse and also that the files it
// references (certificates, keyrings) exist and hold what they should.
func Load(path string) (*Spec, error) {
	file := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		file = filepath.Join(path, FileName)
	}
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load spec %s: no such file (give an image folder holding %s, or the file itself)", file, FileName)
		}
		return nil, fmt.Errorf("load spec %s: %w", file, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSpecSize+1))
	if err != nil {
		return nil, fmt.Errorf("load spec %s: %w", file, err)
	}
	return parse(file, "", data, true, nil)
}

// Parse checks a spec held in memory; file is the name used in messages
// and the base for relative references. It does not touch the file
// system: certificate and keyring files are only checked by Load.
func Parse(file string, data []byte) (*Spec, error) {
	return parse(file, "", data, false, nil)
}

// parse checks a spec; file names it in messages, key identifies it among bases (its absolute
// path, or catalog:<name>; "" derives it from file) and stack lists the specs that extend it,
// outermost first.
func parse(file, key string, data []byte, checkFiles bool, stack []string) (*Spec, error) {
	errs := &errList{file: file}
	if len(data) > maxSpecSize {
		errs.at(where{}, "spec is larger than %d KiB; is this the right file?", maxSpecSize>>10)
		return nil, errs.err()
	}
	root := parseYAML(data, errs)
	if root == nil {
		return nil, errs.err()
	}
	d := &decoder{errs: errs}
	if len(stack) > 0 {
		d.file = file
	}
	base := d.decodeDoc(root, "", false)
	// Rules across fields only run on a spec whose fields all decoded:
	// otherwise one typo would also show up as "required" errors.
	if base == nil || !errs.empty() {
		return nil, errs.err()
	}
	abs := key
	if abs == "" {
		var err error
		if abs, err = filepath.Abs(file); err != nil {
			abs = filepath.Clean(file)
		}
	}
	dir := filepath.Dir(abs)
	if strings.HasPrefix(abs, catalogPrefix) {
		dir = ""
	}
	r := &resolver{errs: errs, dir: dir, display: file, checkFiles: checkFiles}
	fam := &family{raw: slices.Clone(data), display: file, variants: map[string]*Spec{}}
	if base.base != nil {
		if fam.parent = r.loadBase(base.base, append(slices.Clone(stack), abs)); fam.parent == nil {
			return nil, errs.err()
		}
		base = inherit(fam.parent.fam.doc, base)
	}
	defaultUsers(base)
	fam.doc = absolute(base, r)
	fam.base = r.resolve(base, "", nil)
	fam.base.Base = fam.parent.baseFor("")
	for _, v := range base.variants {
		var tags []string
		if v.doc.tags == nil {
			tags = r.variantTags(fam.base.Tags, v.name)
		}
		fam.variants[v.name.v] = r.resolve(overlay(base, v.doc), v.name.v, tags)
		fam.variants[v.name.v].Base = fam.parent.baseFor(v.name.v)
	}
	if !errs.empty() {
		return nil, errs.err()
	}
	for _, s := range append([]*Spec{fam.base}, slices.Collect(maps.Values(fam.variants))...) {
		s.File, s.Dir, s.fam = abs, filepath.Dir(abs), fam
	}
	return fam.base.clone(), nil
}

// variantTags derives a variant's default tags from the base's, the way
// distroless and Chainguard name theirs: python:3.13 → python:3.13-dev.
func (r *resolver) variantTags(base []string, name sval) []string {
	out := make([]string, 0, len(base))
	for _, t := range base {
		v, msg := normalizeTag(t + "-" + name.v)
		if msg != "" {
			at := name.at
			at.field = sub(at.field, name.v)
			r.errs.at(at, "default tag: %s; set tags in the variant", msg)
			continue
		}
		out = append(out, v)
	}
	return out
}

// parseYAML returns the document's root node, or nil after recording why
// there is none.
func parseYAML(data []byte, errs *errList) (root *yaml.Node) {
	// yaml.v3 has panicked on malformed input before (go-yaml#666); a
	// bad spec must never crash the tool.
	defer func() {
		if p := recover(); p != nil {
			errs.at(where{line: 1}, "YAML parser failed: %v", p)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			errs.at(where{line: 1}, "empty spec; it needs at least name and packages")
		} else {
			yamlError(data, err, errs)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		errs.at(where{line: next.Line}, "a spec file holds one YAML document; remove the second one (---)")
		return nil
	} else if !errors.Is(err, io.EOF) {
		yamlError(data, err, errs)
		return nil
	}
	if len(doc.Content) == 0 {
		errs.at(where{line: 1}, "empty spec; it needs at least name and packages")
		return nil
	}
	return doc.Content[0]
}

var reYAMLLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are yaml.v3's parser (not scanner) messages: for these it
// prints the 0-based line of the construct being parsed (only scanner errors
// get the +1), so they are shifted to 1-based here.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlError turns a yaml.v3 syntax error into a positioned Error. yaml.v3
// leaves the line out for problems on the first line and for byte-level
// errors, so those are located here.
func yamlError(data []byte, err error, errs *errList) {
	msg := err.Error()
	if m := reYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			line++
		}
		errs.at(where{line: line}, "invalid YAML: %s", m[2])
		return
	}
	if msg = strings.TrimPrefix(msg, "yaml: "); parserProblems[msg] {
		// The line was left out because it is 0-based 0: the first line.
		errs.at(where{line: 1}, "invalid YAML: %s", msg)
		return
	}
	line, col := badChar(data)
	if line == 0 {
		line = 1
		col = 0
	}
	errs.at(where{line: line, col: col}, "invalid YAML: %s", msg)
}

// badChar finds the first byte YAML refuses: invalid UTF-8 or a control
// character other than tab, newline and carriage return.
func badChar(data []byte) (line, col int) {
	line, col = 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		bad := r == utf8.RuneError && size <= 1 ||
			r < 0x20 && r != '\t' && r != '\n' && r != '\r' ||
			r >= 0x7f && r <= 0x9f && r != 0x85 || r == 0xfffe || r == 0xffff
		if bad {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return 0, 0
}

// Variant returns the spec of a variant: "" or "runtime" is the base. The
// result is a copy the caller may change.
func (s *Spec) Variant(name string) (*Spec, error) {
	if s.fam == nil {
		return nil, errors.New("spec was not made by Load or Parse: it has no variants")
	}
	if name == "" || name == string(Runtime) {
		return s.fam.base.clone(), nil
	}
	if v, ok := s.fam.variants[name]; ok {
		return v.clone(), nil
	}
	avail := append([]string{"runtime (the base)"}, s.VariantNames()...)
	return nil, fmt.Errorf("%s: unknown variant %q; available: %s", s.fam.display, name, strings.Join(avail, ", "))
}

// VariantNames lists the variants the file declares, sorted; the base
// ("runtime") is not among them.
func (s *Spec) VariantNames() []string {
	if s.fam == nil {
		return []string{}
	}
	names := make([]string, 0, len(s.fam.variants))
	for n := range s.fam.variants {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Digest is the sha256 (hex) of the spec file's bytes, recorded in
// provenance so an image can be traced to the exact recipe. For a spec
// with a base it also covers the base's digest: the image depends on both.
func (s *Spec) Digest() string {
	if s.fam == nil {
		return ""
	}
	h := sha256.New()
	h.Write(s.fam.raw)
	if p := s.fam.parent; p != nil {
		// The image depends on the base's recipe too.
		h.Write([]byte("\x00base\x00" + p.Digest()))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Spec) clone() *Spec {
	c := *s
	c.Archs = slices.Clone(s.Archs)
	c.Packages = slices.Clone(s.Packages)
	c.Exclude = slices.Clone(s.Exclude)
	c.Allow = slices.Clone(s.Allow)
	c.Entrypoint = slices.Clone(s.Entrypoint)
	c.Cmd = slices.Clone(s.Cmd)
	c.Certificates = slices.Clone(s.Certificates)
	c.Tags = slices.Clone(s.Tags)
	c.Paths = slices.Clone(s.Paths)
	c.Files = slices.Clone(s.Files)
	if s.Healthcheck != nil {
		h := *s.Healthcheck
		h.Test = slices.Clone(h.Test)
		c.Healthcheck = &h
	}
	c.Env = maps.Clone(s.Env)
	c.Annotations = maps.Clone(s.Annotations)
	c.Labels = maps.Clone(s.Labels)
	c.Trim.KeepLocales = slices.Clone(s.Trim.KeepLocales)
	c.Trim.Paths = slices.Clone(s.Trim.Paths)
	c.Trim.JavaModules = slices.Clone(s.Trim.JavaModules)
	c.Repositories = make([]Repository, len(s.Repositories))
	for i, r := range s.Repositories {
		r.Suites = slices.Clone(r.Suites)
		r.Components = slices.Clone(r.Components)
		c.Repositories[i] = r
	}
	c.Accounts.Users = slices.Clone(s.Accounts.Users)
	c.Accounts.Groups = make([]Group, len(s.Accounts.Groups))
	for i, g := range s.Accounts.Groups {
		g.Members = slices.Clone(g.Members)
		c.Accounts.Groups[i] = g
	}
	return &c
}

// baseFor is the spec a variant of the extending spec reuses the layers of: the base's variant
// of the same name, else the base itself. nil when there is no base.
func (s *Spec) baseFor(variant string) *Spec {
	if s == nil {
		return nil
	}
	if v, ok := s.fam.variants[variant]; ok {
		return v.clone()
	}
	return s.fam.base.clone()
}
