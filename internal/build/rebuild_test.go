package build

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/attest"
)

// TestRebuildFromProvenance checks the promise behind `spartan rebuild --verify`: the provenance
// alone (plus the spec) gives back the same image, on a fresh cache.
func TestRebuildFromProvenance(t *testing.T) {
	srv, repo := fakeArchive(t, "1.0")
	s := writeSpec(t, t.TempDir(), srv.URL, repo)
	o := options(t, s, t.TempDir())
	out, err := Build(context.Background(), o)
	must(t, err)
	want, err := out.Digest()
	must(t, err)
	docs, err := o.Documents(out.Images[0], time.Now(), time.Now())
	must(t, err)
	var st struct {
		Predicate attest.Provenance `json:"predicate"`
	}
	must(t, json.Unmarshal(docs.Provenance, &st))
	plan, err := PlanFromProvenance(&st.Predicate)
	must(t, err)
	cfg, err := out.Images[0].Image.ConfigFile()
	must(t, err)

	fresh := options(t, s, t.TempDir())
	created := cfg.Created.Time
	plan.Epoch = &created
	again, err := BuildPlans(context.Background(), fresh, []*Plan{plan})
	must(t, err)
	got, err := again.Digest()
	must(t, err)
	if got != want {
		t.Fatalf("rebuild from provenance gave %s, the image is %s", got, want)
	}

	for i, d := range st.Predicate.BuildDefinition.ResolvedDependencies {
		if strings.HasSuffix(d.Name, ".deb") {
			st.Predicate.BuildDefinition.ResolvedDependencies[i].Annotations = nil
		}
	}
	if _, err := PlanFromProvenance(&st.Predicate); err == nil || !strings.Contains(err.Error(), "lacks its package") {
		t.Fatalf("provenance without package annotations: err = %v", err)
	}
}
