package migrate

import (
	"fmt"
	"strings"
)

// family is one Spartan image and what an upstream image of its kind maps to. Spartan ships
// the one version Debian's release carries, so a Dockerfile asking for another gets a note.
type family struct {
	name       string
	runtime    string // tag for a final stage
	dev        string // tag for a build stage; "" when there is no dev variant
	version    string // the version Spartan ships, "" when versions do not apply
	entrypoint string // the runtime image's ENTRYPOINT program, "" when it has none
	// entrypointPath is where it is: the java image has no java on PATH.
	entrypointPath string
}

var (
	python = family{"python", "spartan/python:3.13", "spartan/python:3.13-dev", "3.13", "python3.13", "/usr/bin/python3.13"}
	node   = family{"node", "spartan/node:20", "spartan/node:20-dev", "20", "node", "/usr/bin/node"}
	java   = family{"java", "spartan/java:21", "spartan/java:21-dev", "21", "java", "/usr/lib/jvm/default-java/bin/java"}
	nginx  = family{"nginx", "spartan/nginx:latest", "spartan/nginx:dev", "1.26", "nginx", "/usr/sbin/nginx"}
	base   = family{"base", "spartan/base:latest", "spartan/base:dev", "", "", ""}
	cc     = family{"cc", "spartan/cc:latest", "spartan/cc:dev", "", "", ""}
	static = family{"static", "spartan/static:latest", "spartan/static:dev", "", "", ""}
	// golang has no Spartan counterpart: build stages keep it, and a final stage that only
	// runs the static binary it built moves to static.
	golang = family{name: "golang"}
)

// ref is an image reference split into the parts migration looks at.
type ref struct {
	repo   string // without registry docker.io and library/ prefixes: "python", "gcr.io/distroless/static-debian12"
	tag    string // "" when absent
	digest string // "" when absent
}

func parseRef(s string) ref {
	var r ref
	s, r.digest, _ = strings.Cut(s, "@")
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		s, r.tag = s[:i], s[i+1:]
	}
	for _, p := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/"} {
		s = strings.TrimPrefix(s, p)
	}
	r.repo = strings.TrimPrefix(s, "library/")
	return r
}

// classify maps an upstream repository to a Spartan family. ok is false for images Spartan
// has no counterpart for (they are left alone).
func classify(r ref) (family, bool) {
	switch r.repo {
	case "python":
		return python, true
	case "node":
		return node, true
	case "eclipse-temurin", "openjdk", "amazoncorretto":
		return java, true
	case "nginx", "nginxinc/nginx-unprivileged":
		return nginx, true
	case "debian":
		return base, true
	case "golang":
		return golang, true
	}
	if d, ok := strings.CutPrefix(r.repo, "gcr.io/distroless/"); ok {
		d, _, _ = strings.Cut(d, "-debian")
		switch {
		case d == "static":
			return static, true
		case d == "base" || d == "base-nossl":
			return base, true
		case d == "cc":
			return cc, true
		case strings.HasPrefix(d, "python3"):
			return python, true
		case strings.HasPrefix(d, "nodejs"):
			return node, true
		case strings.HasPrefix(d, "java"):
			return java, true
		}
	}
	return family{}, false
}

// requestedVersion is the version an upstream tag asks for: its leading digits and dots
// ("3.12.4-slim-bookworm" → "3.12.4", "21-jre" → "21"), or the digits in a distroless
// repository name ("nodejs22-debian12" → "22").
func requestedVersion(r ref) string {
	if d, ok := strings.CutPrefix(r.repo, "gcr.io/distroless/"); ok {
		d, _, _ = strings.Cut(d, "-")
		return strings.TrimLeft(d, "abcdefghijklmnopqrstuvwxyz")
	}
	v := r.tag
	end := 0
	for end < len(v) && (v[end] == '.' || v[end] >= '0' && v[end] <= '9') {
		end++
	}
	return strings.Trim(v[:end], ".")
}

// versionNote says when the Spartan image is not the version the Dockerfile asked for: the
// request must be a prefix (by components) of what Spartan ships, or the other way round.
func versionNote(f family, r ref) string {
	want := requestedVersion(r)
	if f.version == "" || want == "" {
		return ""
	}
	a, b := strings.Split(want, "."), strings.Split(f.version, ".")
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("%s asks for %s %s; Spartan's %s image is %s (Debian trixie): test your application on it", r.repo, f.name, want, f.name, f.version)
		}
	}
	return ""
}
