//go:build e2e

package e2e

import (
	"archive/zip"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// corpusCase is one real Dockerfile of internal/migrate/testdata/corpus and what its
// application does once migrated: answers HTTP on port with want in the body, or prints want.
type corpusCase struct {
	name    string
	family  string // catalog image the final stage runs on
	port    int    // 0: the application prints and exits
	want    string
	health  bool   // the Dockerfile has a HEALTHCHECK
	problem string // non-empty: migrate must refuse, naming this
}

var corpus = []corpusCase{
	{name: "py-w2-4th-api", family: "python", port: 10084, want: "hello from w2-4th-api on Python 3.13"},
	{name: "py-jensonar", family: "python", port: 5000, want: "hello from jensonar on Python 3.13 as uid 65532"},
	{name: "py-estensen", family: "python", problem: "a redirection (>)"},
	{name: "py-chrisricci", family: "python", want: "hello from chrisricci on Python 3.13 as uid 65532"},
	{name: "py-checkmate", family: "python", problem: "uses $PORT, which the Dockerfile does not set"},
	{name: "py-jukelyn", family: "python", port: 5000, want: "hello from jukelyn on Python 3.13 as uid 65532", health: true},
	{name: "py-dsolevan", family: "python", port: 5000, want: "hello from dsolevan on Python 3.13 as uid 65532", health: true},
	{name: "py-spendsense", family: "python", port: 5000, want: "hello from spendsense on Python 3.13 as uid 65532", health: true},
	{name: "node-a-zen", family: "node", port: 3000, want: "hello from a-zen on Node v20.", health: true},
	{name: "node-amanyize", family: "node", port: 3000, want: "hello from amanyize on Node v20.", health: true},
	{name: "node-cronicas", family: "node", port: 3000, want: "hello from cronicas on Node v20.", health: true},
	{name: "java-camel-kafka", family: "java", want: "hello from camel-kafka on Java 21"},
	{name: "java-deploy-test", family: "java", want: "hello from deploy-test on Java 21"},
	{name: "java-filewatcher", family: "java", want: "hello from filewatcher on Java 21"},
	{name: "java-mobileid", family: "java", want: "hello from mobileid on Java 21"},
	{name: "java-registry", family: "java", problem: "no keytool"},
	{name: "go-nginxauth", family: "static", port: 8080, want: "hello from nginxauth on go1."},
	{name: "go-echo-api", family: "static", port: 8080, want: "hello from echo-api on go1."},
	{name: "nginx-digitalink", family: "nginx", port: 8080, want: "hello from digitalink"},
	{name: "nginx-tv-display", family: "nginx", problem: "runs the shell script /entrypoint.sh"},
}

// jars are where each Java case's Dockerfile expects its build output.
var jars = map[string]string{
	"java-camel-kafka": "target/app.jar",
	"java-deploy-test": "build/libs/project-0.0.1-SNAPSHOT.jar",
	"java-filewatcher": "target/app.jar",
	"java-mobileid":    "build/libs/app.jar",
}

// TestMigrateCorpus: real Dockerfiles from public repositories, their sources stubbed, go
// through `spartan migrate --build` and run on Spartan images as they ran on the official
// ones; those migration cannot rewrite are refused with the line and the reason.
func TestMigrateCorpus(t *testing.T) {
	// The catalog images the migrated Dockerfiles start FROM, built once and shared.
	var wg sync.WaitGroup
	for _, b := range []struct{ name, variant string }{
		{"python", ""}, {"python", "dev"}, {"node", ""}, {"node", "dev"}, {"java", ""}, {"java", "dev"},
		{"static", ""}, {"static", "dev"}, {"nginx", ""},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.variant == "" {
				buildImage(t, b.name)
			} else {
				buildVariant(t, b.name, b.variant)
			}
		}()
	}
	wg.Wait()

	root := filepath.Join(workDir, "migrate-corpus")
	for _, c := range corpus {
		if err := os.CopyFS(filepath.Join(root, c.name), os.DirFS(filepath.Join(repoRoot, "internal", "migrate", "testdata", "corpus", c.name))); err != nil {
			t.Fatal(err)
		}
	}
	writeUvicornWheel(t, filepath.Join(root, "py-w2-4th-api", "uvicorn-0.0.0-py3-none-any.whl"))
	buildJars(t, root)

	migrated := 0
	var rows []string // with SPARTAN_E2E_MEASURE: one markdown row per migrated image
	var mu sync.Mutex
	t.Run("cases", func(t *testing.T) {
		for i, c := range corpus {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(root, c.name)
				tag := "spartan-e2e/migrated-" + c.name
				r := spartan(t, nil, "migrate", "--build", "--runtime", "runc", "-t", tag, dir)
				if c.problem != "" {
					if r.err == nil || !strings.Contains(r.stderr, c.problem) || !strings.Contains(r.stderr, "cannot be migrated") {
						t.Fatalf("migrate --build %s: want a refusal naming %q, got err %v\n%s", c.name, c.problem, r.err, tail(r.stderr))
					}
					return
				}
				must(t, r, "spartan migrate --build "+c.name)
				if _, err := os.Stat(filepath.Join(dir, "Dockerfile.spartan")); err != nil {
					t.Fatalf("no Dockerfile.spartan: %v", err)
				}
				checkRuns(t, c, tag, 19100+i)
				row := ""
				if os.Getenv("SPARTAN_E2E_MEASURE") != "" {
					row = measure(t, c, tag)
				}
				mu.Lock()
				migrated++
				rows = append(rows, row)
				mu.Unlock()
			})
		}
	})
	t.Logf("migrated with no hand edits: %d of %d real Dockerfiles (%.0f %%)", migrated, len(corpus), 100*float64(migrated)/float64(len(corpus)))
	sort.Strings(rows)
	t.Logf("measured:\n%s", strings.Join(rows, "\n"))
}

// measure is the migrated image's package count and compressed size as spartan compare
// reports them, as a markdown row.
func measure(t *testing.T, c corpusCase, tag string) string {
	t.Helper()
	archive := filepath.Join(workDir, "migrated-"+c.name+".tar")
	must(t, podman(t, "save", "--format", "docker-archive", "-o", archive, tag), "podman save "+tag)
	defer os.Remove(archive)
	r := must(t, spartan(t, nil, "compare", archive, archive), "spartan compare "+tag)
	get := func(measure string) string {
		// Columns are separated by two or more spaces; a value such as "19.6 MB" has one.
		for _, l := range strings.Split(r.stdout, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(l), measure+"  "); ok {
				return strings.TrimSpace(strings.Split(strings.TrimSpace(rest), "  ")[0])
			}
		}
		return "?"
	}
	return fmt.Sprintf("| %s | %s | %s | %s |", c.name, c.family, get("packages"), get("size compressed"))
}

// checkRuns runs the migrated image and checks it answers as the original would, and that
// its HEALTHCHECK (now the probe) reports healthy.
func checkRuns(t *testing.T, c corpusCase, tag string, hostPort int) {
	t.Helper()
	if c.port == 0 {
		r := must(t, podman(t, "run", "--rm", tag), "run "+tag)
		if !strings.Contains(r.stdout, c.want) {
			t.Fatalf("%s printed %q, want %q", tag, r.stdout, c.want)
		}
		return
	}
	name := "spartan-e2e-mig-" + c.name
	podman(t, "rm", "-f", name)
	must(t, podman(t, "run", "-d", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:%d", hostPort, c.port), tag), "run "+tag)
	t.Cleanup(func() { podman(t, "rm", "-f", name) })
	body, err := getWithRetry(fmt.Sprintf("http://127.0.0.1:%d/", hostPort), 30*time.Second)
	if err != nil || !strings.Contains(body, c.want) {
		logs := podman(t, "logs", name)
		t.Fatalf("GET %s: %v, body %q, want %q\nlogs:\n%s%s", tag, err, body, c.want, logs.stdout, logs.stderr)
	}
	if !c.health {
		return
	}
	if r := podman(t, "healthcheck", "run", name); r.err != nil {
		t.Fatalf("podman healthcheck run %s: %v\n%s%s", name, r.err, r.stdout, r.stderr)
	}
	st := must(t, podman(t, "inspect", "--format", "{{.State.Health.Status}}", name), "inspect health")
	if strings.TrimSpace(st.stdout) != "healthy" {
		t.Fatalf("%s health: %q, want healthy", name, st.stdout)
	}
}

func getWithRetry(url string, within time.Duration) (string, error) {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(b), nil
			}
			err = fmt.Errorf("status %d, %v", resp.StatusCode, rerr)
		}
		if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// writeUvicornWheel packs the uvicorn stand-in of the w2-4th-api case into a wheel, which
// pip installs from the build context without an index.
func writeUvicornWheel(t *testing.T, path string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(filepath.Dir(path), "uvicorn-stub", "uvicorn", "__init__.py"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	info := "uvicorn-0.0.0.dist-info/"
	files := []struct{ name, body string }{
		{"uvicorn/__init__.py", string(src)},
		{info + "METADATA", "Metadata-Version: 2.1\nName: uvicorn\nVersion: 0.0.0\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: spartan-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
		{info + "entry_points.txt", "[console_scripts]\nuvicorn = uvicorn:main\n"},
		{info + "RECORD", "uvicorn/__init__.py,,\n" + info + "METADATA,,\n" + info + "WHEEL,,\n" + info + "entry_points.txt,,\n" + info + "RECORD,,\n"},
	}
	for _, fl := range files {
		w, err := z.Create(fl.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, fl.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

// buildJars compiles each Java case's stub with the java -dev image's JDK into the jar its
// Dockerfile copies.
func buildJars(t *testing.T, root string) {
	t.Helper()
	for name, jar := range jars {
		dir := filepath.Join(root, name)
		must(t, podman(t, "run", "--rm", "--user", "0", "-v", dir+":/src:Z", "--entrypoint", "/bin/bash", "spartan/java:21-dev", "-c",
			"javac -d /tmp/classes /src/src/Main.java && mkdir -p /src/"+filepath.Dir(jar)+" && jar --create --file /src/"+jar+" --main-class Main -C /tmp/classes ."), "build "+jar)
	}
}
