package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDockerfile: no input makes migration panic, and what it writes parses again. The seed
// corpus is every Dockerfile in testdata (golden cases and the e2e corpus).
func FuzzDockerfile(f *testing.F) {
	for _, pattern := range []string{"testdata/*.Dockerfile", "testdata/corpus/*/Dockerfile"} {
		files, _ := filepath.Glob(pattern)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Add("FROM python:3.13\nCMD [\"sh\", \"-c\", \"a ${X:-1} ${\"]\n")
	f.Add("# escape=`\nFROM node:20\nRUN <<EOF\nnpm ci\nEOF\n")
	f.Fuzz(func(t *testing.T, src string) {
		r, err := Dockerfile(src, Options{Index: testIndex})
		if err != nil {
			return
		}
		if _, err := parse(strings.Split(r.Migrated, "\n")); err != nil && r.Migrated != src {
			t.Fatalf("migrated Dockerfile does not parse: %v\n%s", err, r.Migrated)
		}
		_ = r.Diff("Dockerfile")
		if r.Base != nil {
			_ = r.Base.Spec("Dockerfile")
		}
	})
}
