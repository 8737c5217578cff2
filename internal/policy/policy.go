// Package policy writes Kubernetes admission policies that admit only images signed with
// Spartan's key and carrying Spartan's signed SLSA provenance: two sigstore policy-controller
// ClusterImagePolicies and a Kyverno ClusterPolicy, for `spartan policy`. The cluster then holds
// images to what `spartan verify --require provenance` and `cosign verify-attestation --type
// slsaprovenance1` check by hand.
//
// Spartan signs with a key and without a transparency log (cosign's --tlog-upload=false), so
// both policies verify the key alone: policy-controller skips the log when an authority names
// none, Kyverno is told to with rekor.ignoreTlog and ctlog.ignoreSCT.
package policy

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/sign"
)

// AllImages is the pattern used when none is given: every image the cluster runs.
const AllImages = "**"

// Options say what the policies require of which images.
type Options struct {
	// PublicKey is the cosign public key (PEM) the signature and provenance must verify with.
	PublicKey []byte
	// Images are policy-controller globs ("registry.example.com/spartan/**"): `*` matches
	// within a path segment, `**` across segments. Kyverno's wildcards get the same patterns
	// with `**` written as `*`, which already crosses segments there. Empty: AllImages.
	Images []string
	// Name prefixes the resources' names; empty: "spartan-images".
	Name string
	// Warn admits failing images with a warning instead of refusing them (policy-controller
	// mode warn, Kyverno failureAction Audit), to try a policy before enforcing it.
	Warn bool
}

// DefaultName is the resources' name prefix when Options.Name is empty.
const DefaultName = "spartan-images"

// dnsName is what Kubernetes accepts in a resource's name (RFC 1123 subdomain, simplified).
var dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,200}[a-z0-9])?$`)

func (o Options) check() (Options, error) {
	if _, err := sign.ParsePublicKey(o.PublicKey); err != nil {
		return o, fmt.Errorf("public key: %w", err)
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if !dnsName.MatchString(o.Name) {
		return o, fmt.Errorf("name %q: Kubernetes names are lower-case letters, digits, '-' and '.', starting and ending with a letter or digit", o.Name)
	}
	if len(o.Images) == 0 {
		o.Images = []string{AllImages}
	}
	for _, p := range o.Images {
		if strings.TrimSpace(p) == "" || strings.ContainsAny(p, " \t\n\"'") {
			return o, fmt.Errorf("image pattern %q: give a reference glob such as registry.example.com/spartan/**", p)
		}
	}
	return o, nil
}

// Engines are the admission controllers Write writes for.
const (
	EnginePolicyController = "policy-controller"
	EngineKyverno          = "kyverno"
)

// Write renders the policies for engine (EnginePolicyController, EngineKyverno, or "" for
// both) as one multi-document YAML stream: the two ClusterImagePolicies, then the Kyverno
// ClusterPolicy. A cluster usually runs one of the two admission controllers, and applying a
// kind whose CRD is not installed fails.
func Write(o Options, engine string) ([]byte, error) {
	switch engine {
	case EnginePolicyController:
		return ClusterImagePolicies(o)
	case EngineKyverno:
		return KyvernoPolicy(o)
	case "", "all":
	default:
		return nil, fmt.Errorf("engine %q: use %s, %s or all", engine, EnginePolicyController, EngineKyverno)
	}
	cips, err := ClusterImagePolicies(o)
	if err != nil {
		return nil, err
	}
	ky, err := KyvernoPolicy(o)
	if err != nil {
		return nil, err
	}
	return append(cips, append([]byte("---\n"), ky...)...), nil
}

// ClusterImagePolicies are two policy-controller ClusterImagePolicies over the same images: one
// requires the signature, the other the SLSA provenance attestation with Spartan's builder
// id. Two, because an authority that lists attestations checks only those, and every policy
// matching an image must pass: together they require both.
func ClusterImagePolicies(o Options) ([]byte, error) {
	o, err := o.check()
	if err != nil {
		return nil, err
	}
	mode := "enforce"
	if o.Warn {
		mode = "warn"
	}
	var globs []map[string]string
	for _, p := range o.Images {
		globs = append(globs, map[string]string{"glob": p})
	}
	key := cipKey{HashAlgorithm: "sha256", Data: string(o.PublicKey)}
	cue := fmt.Sprintf("predicateType: %q\npredicate: runDetails: builder: id: %q\n", attest.PredicateSLSA, attest.BuilderID)
	docs := []cip{
		{
			APIVersion: "policy.sigstore.dev/v1beta1", Kind: "ClusterImagePolicy",
			Metadata: metadata{Name: o.Name + "-signature", Annotations: annotations("the signature of Spartan's key")},
			Spec:     cipSpec{Mode: mode, Images: globs, Authorities: []cipAuthority{{Name: "spartan-key", Key: key}}},
		},
		{
			APIVersion: "policy.sigstore.dev/v1beta1", Kind: "ClusterImagePolicy",
			Metadata: metadata{Name: o.Name + "-provenance", Annotations: annotations("Spartan's signed SLSA provenance")},
			Spec: cipSpec{Mode: mode, Images: globs, Authorities: []cipAuthority{{
				Name: "spartan-provenance", Key: key,
				Attestations: []cipAttestation{{
					Name: "slsa-provenance", PredicateType: attest.PredicateSLSA,
					Policy: &cipPolicy{Type: "cue", Data: cue},
				}},
			}}},
		},
	}
	return marshalAll(docs[0], docs[1])
}

// KyvernoPolicy is a Kyverno ClusterPolicy whose verifyImages rule requires, on Pods' images
// matching the patterns, the signature and the SLSA provenance attestation with Spartan's
// builder id, both verified with the key; enforcing, it pins the admitted images to their
// digests.
func KyvernoPolicy(o Options) ([]byte, error) {
	o, err := o.check()
	if err != nil {
		return nil, err
	}
	action := "Enforce"
	if o.Warn {
		action = "Audit"
	}
	var refs []string
	for _, p := range o.Images {
		refs = append(refs, strings.ReplaceAll(p, "**", "*"))
	}
	attestors := []kyAttestor{{Entries: []kyEntry{{Keys: kyKeys{
		PublicKeys: string(o.PublicKey),
		Rekor:      map[string]bool{"ignoreTlog": true},
		CTLog:      map[string]bool{"ignoreSCT": true},
	}}}}}
	doc := kyPolicy{
		APIVersion: "kyverno.io/v1", Kind: "ClusterPolicy",
		Metadata: metadata{Name: o.Name, Annotations: annotations("the signature of Spartan's key and Spartan's signed SLSA provenance")},
		Spec: kySpec{
			Background:            false,
			WebhookTimeoutSeconds: 30,
			Rules: []kyRule{{
				Name:  "spartan-signature-and-provenance",
				Match: kyMatch{Any: []kyResourceFilter{{Resources: kyResources{Kinds: []string{"Pod"}}}}},
				VerifyImages: []kyVerifyImages{{
					ImageReferences: refs,
					FailureAction:   action,
					// Kyverno refuses mutateDigest with Audit (an audit must not rewrite Pods),
					// and without it verifyDigest would flag every Pod naming a tag.
					MutateDigest: !o.Warn,
					VerifyDigest: !o.Warn,
					Required:     true,
					Attestors:    attestors,
					Attestations: []kyAttestation{{
						Type:      attest.PredicateSLSA,
						Attestors: attestors,
						Conditions: []kyConditions{{All: []kyCondition{{
							Key: "{{ runDetails.builder.id }}", Operator: "Equals", Value: attest.BuilderID,
						}}}},
					}},
				}},
			}},
		},
	}
	return marshalAll(doc)
}

func annotations(what string) map[string]string {
	return map[string]string{"spartan.dev/requires": what + " (written by spartan policy)"}
}

func marshalAll(docs ...any) ([]byte, error) {
	var buf bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("policy YAML: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("policy YAML: %w", err)
		}
	}
	return buf.Bytes(), nil
}

type metadata struct {
	Name        string            `yaml:"name"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type cip struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   metadata `yaml:"metadata"`
	Spec       cipSpec  `yaml:"spec"`
}

type cipSpec struct {
	Mode        string              `yaml:"mode"`
	Images      []map[string]string `yaml:"images"`
	Authorities []cipAuthority      `yaml:"authorities"`
}

type cipAuthority struct {
	Name         string           `yaml:"name"`
	Key          cipKey           `yaml:"key"`
	Attestations []cipAttestation `yaml:"attestations,omitempty"`
}

type cipKey struct {
	HashAlgorithm string `yaml:"hashAlgorithm"`
	Data          string `yaml:"data"`
}

type cipAttestation struct {
	Name          string     `yaml:"name"`
	PredicateType string     `yaml:"predicateType"`
	Policy        *cipPolicy `yaml:"policy,omitempty"`
}

type cipPolicy struct {
	Type string `yaml:"type"`
	Data string `yaml:"data"`
}

type kyPolicy struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   metadata `yaml:"metadata"`
	Spec       kySpec   `yaml:"spec"`
}

type kySpec struct {
	// Background scans would verify images of running Pods without admission's context.
	Background            bool     `yaml:"background"`
	WebhookTimeoutSeconds int      `yaml:"webhookTimeoutSeconds"`
	Rules                 []kyRule `yaml:"rules"`
}

type kyRule struct {
	Name         string           `yaml:"name"`
	Match        kyMatch          `yaml:"match"`
	VerifyImages []kyVerifyImages `yaml:"verifyImages"`
}

type kyMatch struct {
	Any []kyResourceFilter `yaml:"any"`
}

type kyResourceFilter struct {
	Resources kyResources `yaml:"resources"`
}

type kyResources struct {
	Kinds []string `yaml:"kinds"`
}

type kyVerifyImages struct {
	ImageReferences []string        `yaml:"imageReferences"`
	FailureAction   string          `yaml:"failureAction"`
	MutateDigest    bool            `yaml:"mutateDigest"`
	VerifyDigest    bool            `yaml:"verifyDigest"`
	Required        bool            `yaml:"required"`
	Attestors       []kyAttestor    `yaml:"attestors"`
	Attestations    []kyAttestation `yaml:"attestations"`
}

type kyAttestor struct {
	Entries []kyEntry `yaml:"entries"`
}

type kyEntry struct {
	Keys kyKeys `yaml:"keys"`
}

type kyKeys struct {
	PublicKeys string          `yaml:"publicKeys"`
	Rekor      map[string]bool `yaml:"rekor"`
	CTLog      map[string]bool `yaml:"ctlog"`
}

type kyAttestation struct {
	Type       string         `yaml:"type"`
	Attestors  []kyAttestor   `yaml:"attestors"`
	Conditions []kyConditions `yaml:"conditions"`
}

type kyConditions struct {
	All []kyCondition `yaml:"all"`
}

type kyCondition struct {
	Key      string `yaml:"key"`
	Operator string `yaml:"operator"`
	Value    string `yaml:"value"`
}
