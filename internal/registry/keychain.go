// Package registry talks to container registries: it resolves references (with plain HTTP
// for loopback registries), finds credentials where docker and podman keep them, pushes images,
// indexes and their cosign attachments uploading only the blobs the registry lacks, and
// serves as the signature store of a remote repository.
package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Keychain finds credentials in docker's config (and its credential helpers) and in podman's
// auth.json. ggcr's default keychain reads podman's file only when docker has none, so a
// user of both would otherwise lose their podman logins.
func Keychain() authn.Keychain {
	var files []string
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		files = append(files, f)
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	}
	if d, err := os.UserConfigDir(); err == nil {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	}
	return authn.NewMultiKeychain(authn.DefaultKeychain, authFiles(files))
}

// authFiles reads containers-auth.json(5) files: {"auths": {"host[/path]": {"auth": base64}}}.
type authFiles []string

func (fs authFiles) Resolve(r authn.Resource) (authn.Authenticator, error) {
	for _, f := range fs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // absent files are the norm
		}
		var cfg struct {
			Auths map[string]struct {
				Auth string `json:"auth"`
			} `json:"auths"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("registry credentials %s: %w", f, err)
		}
		for _, key := range authKeys(r) {
			a, ok := cfg.Auths[key]
			if !ok || a.Auth == "" {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("registry credentials %s for %s: auth is not base64", f, key)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("registry credentials %s for %s: auth is not user:password", f, key)
			}
			return authn.FromConfig(authn.AuthConfig{Username: user, Password: pass}), nil
		}
	}
	return authn.Anonymous, nil
}

// authKeys are the auth.json keys that can hold r's credentials, most specific first:
// podman allows per-repository entries.
func authKeys(r authn.Resource) []string {
	host := r.RegistryStr()
	var keys []string
	if repo, ok := r.(interface{ RepositoryStr() string }); ok {
		parts := strings.Split(repo.RepositoryStr(), "/")
		for i := len(parts); i > 0; i-- {
			keys = append(keys, host+"/"+strings.Join(parts[:i], "/"))
		}
	}
	keys = append(keys, host)
	if host == "index.docker.io" {
		keys = append(keys, "docker.io", "https://index.docker.io/v1/")
	}
	return keys
}
