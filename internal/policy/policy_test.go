package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/sign"
)

func publicKey(t *testing.T) []byte {
	t.Helper()
	_, pub, err := sign.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// strict is a CRD's published schema as an API server with strict field validation applies it
// (`kubectl apply --validate=strict`): objects that list their properties accept no others
// unless they preserve unknown fields. A misspelled field then fails the test. The root is left
// open: the API server checks apiVersion, kind and metadata itself, and the schemas omit them.
func strict(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var close func(any)
	close = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["properties"]; ok && v["x-kubernetes-preserve-unknown-fields"] != true {
				if _, set := v["additionalProperties"]; !set {
					v["additionalProperties"] = false
				}
			}
			for _, c := range v {
				close(c)
			}
		case []any:
			for _, c := range v {
				close(c)
			}
		}
	}
	for _, c := range doc.(map[string]any) {
		close(c)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(file, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// documents splits a YAML stream into JSON-shaped documents.
func documents(t *testing.T, stream []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
}

func TestPoliciesMatchTheControllersSchemas(t *testing.T) {
	pub := publicKey(t)
	for _, o := range []Options{
		{PublicKey: pub},
		{PublicKey: pub, Images: []string{"registry.example.com/spartan/**", "ghcr.io/acme/*"}, Name: "acme", Warn: true},
	} {
		out, err := Write(o, "")
		if err != nil {
			t.Fatal(err)
		}
		docs := documents(t, out)
		if len(docs) != 3 {
			t.Fatalf("%d documents, want two ClusterImagePolicies and a ClusterPolicy:\n%s", len(docs), out)
		}
		schemas := map[string]*jsonschema.Schema{
			"ClusterImagePolicy": strict(t, "clusterimagepolicy-v1beta1.schema.json"),
			"ClusterPolicy":      strict(t, "kyverno-clusterpolicy-v1.schema.json"),
		}
		for _, d := range docs {
			kind, _ := d["kind"].(string)
			if want := map[string]string{"ClusterImagePolicy": "policy.sigstore.dev/v1beta1", "ClusterPolicy": "kyverno.io/v1"}[kind]; d["apiVersion"] != want {
				t.Errorf("%s apiVersion %v, want %s", kind, d["apiVersion"], want)
			}
			s := schemas[kind]
			if s == nil {
				t.Fatalf("unexpected kind %q", kind)
			}
			// Through JSON: the validator wants JSON's types (float64 numbers).
			raw, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(inst); err != nil {
				t.Errorf("%s %v does not match the published schema: %v", kind, d["metadata"], err)
			}
		}
	}
}

// TestSchemaCheckCatchesMistakes: the strict schema check is not a formality — a misspelled
// field and a wrong type are refused.
func TestSchemaCheckCatchesMistakes(t *testing.T) {
	s := strict(t, "kyverno-clusterpolicy-v1.schema.json")
	for name, doc := range map[string]string{
		"misspelled field": `{"apiVersion":"kyverno.io/v1","kind":"ClusterPolicy","spec":{"rules":[{"name":"r","verifyImage":[]}]}}`,
		"wrong type":       `{"apiVersion":"kyverno.io/v1","kind":"ClusterPolicy","spec":{"background":"no"}}`,
		"unknown action":   `{"apiVersion":"kyverno.io/v1","kind":"ClusterPolicy","spec":{"rules":[{"name":"r","verifyImages":[{"failureAction":"Block"}]}]}}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(inst) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPoliciesRequireKeyAndProvenance(t *testing.T) {
	pub := publicKey(t)
	o := Options{PublicKey: pub, Images: []string{"registry.example.com/spartan/**"}}
	cips, err := ClusterImagePolicies(o)
	if err != nil {
		t.Fatal(err)
	}
	ky, err := KyvernoPolicy(o)
	if err != nil {
		t.Fatal(err)
	}
	type cipDoc struct {
		Metadata struct{ Name string }
		Spec     struct {
			Mode        string
			Images      []struct{ Glob string }
			Authorities []struct {
				Key          struct{ Data string }
				Attestations []struct {
					PredicateType string `yaml:"predicateType"`
					Policy        struct{ Type, Data string }
				}
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(cips))
	var attested, n int
	for ; ; n++ {
		var c cipDoc
		if err := dec.Decode(&c); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if c.Spec.Mode != "enforce" || len(c.Spec.Images) != 1 || c.Spec.Images[0].Glob != "registry.example.com/spartan/**" ||
			len(c.Spec.Authorities) != 1 || c.Spec.Authorities[0].Key.Data != string(pub) {
			t.Errorf("ClusterImagePolicy %s: %+v", c.Metadata.Name, c.Spec)
		}
		for _, a := range c.Spec.Authorities[0].Attestations {
			attested++
			if a.PredicateType != attest.PredicateSLSA || a.Policy.Type != "cue" || !strings.Contains(a.Policy.Data, attest.BuilderID) {
				t.Errorf("attestation %+v", a)
			}
		}
	}
	if n != 2 || attested != 1 {
		t.Errorf("%d policies requiring %d attestations, want two requiring the SLSA provenance once", n, attested)
	}

	var k struct {
		Spec struct {
			Rules []struct {
				VerifyImages []struct {
					ImageReferences []string `yaml:"imageReferences"`
					FailureAction   string   `yaml:"failureAction"`
					Required        bool
					Attestors       []struct {
						Entries []struct {
							Keys struct {
								PublicKeys string `yaml:"publicKeys"`
								Rekor      map[string]bool
							}
						}
					}
					Attestations []struct {
						Type       string
						Conditions []struct {
							All []struct{ Key, Operator, Value string }
						}
					}
				} `yaml:"verifyImages"`
			}
		}
	}
	if err := yaml.Unmarshal(ky, &k); err != nil {
		t.Fatal(err)
	}
	vi := k.Spec.Rules[0].VerifyImages[0]
	if strings.Join(vi.ImageReferences, ",") != "registry.example.com/spartan/*" || vi.FailureAction != "Enforce" || !vi.Required {
		t.Errorf("verifyImages %+v", vi)
	}
	if e := vi.Attestors[0].Entries[0].Keys; e.PublicKeys != string(pub) || !e.Rekor["ignoreTlog"] {
		t.Errorf("attestor %+v", e)
	}
	if len(vi.Attestations) != 1 || vi.Attestations[0].Type != attest.PredicateSLSA || vi.Attestations[0].Conditions[0].All[0].Value != attest.BuilderID {
		t.Errorf("attestations %+v", vi.Attestations)
	}
}

func TestEngines(t *testing.T) {
	o := Options{PublicKey: publicKey(t)}
	for engine, kinds := range map[string]string{"": "ClusterImagePolicy ClusterImagePolicy ClusterPolicy", "all": "ClusterImagePolicy ClusterImagePolicy ClusterPolicy",
		EnginePolicyController: "ClusterImagePolicy ClusterImagePolicy", EngineKyverno: "ClusterPolicy"} {
		out, err := Write(o, engine)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range documents(t, out) {
			got = append(got, d["kind"].(string))
		}
		if strings.Join(got, " ") != kinds {
			t.Errorf("engine %q: %v, want %s", engine, got, kinds)
		}
	}
}

// TestKyvernoAuditDoesNotMutate: Kyverno's own validation (ImageVerification.Validate in
// api/kyverno/v1, v1.19.1) refuses mutateDigest with the Audit failure action, which the CRD
// schema cannot express; without it, verifyDigest would fail every Pod that names a tag.
func TestKyvernoAuditDoesNotMutate(t *testing.T) {
	for _, warn := range []bool{false, true} {
		out, err := KyvernoPolicy(Options{PublicKey: publicKey(t), Warn: warn})
		if err != nil {
			t.Fatal(err)
		}
		vi := documents(t, out)[0]["spec"].(map[string]any)["rules"].([]any)[0].(map[string]any)["verifyImages"].([]any)[0].(map[string]any)
		enforce := vi["failureAction"] == "Enforce"
		if enforce == warn || vi["mutateDigest"] != enforce || vi["verifyDigest"] != enforce {
			t.Errorf("warn %v: failureAction %v with mutateDigest %v, verifyDigest %v", warn, vi["failureAction"], vi["mutateDigest"], vi["verifyDigest"])
		}
	}
}

func TestBadInput(t *testing.T) {
	pub := publicKey(t)
	for _, tc := range []struct {
		name   string
		o      Options
		engine string
		want   string
	}{
		{"no key", Options{}, "", "public key"},
		{"not a key", Options{PublicKey: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")}, "kyverno", "public key"},
		{"bad name", Options{PublicKey: pub, Name: "Spartan Images"}, "", `name "Spartan Images"`},
		{"empty pattern", Options{PublicKey: pub, Images: []string{" "}}, "policy-controller", "image pattern"},
		{"quoted pattern", Options{PublicKey: pub, Images: []string{`"x/**"`}}, "", "image pattern"},
		{"unknown engine", Options{PublicKey: pub}, "gatekeeper", `engine "gatekeeper"`},
	} {
		if _, err := Write(tc.o, tc.engine); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
