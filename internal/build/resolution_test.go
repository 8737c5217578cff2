package build

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/vex"
)

// TestResolutions: `spartan resolve` output, as JSON (read back by `spartan vex --cuts`) and
// as the table people read.
func TestResolutions(t *testing.T) {
	srv, repo := fakeArchive(t, "1.0")
	s := writeSpec(t, t.TempDir(), srv.URL, repo)
	plans, err := Resolve(context.Background(), options(t, s, t.TempDir()))
	must(t, err)
	rs := Resolutions(plans)
	if len(rs) != 1 || rs[0].Arch != "amd64" || len(rs[0].Packages) != 4 || len(rs[0].Cuts) == 0 {
		t.Fatalf("%+v", rs)
	}
	app := rs[0].Packages[0]
	if app.Name != "app" || app.Suite != "trixie" || len(app.SHA256) != 64 || app.InstalledSize%1024 != 0 || len(app.Why) == 0 {
		t.Errorf("app %+v", app)
	}

	data, err := json.Marshal(rs)
	must(t, err)
	var keys []map[string]any
	must(t, json.Unmarshal(data, &keys))
	pkg := keys[0]["packages"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "version", "architecture", "source", "size", "installedSize", "sha256", "suite", "why"} {
		if _, ok := pkg[k]; !ok {
			t.Errorf("JSON package lacks %q: %s", k, data)
		}
	}
	path := filepath.Join(t.TempDir(), "resolve.json")
	must(t, os.WriteFile(path, data, 0o644))
	cuts, err := vex.ReadCuts(path)
	must(t, err)
	var want []string
	for _, c := range rs[0].Cuts {
		want = append(want, c.To)
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if !reflect.DeepEqual(cuts, want) {
		t.Errorf("vex reads cuts %v, resolve wrote %v", cuts, want)
	}

	var text bytes.Buffer
	must(t, WriteResolutions(&text, rs))
	lines := strings.Split(text.String(), "\n")
	if !strings.HasPrefix(lines[0], "PACKAGE ") || !strings.HasPrefix(lines[1], "app ") ||
		!strings.Contains(text.String(), "amd64: 4 packages, ") || !strings.Contains(text.String(), "cut: ") {
		t.Errorf("text:\n%s", text.String())
	}
}
