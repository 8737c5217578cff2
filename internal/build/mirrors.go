package build

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/archive"
)

// Mirrors are the two Debian archives a spec's repositories may name: the main archive and the
// security archive, which Debian serves from a different path.
type Mirrors struct {
	Main     string
	Security string
	Alpine   string // the Alpine mirror, for distro: alpine specs
}

// Environment variables that set the mirrors when no flag does.
const (
	EnvMirror         = "SPARTAN_MIRROR"
	EnvSecurityMirror = "SPARTAN_SECURITY_MIRROR"
)

// ResolveMirrors picks the mirrors in order of precedence: flags, environment, the host's apt
// sources under aptDir. The security mirror falls back to the main mirror's path + "-security",
// which is how Debian lays out its archives.
func ResolveMirrors(flagMain, flagSecurity, aptDir string) (Mirrors, error) {
	m := Mirrors{Main: firstNonEmpty(flagMain, os.Getenv(EnvMirror)), Security: firstNonEmpty(flagSecurity, os.Getenv(EnvSecurityMirror))}
	if m.Main == "" {
		main, sec, err := archive.HostMirrors(aptDir)
		if err != nil {
			return m, fmt.Errorf("no Debian mirror configured: pass --mirror URL or set %s (%w)", EnvMirror, err)
		}
		m.Main = main
		if m.Security == "" {
			m.Security = sec
		}
	}
	m.Main = strings.TrimSuffix(m.Main, "/")
	if m.Security == "" {
		m.Security = m.Main + "-security"
	}
	m.Security = strings.TrimSuffix(m.Security, "/")
	if !strings.HasPrefix(m.Main, "http://") && !strings.HasPrefix(m.Main, "https://") {
		return m, errors.New("mirror " + m.Main + ": must be an http:// or https:// URL")
	}
	return m, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
