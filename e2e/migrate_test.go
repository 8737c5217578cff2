//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateThenBuild: Dockerfiles written for official images (which this host cannot even
// pull) build and run after `spartan migrate --write`, with only the local Spartan images.
func TestMigrateThenBuild(t *testing.T) {
	buildVariant(t, "base", "dev")
	buildImage(t, "nginx")
	dir := filepath.Join(workDir, "migrate-nginx")
	df := filepath.Join(dir, "Dockerfile")
	writeFile(t, df, "FROM debian:bookworm-slim AS site\n"+
		"RUN mkdir -p /site && echo '<h1>migrated site</h1>' > /site/index.html\n\n"+
		"FROM nginx:1.27\n"+
		"COPY --from=site /site /usr/share/nginx/html\n"+
		"EXPOSE 80\n")

	r := must(t, spartan(t, nil, "migrate", df, "--write"), "spartan migrate --write")
	for _, want := range []string{"+FROM spartan/base:dev AS site", "+FROM spartan/nginx:latest"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "Dockerfile:6: warning: EXPOSE 80") {
		t.Errorf("no EXPOSE warning:\n%s", r.stderr)
	}
	b, err := os.ReadFile(df)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "FROM spartan/base:dev AS site\n") {
		t.Fatalf("Dockerfile not rewritten:\n%s", b)
	}

	must(t, podman(t, "build", "--pull=never", "-t", "spartan-e2e/migrated-site", dir), "podman build migrated Dockerfile")
	port := nginxFreePort(t)
	nginxRunDetached(t, "spartan-e2e-migrated", "--read-only", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), "spartan-e2e/migrated-site")
	if status, body := nginxGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); status != http.StatusOK || !strings.Contains(body, "migrated site") {
		t.Fatalf("GET /: status %d, body:\n%s", status, body)
	}
}
