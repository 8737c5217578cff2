package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

func mustParse(t *testing.T, src string) *Spec {
	t.Helper()
	s, err := Parse(testFile, []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, "name: t\npackages: [libc6]\n")
	abs, _ := filepath.Abs(testFile)
	want := &Spec{
		Name:           "t",
		Distro:         "debian",
		Release:        "trixie",
		ReleaseVersion: "13",
		Archs:          []string{"amd64"},
		Repositories: []Repository{
			{Archive: "main", Suites: []string{"trixie", "trixie-updates"}, Components: []string{"main"}},
			{Archive: "security", Suites: []string{"trixie-security"}, Components: []string{"main"}},
		},
		Packages: []string{"libc6"},
		Exclude:  []string{},
		Allow:    []string{},
		Profile:  Runtime,
		Accounts: Accounts{
			Users:    []User{{Name: "nonroot", UID: 65532, GID: 65532, Home: "/home/nonroot", Shell: "/sbin/nologin"}},
			Groups:   []Group{{Name: "nonroot", GID: 65532, Members: []string{}}},
			RunAs:    "65532:65532",
			RunAsUID: 65532,
			RunAsGID: 65532,
		},
		Entrypoint:   []string{},
		Cmd:          []string{},
		Env:          map[string]string{},
		Workdir:      "/home/nonroot",
		Paths:        []Path{},
		Certificates: []string{},
		Annotations:  map[string]string{},
		Labels:       map[string]string{},
		Tags:         []string{"t:latest"},
		Trim:         Trim{Docs: true, Man: true, Locales: true, KeepLocales: []string{"C.UTF-8"}},
		Layers:       10,
		Files:        []FileSet{},
		File:         abs,
		Dir:          filepath.Dir(abs),
	}
	s.fam = nil
	if !reflect.DeepEqual(s, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", s, want)
	}
}

func TestDefaultsDependOnOtherFields(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(*Spec) any
		want  any
	}{
		{"dev runs as root", "profile: dev\n",
			func(s *Spec) any { return []any{s.Accounts.RunAs, s.Accounts.User(), s.Workdir} },
			[]any{"0:0", "0:0", "/"}},
		{"bookworm suites", "release: bookworm\n",
			func(s *Spec) any { return []any{s.ReleaseVersion, s.Repositories[0].Suites, s.Repositories[1].Suites} },
			[]any{"12", []string{"bookworm", "bookworm-updates"}, []string{"bookworm-security"}}},
		{"url repository suites", "repositories:\n  - url: http://mirror.invalid/debian/\n",
			func(s *Spec) any { return s.Repositories },
			[]Repository{{URL: "http://mirror.invalid/debian", Suites: []string{"trixie"}, Components: []string{"main"}}}},
		{"security repository suites", "release: bookworm\nrepositories: [{archive: security, components: [main, contrib]}]\n",
			func(s *Spec) any { return s.Repositories },
			[]Repository{{Archive: "security", Suites: []string{"bookworm-security"}, Components: []string{"main", "contrib"}}}},
		{"keyring relative to the spec", "repositories: [{archive: main, keyring: keys/k.asc}]\n",
			func(s *Spec) any { return s.Repositories[0].Keyring },
			filepath.Join(filepath.Dir(mustAbs(testFile)), "keys", "k.asc")},
		{"run-as user name", "accounts:\n  users: [{name: app, uid: 1000, gid: 1001, home: /srv}]\n  run-as: app\n",
			func(s *Spec) any { return []any{s.Accounts.User(), s.Workdir, s.Accounts.Groups} },
			[]any{"1000:1001", "/srv", []Group{{Name: "app", GID: 1001, Members: []string{}}}}},
		{"run-as uid takes the user's group", "accounts:\n  users: [{name: app, uid: 1000, gid: 1001}]\n  run-as: '1000'\n",
			func(s *Spec) any { return []any{s.Accounts.User(), s.Workdir} },
			[]any{"1000:1001", "/home/app"}},
		{"run-as undeclared uid", "accounts:\n  run-as: '4242'\n",
			func(s *Spec) any { return []any{s.Accounts.User(), s.Workdir} },
			[]any{"4242:4242", "/"}},
		{"run-as root by name", "accounts: {run-as: root}\n",
			func(s *Spec) any { return s.Accounts.User() }, "0:0"},
		{"no users at all", "accounts: {users: []}\n",
			func(s *Spec) any { return []any{s.Accounts.Users, s.Accounts.Groups, s.Accounts.RunAs} },
			[]any{[]User{}, []Group{}, "65532:65532"}},
		{"declared group is not duplicated", "accounts:\n  users: [{name: app, uid: 1000, gid: 100}]\n  groups: [{name: users, gid: 100, members: [app]}]\n",
			func(s *Spec) any { return s.Accounts.Groups },
			[]Group{{Name: "users", GID: 100, Members: []string{"app"}}}},
		{"paths defaults", "paths:\n  - {path: /d, type: directory}\n  - {path: /f, type: file}\n  - {path: /l, type: symlink, target: /f, uid: 1}\n  - {path: /m, type: file, mode: 0600}\n  - {path: /t, type: directory, mode: '1777'}\n",
			func(s *Spec) any { return s.Paths },
			[]Path{
				{Path: "/d", Type: Directory, Mode: 0o755},
				{Path: "/f", Type: File, Mode: 0o644},
				{Path: "/l", Type: Symlink, Target: "/f", UID: 1},
				{Path: "/m", Type: File, Mode: 0o600},
				{Path: "/t", Type: Directory, Mode: 0o1777},
			}},
		{"tags get :latest", "tags: [t, 'registry.invalid:5000/team/t']\n",
			func(s *Spec) any { return s.Tags },
			[]string{"t:latest", "registry.invalid:5000/team/t:latest"}},
		{"scalars become strings", "env: {PORT: 8080, DEBUG: true}\ncmd: [--port, 8080]\n",
			func(s *Spec) any { return []any{s.Env, s.Cmd} },
			[]any{map[string]string{"PORT": "8080", "DEBUG": "true"}, []string{"--port", "8080"}}},
		{"packages keep order", "exclude: [perl-base]\n",
			func(s *Spec) any { return []any{s.Packages, s.Exclude} },
			[]any{[]string{"libc6"}, []string{"perl-base"}}},
		{"trim partly", "trim: {docs: false, keep-locales: []}\n",
			func(s *Spec) any { return s.Trim },
			Trim{Docs: false, Man: true, Locales: true, KeepLocales: []string{}}},
		{"trim java modules", "trim: {java-modules: [jdk.compiler, jdk.jshell]}\n",
			func(s *Spec) any { return s.Trim.JavaModules }, []string{"jdk.compiler", "jdk.jshell"}},
		{"anchored scalar", "description: &d hello\nlabels: {title: *d}\n",
			func(s *Spec) any { return s.Labels["title"] }, "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, "name: t\npackages: [libc6]\n"+tt.src)
			if got := tt.check(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func TestLoadExample(t *testing.T) {
	for _, p := range []string{"testdata/python", "testdata/python/spartan.yaml"} {
		s, err := Load(p)
		if err != nil {
			t.Fatalf("Load(%s): %v", p, err)
		}
		if s.File != mustAbs("testdata/python/spartan.yaml") || s.Dir != mustAbs("testdata/python") {
			t.Errorf("Load(%s): File=%s Dir=%s", p, s.File, s.Dir)
		}
		if s.Name != "python" || s.Layers != 8 || s.Env["PYTHONDONTWRITEBYTECODE"] != "1" || s.Accounts.User() != "65532:65532" {
			t.Errorf("Load(%s) = %+v", p, s)
		}
		if got := s.VariantNames(); !reflect.DeepEqual(got, []string{"debug", "dev"}) {
			t.Errorf("VariantNames = %v", got)
		}
		raw, _ := os.ReadFile("testdata/python/spartan.yaml")
		sum := sha256.Sum256(raw)
		if s.Digest() != hex.EncodeToString(sum[:]) {
			t.Errorf("Digest = %s", s.Digest())
		}
	}
}

func TestLoadMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName)+": no such file") {
		t.Errorf("Load(empty dir) = %v", err)
	}
}

func TestLoadTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	big := "name: t\npackages: [libc6]\ndescription: " + strings.Repeat("x", maxSpecSize) + "\n"
	if err := os.WriteFile(p, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "larger than 1024 KiB") {
		t.Errorf("Load(huge) = %v", err)
	}
}

func TestLoadReferencedFiles(t *testing.T) {
	good := testkit.SelfSignedCA("test CA")
	files := map[string][]byte{
		"certs/ca.pem":      good,
		"certs/two.pem":     append(append([]byte("# bundle\n"), good...), good...),
		"certs/key.pem":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}),
		"certs/corrupt.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}),
		"keys/k.asc":        []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n"),
		"keys/k.gpg":        {0x99, 0x01, 0x0d},
		"keys/wrong.asc":    []byte("-----BEGIN CERTIFICATE-----\n"),
		"keys/text.gpg":     []byte("hello"),
		"keys/empty.gpg":    {},
	}
	tests := []struct {
		name, src, want string
	}{
		{"good", "certificates: [certs/ca.pem, certs/two.pem]\nrepositories:\n  - {archive: main, keyring: keys/k.asc}\n  - {archive: security, keyring: keys/k.gpg}\n", ""},
		{"missing cert", "certificates:\n  - certs/nope.pem\n",
			"4:5: certificates[0]: cannot read DIR/certs/nope.pem: no such file or directory"},
		{"no certificate block", "certificates: [certs/key.pem]\n",
			"3:16: certificates[0]: DIR/certs/key.pem contains no PEM CERTIFICATE block"},
		{"corrupt certificate", "certificates: [certs/corrupt.pem]\n",
			"3:16: certificates[0]: DIR/certs/corrupt.pem: certificate 1 does not parse: x509: malformed certificate"},
		{"directory as cert", "certificates: [certs]\n",
			"3:16: certificates[0]: DIR/certs is not a regular file"},
		{"missing keyring", "repositories: [{archive: main, keyring: keys/none.asc}]\n",
			"3:41: repositories[0].keyring: cannot read DIR/keys/none.asc: no such file or directory"},
		{"armored non-key", "repositories: [{archive: main, keyring: keys/wrong.asc}]\n",
			"3:41: repositories[0].keyring: DIR/keys/wrong.asc is armored but holds no PGP PUBLIC KEY BLOCK"},
		{"text keyring", "repositories: [{archive: main, keyring: keys/text.gpg}]\n",
			"3:41: repositories[0].keyring: DIR/keys/text.gpg is neither an armored nor a binary OpenPGP keyring"},
		{"empty keyring", "repositories: [{archive: main, keyring: keys/empty.gpg}]\n",
			"3:41: repositories[0].keyring: DIR/keys/empty.gpg is empty"},
		{"variant cert checked too", "variants:\n  dev:\n    certificates: [certs/nope.pem]\n",
			"5:20: variants.dev.certificates[0]: cannot read DIR/certs/nope.pem: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			file := filepath.Join(dir, FileName)
			src := "name: t\npackages: [libc6]\n" + tt.src
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Load(dir)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				wantCerts := []string{filepath.Join(dir, "certs/ca.pem"), filepath.Join(dir, "certs/two.pem")}
				if !reflect.DeepEqual(s.Certificates, wantCerts) {
					t.Errorf("Certificates = %v, want %v", s.Certificates, wantCerts)
				}
				if s.Repositories[1].Keyring != filepath.Join(dir, "keys/k.gpg") {
					t.Errorf("Keyring = %s", s.Repositories[1].Keyring)
				}
				return
			}
			want := file + ":" + strings.ReplaceAll(tt.want, "DIR", dir)
			if err == nil || err.Error() != want {
				t.Errorf("Load error:\n got: %v\nwant: %s", err, want)
			}
			// Parse does not look at the files.
			if _, err := Parse(file, []byte(src)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

func TestAlpineSpec(t *testing.T) {
	s, err := Parse("images/hello/spartan.yaml", []byte("name: hello\ndistro: alpine\nrelease: v3.22\npackages: [hello, ca-certificates-bundle]\n"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Variant("")
	if err != nil {
		t.Fatal(err)
	}
	if base.Distro != "alpine" || base.Release != "v3.22" || base.ReleaseVersion != "3.22" ||
		len(base.Repositories) != 1 || strings.Join(base.Repositories[0].Suites, ",") != "main,community" ||
		base.Repositories[0].Archive != ArchiveMain || base.Accounts.RunAsUID != 65532 {
		t.Errorf("alpine spec: %+v", base)
	}
}
