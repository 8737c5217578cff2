package spec

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamples parses every YAML example in docs/spec.md, so the
// documentation cannot drift from what the parser accepts. Fragments are
// completed with a name and a package; blocks with <placeholders> are
// templates, not examples.
var (
	hasName     = regexp.MustCompile(`(?m)^name:`)
	hasPackages = regexp.MustCompile(`(?m)^packages:`)
)

func TestDocsExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Skipf("docs not found: %v", err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	if len(blocks) < 20 {
		t.Fatalf("found only %d yaml examples in docs/spec.md", len(blocks))
	}
	for _, b := range blocks {
		src := b[1]
		if strings.Contains(src, "<") {
			continue
		}
		if !hasName.MatchString(src) {
			src = "name: t\n" + src
		}
		if !hasPackages.MatchString(src) {
			src = "packages: [libc6]\n" + src
		}
		if _, err := Parse("docs/spec.md", []byte(src)); err != nil {
			t.Errorf("example does not parse:\n%s\n%v", b[1], err)
		}
	}
}
