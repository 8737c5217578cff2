package publish_test

import (
	"context"
	"crypto/ecdsa"

	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/testkit/testbuild"
	"github.com/spartan-images/spartan/internal/verify"
)

// testRegistry is an in-process registry that counts the requests that write to it.
type testRegistry struct {
	host   string
	writes atomic.Int64
}

func newRegistry(t *testing.T) *testRegistry {
	t.Helper()
	r := &testRegistry{}
	h := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			r.writes.Add(1)
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func (r *testRegistry) ref(t *testing.T, repo string) name.Reference {
	t.Helper()
	ref, err := registry.ParseReference(r.host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// built is a small image from testkit's signed repository, as `spartan build` makes it; with
// more than one architecture, an index of one image per architecture.
func built(t *testing.T, archs ...string) publish.Built {
	t.Helper()
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	osRelease := testbuild.OSRelease
	debArchs := archs
	if len(debArchs) == 0 {
		debArchs = []string{"amd64"} // testkit's and the spec's default
	} else {
		osRelease.Arch = "all"
	}
	debs := []testkit.Deb{osRelease}
	for _, a := range debArchs {
		debs = append(debs, testkit.Deb{Name: "app", Version: "1.0-1", Arch: a, AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/app", Body: "\x7fELF app " + a, Mode: 0o755}}})
	}
	repo.Suites["trixie"] = &testkit.Suite{Codename: "trixie", Version: "13.1", Archs: archs, Components: map[string][]testkit.Deb{"main": debs}}
	srv := repo.Serve(t)
	o, err := testbuild.Options(t, testbuild.WriteSpec(t, t.TempDir(), srv.URL, repo, "app", "example.com/app:1", "base-files", "app"))
	if err != nil {
		t.Fatal(err)
	}
	o.Archs = archs
	b := publish.Built{Options: o, Started: time.Now()}
	if b.Output, err = build.Build(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	b.Finished = time.Now()
	return b
}

// failingSigner stands for a signature that fails halfway: with signAfter it signs first (the
// .sig is stored), then fails before the attestations.
type failingSigner struct {
	key       *ecdsa.PrivateKey
	signAfter bool
}

var errSign = errors.New("signing service unavailable")

func (f failingSigner) Sign(ctx context.Context, t *registry.Target, _ []sign.Attestation) error {
	if f.signAfter {
		if err := (sign.Signer{Key: f.key}).Sign(ctx, t.Store, t.Repo, t.Digest); err != nil {
			return err
		}
	}
	return errSign
}

type failingPusher struct{ calls int }

var errPush = errors.New("registry refused the upload")

func (f *failingPusher) Push(context.Context, *registry.Source, name.Reference) (string, registry.Stats, error) {
	f.calls++
	return "", registry.Stats{}, errPush
}

// verified says whether ref in the registry is signed by key and carries its provenance.
func verified(t *testing.T, c *registry.Client, ref string, key *ecdsa.PrivateKey) error {
	t.Helper()
	ctx := context.Background()
	src, err := imagesource.Remote(ctx, ref, c)
	if err != nil {
		return err
	}
	tg, err := src.Target()
	if err != nil {
		return err
	}
	if err := sign.VerifySignature(ctx, tg.Store, &key.PublicKey, tg.Digest); err != nil {
		return err
	}
	atts, _, err := sign.VerifyAttestations(ctx, tg.Store, &key.PublicKey, tg.Digest)
	if err != nil {
		return err
	}
	for _, a := range atts {
		if a.PredicateType == attest.PredicateSLSA {
			return nil
		}
	}
	return errors.New("no provenance attestation")
}

func TestPublish(t *testing.T) {
	b := built(t)
	want, err := b.Output.Digest()
	if err != nil {
		t.Fatal(err)
	}
	key := testkit.SigningKey(t)
	tests := []struct {
		name       string
		layout     bool
		sign, push bool
		wantLines  []string
	}{
		{name: "layout only", layout: true},
		{name: "layout, signed", layout: true, sign: true, wantLines: []string{"signed " + want + " in "}},
		{name: "layout, signed, pushed", layout: true, sign: true, push: true, wantLines: []string{"signed " + want, "pushed ", "(2 attachments)", "(3 attestations)"}},
		{name: "pushed from memory", push: true, wantLines: []string{"pushed ", "(0 attachments)"}},
		{name: "signed and pushed from memory", sign: true, push: true, wantLines: []string{"pushed ", "(2 attachments)", "(3 attestations)", "signed " + want}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry(t)
			c := registry.New("test")
			var logBuf strings.Builder
			o := publish.Options{Client: c, Log: &logBuf}
			if tc.layout {
				o.Layout = filepath.Join(t.TempDir(), "out", "app")
			}
			if tc.sign {
				o.Signer = publish.Key{Signer: sign.Signer{Key: key}}
			}
			if tc.push {
				o.Ref = reg.ref(t, "team/app:1")
			}
			res, err := publish.Publish(context.Background(), b, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != want || res.Signed != tc.sign || res.Pushed != tc.push {
				t.Errorf("result %+v", res)
			}
			for _, l := range tc.wantLines {
				if !strings.Contains(logBuf.String(), l) {
					t.Errorf("log lacks %q:\n%s", l, logBuf.String())
				}
			}
			if tc.layout {
				ls, err := imagesource.Layout(o.Layout)
				if err != nil {
					t.Fatal(err)
				}
				lt, err := ls.Target()
				if err != nil {
					t.Fatal(err)
				}
				err = sign.VerifySignature(context.Background(), lt.Store, &key.PublicKey, lt.Digest)
				if lt.Digest != want || (err == nil) != tc.sign {
					t.Errorf("layout %s, signature check: %v", lt.Digest, err)
				}
			}
			if !tc.push {
				if n := reg.writes.Load(); n != 0 {
					t.Errorf("%d writes to a registry nobody asked to push to", n)
				}
				return
			}
			err = verified(t, c, o.Ref.String(), key)
			if tc.sign && err != nil {
				t.Errorf("pushed image: %v", err)
			}
			if !tc.sign && (err == nil || !strings.Contains(err.Error(), "not signed")) {
				t.Errorf("unsigned push verified: %v", err)
			}
		})
	}
}

// TestPublishMultiArchAttestsTheIndex: the index users pull by tag carries a signed SLSA
// provenance about itself, naming its platform images, beside each platform image's own, and
// `spartan verify --require provenance` holds the index to it.
func TestPublishMultiArchAttestsTheIndex(t *testing.T) {
	b := built(t, "amd64", "arm64")
	if b.Output.Index == nil {
		t.Fatal("a two-architecture build made no index")
	}
	key := testkit.SigningKey(t)
	reg := newRegistry(t)
	c := registry.New("test")
	o := publish.Options{Client: c, Ref: reg.ref(t, "team/app:1"), Signer: publish.Key{Signer: sign.Signer{Key: key}}}
	if _, err := publish.Publish(context.Background(), b, o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := imagesource.Remote(ctx, o.Ref.String(), c)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := src.Target()
	if err != nil {
		t.Fatal(err)
	}
	a, err := sign.Attested(ctx, tg.Store, &key.PublicKey, tg.Digest, "index provenance", attest.PredicateSLSA)
	if err != nil {
		t.Fatal(err)
	}
	var p attest.Provenance
	if err := json.Unmarshal(a.Statement.Predicate, &p); err != nil {
		t.Fatal(err)
	}
	ext := p.BuildDefinition.ExternalParameters
	if ext.Arch != "" || strings.Join(ext.Archs, ",") != "amd64,arm64" {
		t.Errorf("index provenance parameters %+v", ext)
	}
	deps := p.BuildDefinition.ResolvedDependencies
	for i, im := range b.Output.Images {
		if len(deps) <= i || deps[i].Name != "linux/"+im.Plan.Arch || "sha256:"+deps[i].Digest["sha256"] != im.Digest {
			t.Errorf("dependency %d is not the %s image %s: %+v", i, im.Plan.Arch, im.Digest, deps[:min(i+1, len(deps))])
		}
	}
	debs := 0
	for _, d := range deps {
		if strings.HasSuffix(d.Name, ".deb") {
			debs++
		}
	}
	if debs != 3 { // base-files (all) once, app per architecture
		t.Errorf("index provenance lists %d .debs, want 3: %+v", debs, deps)
	}
	if _, err := verify.Verify(ctx, tg, verify.Policy{Key: &key.PublicKey, Require: []string{"provenance"}}); err != nil {
		t.Errorf("verify --require provenance: %v", err)
	}
}

// TestFailedSignaturePushesNothing: whether the signature fails before storing anything or
// halfway (the .sig stored, the attestations not), the registry receives no write at all.
func TestFailedSignaturePushesNothing(t *testing.T) {
	b := built(t)
	key := testkit.SigningKey(t)
	for _, tc := range []struct {
		name      string
		layout    bool
		signAfter bool
	}{
		{"layout", true, false},
		{"layout, half signed", true, true},
		{"memory", false, false},
		{"memory, half signed", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry(t)
			c := registry.New("test")
			o := publish.Options{Client: c, Ref: reg.ref(t, "team/app:1"), Signer: failingSigner{key: key, signAfter: tc.signAfter}}
			if tc.layout {
				o.Layout = filepath.Join(t.TempDir(), "app")
			}
			res, err := publish.Publish(context.Background(), b, o)
			if !errors.Is(err, errSign) {
				t.Fatalf("err = %v, want the signer's", err)
			}
			if res.Signed || res.Pushed {
				t.Errorf("result %+v", res)
			}
			if n := reg.writes.Load(); n != 0 {
				t.Errorf("a failed signature wrote %d times to the registry", n)
			}
			if _, err := c.Get(context.Background(), o.Ref); err == nil {
				t.Error("the image is in the registry")
			}
		})
	}
}

func TestFailedPushIsReported(t *testing.T) {
	b := built(t)
	reg := newRegistry(t)
	p := &failingPusher{}
	var logBuf strings.Builder
	o := publish.Options{Client: registry.New("test"), Pusher: p, Ref: reg.ref(t, "team/app:1"),
		Signer: publish.Key{Signer: sign.Signer{Key: testkit.SigningKey(t)}}, Layout: filepath.Join(t.TempDir(), "app"), Log: &logBuf}
	res, err := publish.Publish(context.Background(), b, o)
	if !errors.Is(err, errPush) || p.calls != 1 {
		t.Fatalf("err = %v after %d pushes", err, p.calls)
	}
	// Signed into the layout (an offline copy worth keeping), not pushed.
	if !res.Signed || res.Pushed || strings.Contains(logBuf.String(), "pushed") {
		t.Errorf("result %+v, log:\n%s", res, logBuf.String())
	}
}

func TestSigningNeedsAPlace(t *testing.T) {
	b := built(t)
	_, err := publish.Publish(context.Background(), b, publish.Options{Signer: publish.Key{Signer: sign.Signer{Key: testkit.SigningKey(t)}}})
	if err == nil || !strings.Contains(err.Error(), "somewhere to store the signatures") {
		t.Fatalf("err = %v", err)
	}
}

// TestSigningFromMemoryKeepsOtherSignatures: signing before the push, in memory, still merges
// with what the repository holds for the digest, as signing in the registry does: another
// signer's signature survives a republish.
func TestSigningFromMemoryKeepsOtherSignatures(t *testing.T) {
	b := built(t)
	reg := newRegistry(t)
	c := registry.New("test")
	ref := reg.ref(t, "team/app:1")
	other, mine := testkit.SigningKey(t), testkit.SigningKey(t)
	ctx := context.Background()
	if _, err := publish.Publish(ctx, b, publish.Options{Client: c, Ref: ref, Signer: publish.Key{Signer: sign.Signer{Key: other}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := publish.Publish(ctx, b, publish.Options{Client: c, Ref: ref, Signer: publish.Key{Signer: sign.Signer{Key: mine}}}); err != nil {
		t.Fatal(err)
	}
	for who, k := range map[string]*ecdsa.PrivateKey{"other": other, "mine": mine} {
		if err := verified(t, c, ref.String(), k); err != nil {
			t.Errorf("%s: %v", who, err)
		}
	}
}
