package spec

import (
	"errors"
	"strings"
	"testing"
)

const testFile = "images/t/spartan.yaml"

// base is a valid two-line spec; cases append to it, so their own lines
// start at line 3.
const base = "name: t\npackages: [libc6]\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // every error, one per line, in file order
	}{
		// Structure and YAML.
		{"unknown field", "name: t\npakages: [libc6]\n",
			`2:1: unknown field "pakages" (did you mean "packages"?)`},
		{"unknown field, snake case", base + "run_as: nonroot\n",
			`3:1: unknown field "run_as" (did you mean "accounts.run-as"?)`},
		{"unknown field, nested hint", base + "users: []\n",
			`3:1: unknown field "users" (did you mean "accounts.users"?)`},
		{"unknown field, no suggestion", base + "colour: blue\n",
			`3:1: unknown field "colour"`},
		{"unknown nested field", base + "trim: {doc: false}\n",
			`3:8: unknown field "doc" in trim (did you mean "docs"?)`},
		{"two errors joined", "name: t\npackages: [libc6]\nlayer: 3\nentrypont: [/x]\n",
			"3:1: unknown field \"layer\" (did you mean \"layers\"?)\n" +
				"4:1: unknown field \"entrypont\" (did you mean \"entrypoint\"?)"},
		{"syntax error", "name: t\npackages: [libc6\n",
			`2: invalid YAML: did not find expected ',' or ']'`},
		{"tab indentation", "name: t\n\tpackages: []\n",
			`2: invalid YAML: found a tab character that violates indentation`},
		{"control character", "name: t\npackages: [li\x01bc6]\n",
			`2:14: invalid YAML: control characters are not allowed`},
		{"empty file", "", `1: empty spec; it needs at least name and packages`},
		{"comments only", "# nothing\n", `1: empty spec; it needs at least name and packages`},
		{"two documents", base + "---\nname: u\n",
			`3: a spec file holds one YAML document; remove the second one (---)`},
		{"not a mapping", "- name: t\n",
			`1:1: the spec must be a mapping of fields, got a list`},
		{"duplicate key", base + "name: u\n",
			`3:1: duplicate key "name" (first at line 1)`},
		{"merge key", base + "env:\n  <<: {A: b}\n",
			`4:3: env: merge keys (<<) are not supported; write the fields out or use a variant`},
		{"custom tag", base + "description: !secret x\n",
			`3:14: description: unsupported YAML tag !secret`},
		{"null value", base + "description:\n",
			`3:13: description: expected a string, got null`},
		{"alias loop", base + "cmd: &x [*x]\n",
			`3:6: cmd[0]: expected a string, got a list`},

		// Required fields.
		{"missing name", "packages: [libc6]\n",
			`1:1: name: required (the image name, e.g. name: python)`},
		{"missing packages", "name: t\n",
			`1:1: packages: required: list at least one package to install`},
		{"empty packages", "name: t\npackages: []\n",
			`2:11: packages: required: list at least one package to install`},

		// Scalars and enums.
		{"bad name", "name: Python\npackages: [libc6]\n",
			`1:7: name: invalid image name "Python": use lowercase letters, digits and . _ - (e.g. python)`},
		{"alpine without release", base + "distro: alpine\n",
			`1:1: release: required for distro alpine: an Alpine branch such as v3.22`},
		{"alpine with a codename", base + "distro: alpine\nrelease: trixie\n",
			`4:10: release: "trixie" is not an Alpine branch; use one such as v3.22 or edge`},
		{"debian with a branch", base + "release: v3.22\n",
			`3:10: release: "v3.22" is an Alpine branch; set distro: alpine, or use a Debian codename (bookworm, trixie)`},
		{"distro unknown", base + "distro: fedora\n",
			`3:9: distro: unknown distro "fedora"; supported: debian, alpine`},
		{"release number", base + "release: 13\n",
			`3:10: release: use the codename "trixie" instead of the version number 13`},
		{"release unknown", base + "release: buster\n",
			`3:10: release: unknown release "buster"; supported: bookworm (12), trixie (13)`},
		{"profile", base + "profile: staging\n",
			`3:10: profile: unknown profile "staging"; use runtime, dev or debug`},
		{"layers type", base + "layers: ten\n",
			`3:9: layers: expected an integer, got string "ten"`},
		{"layers low", base + "layers: 1\n",
			`3:9: layers: must be between 2 and 64, got 1`},
		{"layers high", base + "layers: 65\n",
			`3:9: layers: must be between 2 and 64, got 65`},
		{"workdir relative", base + "workdir: app\n",
			`3:10: workdir: path "app" must be absolute (start with /)`},
		{"workdir unclean", base + "workdir: /app/../srv\n",
			`3:10: workdir: path "/app/../srv" is not clean; write "/srv"`},

		// Lists.
		{"list as scalar", base + "archs: amd64\n",
			`3:8: archs: expected a list, got string "amd64" (write [amd64])`},
		{"arch alias", base + "archs: [x86_64]\n",
			`3:9: archs[0]: unknown architecture "x86_64" (Debian calls it "amd64")`},
		{"arch unknown", base + "archs: [mips]\n",
			`3:9: archs[0]: unknown architecture "mips"; supported: amd64, arm64, armhf, ppc64el, riscv64, s390x`},
		{"archs empty", base + "archs: []\n",
			`3:8: archs: must list at least one architecture`},
		{"archs repeated", base + "archs: [amd64, arm64, amd64]\n",
			`3:23: archs[2]: "amd64" is listed twice (first at line 3)`},
		{"package with version", "name: t\npackages:\n  - libc6\n  - python3=3.13\n",
			`4:5: packages[1]: invalid package name "python3=3.13" (list bare package names; versions come from the archive)`},
		{"package map item", "name: t\npackages:\n  - {name: libc6}\n",
			`3:5: packages[0]: expected a string, got a mapping`},
		{"requested and excluded", "name: t\npackages: [libc6, bash]\nexclude: [bash]\n",
			`3:11: exclude[0]: package "bash" is both requested (line 2) and excluded`},
		{"certificate empty", base + "certificates: ['']\n",
			`3:16: certificates[0]: must not be empty`},

		// Maps.
		{"env key", base + "env: {1X: y}\n",
			`3:7: env.1X: invalid variable name "1X": use letters, digits and _, not starting with a digit`},
		{"env value list", base + "env:\n  A: [1]\n",
			`4:6: env.A: expected a string, got a list`},
		{"labels not a map", base + "labels: [a]\n",
			`3:9: labels: expected a mapping of names to strings, got a list`},

		// Tags.
		{"tag invalid", base + "tags: [Python:3]\n",
			`3:8: tags[0]: invalid tag "Python:3": expected [registry/]repository[:tag], e.g. python:3.13`},
		{"tag digest", base + "tags: ['t@sha256:00']\n",
			`3:8: tags[0]: tag "t@sha256:00" must not contain a digest`},
		{"tag repeated after :latest", base + "tags: [t, 't:latest']\n",
			`3:11: tags[1]: tag "t:latest" is listed twice (first at line 3)`},
		{"tags empty", base + "tags: []\n",
			`3:7: tags: must list at least one tag`},

		// Repositories.
		{"repositories empty", base + "repositories: []\n",
			`3:15: repositories: must list at least one repository (omit the field for the defaults)`},
		{"repository archive and url", base + "repositories:\n  - archive: main\n    url: http://mirror.invalid/debian\n",
			`5:5: repositories[0]: archive and url are mutually exclusive: archive picks a configured mirror, url names one`},
		{"repository neither", base + "repositories:\n  - suites: [trixie]\n",
			`4:5: repositories[0]: set archive (main or security) or url`},
		{"repository archive unknown", base + "repositories:\n  - archive: backports\n",
			`4:14: repositories[0].archive: unknown archive "backports"; use main or security, or set url instead`},
		{"repository url scheme", base + "repositories:\n  - url: ftp://mirror.invalid/debian\n",
			`4:10: repositories[0].url: URL "ftp://mirror.invalid/debian" must start with http:// or https://`},
		{"repository url credentials", base + "repositories:\n  - url: https://u:p@mirror.invalid/debian\n",
			`4:10: repositories[0].url: URL must not contain credentials; a spec is meant to be published`},
		{"repository suites empty", base + "repositories:\n  - {archive: main, suites: []}\n",
			`4:29: repositories[0].suites: must list at least one suite`},
		{"repository suite invalid", base + "repositories:\n  - {archive: main, suites: [../x]}\n",
			`4:30: repositories[0].suites[0]: invalid suite "../x"`},

		// Accounts.
		{"user uid quoted", base + "accounts:\n  users: [{name: app, uid: '1000'}]\n",
			`4:28: accounts.users[0].uid: expected an integer, got string "1000"`},
		{"user uid missing", base + "accounts:\n  users:\n    - name: app\n",
			`5:7: accounts.users[0].uid: required`},
		{"user unknown field", base + "accounts:\n  users:\n    - {name: app, uuid: 1000}\n",
			`5:19: unknown field "uuid" in accounts.users[0] (did you mean "uid"?)`},
		{"user home relative", base + "accounts:\n  users: [{name: app, uid: 1000, home: app}]\n",
			`4:40: accounts.users[0].home: path "app" must be absolute (start with /)`},
		{"user root", base + "accounts:\n  users: [{name: root, uid: 0}]\n",
			"4:18: accounts.users[0].name: \"root\" is always present; do not declare it\n" +
				"4:29: accounts.users[0].uid: uid 0 is root, which is always present"},
		{"user name invalid", base + "accounts:\n  users: [{name: App, uid: 1000}]\n",
			`4:18: accounts.users[0].name: invalid name "App": use lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters`},
		{"duplicate uid", base + "accounts:\n  users:\n    - {name: a, uid: 1000}\n    - {name: b, uid: 1000}\n",
			`6:22: accounts.users[1].uid: uid 1000 is already used by "a" (first declared at line 5)`},
		{"duplicate user", base + "accounts:\n  users:\n    - {name: a, uid: 1000}\n    - {name: a, uid: 1001}\n",
			`6:14: accounts.users[1].name: duplicate user "a" (first declared at line 5)`},
		{"duplicate group", base + "accounts:\n  groups:\n    - {name: g, gid: 2000}\n    - {name: g, gid: 2001}\n",
			`6:7: accounts.groups[1]: duplicate group "g" (first declared at line 5)`},
		{"duplicate gid", base + "accounts:\n  groups:\n    - {name: g, gid: 2000}\n    - {name: h, gid: 2000}\n",
			`6:22: accounts.groups[1].gid: gid 2000 is already used by another group`},
		{"group member unknown", base + "accounts:\n  groups: [{name: g, gid: 2000, members: [bob]}]\n",
			`4:43: accounts.groups[0].members[0]: unknown user "bob"; declare it in accounts.users`},
		{"user group name taken", base + "accounts:\n  users: [{name: app, uid: 1000}]\n  groups: [{name: app, gid: 2000}]\n",
			`4:11: accounts.users[0]: user "app" needs a group with gid 1000, but group "app" has another gid; declare a group with gid 1000`},
		{"default user group name taken", base + "accounts:\n  groups: [{name: nonroot, gid: 2000}]\n",
			`4:12: accounts.groups[0]: user "nonroot" needs a group with gid 65532, but group "nonroot" has another gid; declare a group with gid 65532`},
		{"run-as unknown", base + "accounts:\n  run-as: bob\n",
			`4:11: accounts.run-as: unknown user "bob" (declared: nonroot, root); declare it in accounts.users or use uid[:gid]`},
		{"run-as invalid", base + "accounts:\n  run-as: '1000:x'\n",
			`4:11: accounts.run-as: invalid run-as "1000:x": use a user name or uid[:gid]`},
		{"run-as out of range", base + "accounts:\n  run-as: '4294967295'\n",
			`4:11: accounts.run-as: id 4294967295 is out of range (at most 2147483647)`},

		// Paths.
		{"path relative", base + "paths:\n  - {path: app, type: directory}\n",
			`4:12: paths[0].path: path "app" must be absolute (start with /)`},
		{"path root", base + "paths:\n  - {path: /, type: directory}\n",
			`4:12: paths[0].path: cannot manage "/" itself`},
		{"path type missing", base + "paths:\n  - {path: /app}\n",
			`4:5: paths[0].type: required (directory, file or symlink)`},
		{"path type unknown", base + "paths:\n  - {path: /app, type: dir}\n",
			`4:24: paths[0].type: unknown type "dir"; use directory, file or symlink`},
		{"path mode not octal", base + "paths:\n  - {path: /app, type: directory, mode: '0789'}\n",
			`4:41: paths[0].mode: invalid mode "0789": write octal permission bits such as "0755"`},
		{"path mode setuid", base + "paths:\n  - {path: /app, type: file, mode: '4755'}\n",
			`4:36: paths[0].mode: mode "4755" sets setuid/setgid bits, which hardened images do not allow`},
		{"path mode range", base + "paths:\n  - {path: /app, type: file, mode: '17777'}\n",
			`4:36: paths[0].mode: mode "17777" is out of range (at most 07777)`},
		{"symlink without target", base + "paths:\n  - {path: /bin/py, type: symlink}\n",
			`4:5: paths[0].target: required for a symlink`},
		{"symlink with mode", base + "paths:\n  - {path: /bin/py, type: symlink, target: x, mode: '0777'}\n",
			`4:53: paths[0].mode: not allowed for a symlink`},
		{"directory with content", base + "paths:\n  - {path: /app, type: directory, content: x}\n",
			`4:44: paths[0].content: not allowed for a directory`},
		{"duplicate path", base + "paths:\n  - {path: /app, type: directory}\n  - {path: /app, type: file}\n",
			`5:5: paths[1]: /app is already declared at line 4`},
		{"path below a file", base + "paths:\n  - {path: /etc/app, type: file}\n  - {path: /etc/app/x, type: file}\n",
			`5:5: paths[1]: /etc/app/x is inside /etc/app, which line 4 declares as a file`},

		// Trim.
		{"trim bool as string", base + "trim: {docs: 'yes'}\n",
			`3:14: trim.docs: expected true or false, got string "yes"`},
		{"keep-locales bad", base + "trim: {keep-locales: ['en US']}\n",
			`3:23: trim.keep-locales[0]: invalid locale "en US" (e.g. C.UTF-8, en_US.UTF-8)`},
		{"java module bad", base + "trim: {java-modules: [jdk compiler]}\n",
			`3:23: trim.java-modules[0]: invalid Java module name "jdk compiler" (e.g. jdk.compiler)`},
		{"java.base removed", base + "trim: {java-modules: [jdk.jshell, java.base]}\n",
			`3:35: trim.java-modules[1]: java.base cannot be removed: every Java program needs it`},

		// Variants.
		{"variant sets name", base + "variants:\n  dev:\n    name: u\n",
			`5:5: variants.dev.name: cannot be set in a variant; variants share the base name`},
		{"variant nested", base + "variants:\n  dev:\n    variants: {}\n",
			`5:5: variants.dev.variants: variants cannot be nested`},
		{"variant runtime reserved", base + "variants:\n  runtime: {layers: 3}\n",
			`4:3: variants: variant name "runtime" is reserved for the base spec`},
		{"variant name invalid", base + "variants:\n  Dev: {layers: 3}\n",
			`4:3: variants: invalid variant name "Dev": use lowercase letters, digits and . _ - (it becomes a tag suffix)`},
		{"variant not a mapping", base + "variants:\n  dev: [bash]\n",
			`4:8: variant dev must be a mapping of fields, got a list`},
		{"variant unknown field", base + "variants:\n  dev:\n    pakages: [bash]\n",
			`5:5: unknown field "pakages" in variants.dev (did you mean "packages"?)`},
		{"variant bad value", base + "variants:\n  dev:\n    layers: 0\n",
			`5:13: variants.dev.layers: must be between 2 and 64, got 0`},
		{"variant clashes with default user", base + "variants:\n  dev:\n    accounts:\n      users: [{name: nonroot, uid: 1000}]\n",
			`6:22: variants.dev.accounts.users[0].name: duplicate user "nonroot" (declared by default; set accounts.users in the base spec to replace the defaults)`},
		{"variant excludes a base package", base + "variants:\n  slim:\n    exclude: [libc6]\n",
			`5:15: variants.slim.exclude[0]: package "libc6" is both requested (line 2) and excluded`},
		{"variant base error reported once", "name: t\npackages: [libc6]\nexclude: [libc6]\nvariants: {a: {}, b: {}}\n",
			`3:11: exclude[0]: package "libc6" is both requested (line 2) and excluded`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(testFile, []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want:\n%s", s, tt.want)
			}
			var want []string
			for _, l := range strings.Split(tt.want, "\n") {
				want = append(want, testFile+":"+l)
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("Parse error:\n got: %s\nwant: %s", got, strings.Join(want, "\n"))
			}
			if s != nil {
				t.Errorf("Parse returned a spec with an error")
			}
		})
	}
}

func TestErrorsArePositioned(t *testing.T) {
	src := "name: t\npackages: [libc6]\nlayers: 0\nprofile: x\n"
	_, err := Parse(testFile, []byte(src))
	var lines []int
	for _, e := range flatten(err) {
		var se *Error
		if !errors.As(e, &se) {
			t.Fatalf("error %v is not a *spec.Error", e)
		}
		lines = append(lines, se.Line)
	}
	if len(lines) != 2 || lines[0] != 3 || lines[1] != 4 {
		t.Errorf("error lines = %v, want [3 4]", lines)
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestSuggest(t *testing.T) {
	known := []string{"archs", "entrypoint", "packages", "run-as", "uid", "workdir"}
	tests := []struct{ in, want string }{
		{"pakages", "packages"},
		{"Packages", "packages"},
		{"run_as", "run-as"},
		{"runAs", "run-as"},
		{"entry-point", "entrypoint"},
		{"uuid", "uid"},
		{"arch", "archs"},
		{"ab", ""}, // short keys need a closer match
		{"completely-different", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
