package images_test

import (
	"slices"
	"testing"

	"github.com/spartan-images/spartan/images"
	"github.com/spartan-images/spartan/internal/spec"
)

// TestZoneDataKeepsLegacyNames: Debian 13 moved the backward zone names (US/Eastern,
// Europe/Kiev, Asia/Calcutta…) from tzdata to tzdata-legacy, and configurations and TZ
// variables still use them, so every catalog image that ships zone data ships both. The e2e
// resolves the names in the python and java images; this keeps the other specs honest.
func TestZoneDataKeepsLegacyNames(t *testing.T) {
	for _, name := range images.Names() {
		data, ok := images.Spec(name)
		if !ok {
			t.Fatalf("%s: listed but not readable", name)
		}
		s, err := spec.Parse(name+"/spartan.yaml", data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if slices.Contains(s.Packages, "tzdata") && !slices.Contains(s.Packages, "tzdata-legacy") {
			t.Errorf("%s installs tzdata without tzdata-legacy: the backward zone names would be missing", name)
		}
	}
}
