//go:build e2e

package e2e

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestJavaImage checks the JRE image's shape: no shell, a generated Java trust store, java -version.
func TestJavaImage(t *testing.T) {
	b := buildImage(t, "java")
	t.Logf("java image %s built in %s", b.digest, b.elapsed)
	files := archiveFiles(t, b.archive)
	// bin/jpackage's module is removed by trim.java-modules, and the launcher with it.
	for _, p := range []string{"bin/sh", "usr/bin/sh", "usr/bin/bash", "usr/bin/apt-get", "usr/bin/dpkg", "usr/bin/keytool", "usr/lib/jvm/java-21-openjdk-amd64/bin/jpackage"} {
		if _, ok := files[p]; ok {
			t.Errorf("image contains /%s", p)
		}
	}
	for _, p := range []string{"etc/ssl/certs/java/cacerts", "usr/lib/jvm/default-java", "usr/bin/java", "usr/lib/jvm/java-21-openjdk-amd64/bin/keytool"} {
		if _, ok := files[p]; !ok {
			t.Errorf("image lacks /%s", p)
		}
	}
	pkgs := 0
	for p := range files {
		if strings.HasPrefix(p, "var/lib/dpkg/status.d/") && !strings.HasSuffix(p, ".md5sums") && p != "var/lib/dpkg/status.d/" {
			pkgs++
		}
	}
	if pkgs == 0 || pkgs > 20 {
		t.Errorf("%d packages, want 1..20", pkgs)
	}
	r := must(t, podman(t, "run", "--rm", "spartan/java:21", "-version"), "java -version")
	if !strings.Contains(r.stderr, `openjdk version "21.`) {
		t.Fatalf("java -version: %s", r.stderr)
	}
	t.Logf("%d packages; %s", pkgs, strings.SplitN(r.stderr, "\n", 2)[0])
	checkJavaModules(t, "spartan/java:21")
}

// checkJavaModules: the runtime's lib/modules lacks the JDK tools (trim.java-modules), java
// sees exactly the modules that are there, and the class-data-sharing archive, deleted with
// the modules it described, can be rebuilt in a Containerfile as the spec's comment says.
func checkJavaModules(t *testing.T, tag string) {
	t.Helper()
	r := must(t, podman(t, "run", "--rm", tag, "--list-modules"), "java --list-modules")
	for _, gone := range []string{"jdk.compiler@", "jdk.jshell@", "jdk.hotspot.agent@", "jdk.jlink@"} {
		if strings.Contains(r.stdout, gone) {
			t.Errorf("%s still lists %s", tag, strings.TrimSuffix(gone, "@"))
		}
	}
	for _, kept := range []string{"java.base@", "java.desktop@", "java.net.http@", "jdk.localedata@", "jdk.attach@", "jdk.httpserver@"} {
		if !strings.Contains(r.stdout, kept) {
			t.Errorf("%s lacks %s:\n%s", tag, strings.TrimSuffix(kept, "@"), r.stdout)
		}
	}
	// No CDS archive, and no warning about one.
	r = must(t, podman(t, "run", "--rm", tag, "-version"), "java -version")
	if strings.Contains(r.stderr, "sharing") || strings.Contains(r.stdout+r.stderr, "warning") {
		t.Errorf("java -version: %s", r.stderr)
	}
	dir := filepath.Join(workDir, strings.NewReplacer("/", "-", ":", "-").Replace(tag)+"-cds")
	writeFile(t, filepath.Join(dir, "Containerfile"), "FROM "+tag+"\nUSER 0\nRUN [\"java\", \"-Xshare:dump\"]\nUSER 65532\n")
	img := "spartan-e2e/" + filepath.Base(dir)
	must(t, podman(t, "build", "--pull=never", "--network", "none", "-t", img, dir), "podman build with java -Xshare:dump")
	r = must(t, podman(t, "run", "--rm", img, "-Xshare:on", "-Xlog:cds=info", "-version"), "java -Xshare:on")
	if !strings.Contains(r.stdout+r.stderr, "full module graph: enabled") || !strings.Contains(r.stderr, "sharing") {
		t.Errorf("rebuilt CDS archive not used:\n%s%s", tail(r.stdout), tail(r.stderr))
	}
}

// TestJava25 checks the OpenJDK 25 image runs.
func TestJava25(t *testing.T) {
	buildImage(t, "java25")
	r := must(t, podman(t, "run", "--rm", "spartan/java:25", "-version"), "java 25 -version")
	if !strings.Contains(r.stderr, `openjdk version "25.`) {
		t.Fatalf("java -version: %s", r.stderr)
	}
	checkJavaModules(t, "spartan/java:25")
}

// TestJavaExampleTLS builds examples/java in two stages (javac in spartan/java:21-dev, the
// jar on the JRE) and fetches an https URL whose CA only the spec's certificates carry: the
// JRE trusts it through the trust store Spartan generated, without keytool.
func TestJavaExampleTLS(t *testing.T) {
	buildImage(t, "java")
	buildVariant(t, "java", "dev")
	r := must(t, podman(t, "run", "--rm", "--entrypoint", "sh", "spartan/java:21-dev", "-c", "javac -version && id -u && apt-get --version | head -1"), "dev image tools")
	if !strings.Contains(r.stdout, "javac 21.") || !strings.Contains(r.stdout, "\n0\n") || !strings.Contains(r.stdout, "apt ") {
		t.Fatalf("dev image: %s", r.stdout)
	}

	caPEM, port := testCA(t)
	dir, tag := specWithCA(t, "java", caPEM)
	archive := filepath.Join(workDir, "java-ca.tar")
	must(t, spartan(t, nil, "build", dir, "--arch", "amd64", "--archive", archive), "build java with CA")
	must(t, podman(t, "load", "-i", archive), "load")

	example := filepath.Join(repoRoot, "examples", "java")
	must(t, podman(t, "build", "--pull=never", "--build-arg", "JRE="+tag, "-t", "spartan-e2e/java-example-ca", example), "podman build examples/java (custom CA)")
	must(t, podman(t, "build", "--pull=never", "-t", "spartan-e2e/java-example", example), "podman build examples/java")

	url := "https://localhost:" + strconv.Itoa(port) + "/"
	for _, args := range [][]string{
		{"-jar", "/app/app.jar", url},
		// The store is password-less: a program that passes Debian's customary password still reads it.
		{"-Djavax.net.ssl.trustStorePassword=changeit", "-jar", "/app/app.jar", url},
	} {
		r := must(t, podman(t, append([]string{"run", "--rm", "--network", "host", "spartan-e2e/java-example-ca"}, args...)...), "run java example")
		if !strings.Contains(r.stdout, "as uid 65532 (nonroot)") || !strings.Contains(r.stdout, "200 spartan-tls-ok") {
			t.Fatalf("java example %v: %s", args, r.stdout)
		}
		t.Log(strings.TrimSpace(r.stdout))
	}
	// Without the spec's CA the same request must fail: the trust store is what decides.
	r = podman(t, "run", "--rm", "--network", "host", "spartan-e2e/java-example", "-jar", "/app/app.jar", url)
	if r.err == nil || !strings.Contains(r.stderr, "PKIX path building failed") {
		t.Fatalf("catalog image trusted the test CA: err %v\n%s%s", r.err, r.stdout, tail(r.stderr))
	}
	// Without arguments, the example's own CMD runs.
	r = must(t, podman(t, "run", "--rm", "spartan-e2e/java-example"), "run java example CMD")
	if !strings.Contains(r.stdout, "hello from java 21.") {
		t.Fatalf("java example: %s", r.stdout)
	}
}
