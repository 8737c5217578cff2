package audit

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func has(r *Report, id, path string, level Level) bool {
	for _, f := range r.Findings {
		if f.ID == id && f.Path == path && f.Level == level {
			return true
		}
	}
	return false
}

func dump(r *Report) string {
	var b bytes.Buffer
	r.WriteTable(&b)
	return b.String()
}

const pemKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n-----END RSA PRIVATE KEY-----\n"

func TestPlantedProblems(t *testing.T) {
	tests := []struct {
		name    string
		cfg     v1.Config
		history []v1.History
		extra   []file
		id      string
		path    string
		level   Level
	}{
		{name: "private key file", extra: []file{reg("app/certs/server.key", 0o600, pemKey)},
			id: "CIS-DI-0010", path: "/app/certs/server.key", level: Fatal},
		{name: "AWS key in ENV", cfg: v1.Config{User: "65532", Env: []string{"PATH=/usr/bin", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"}},
			id: "CIS-DI-0010", path: "config.Env[1]", level: Fatal},
		{name: "AWS secret key in a file", extra: []file{reg("root/.aws/credentials", 0o600, "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")},
			id: "CIS-DI-0010", path: "/root/.aws/credentials", level: Fatal},
		{name: "GitHub token in a script", extra: []file{reg("opt/deploy.sh", 0o755, "#!/bin/sh\ngit clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x/y\n")},
			id: "CIS-DI-0010", path: "/opt/deploy.sh", level: Fatal},
		{name: "generic token in ENV", cfg: v1.Config{User: "65532", Env: []string{"SLACK_TOKEN=xoxb-1234567890-abcdef"}},
			id: "CIS-DI-0010", path: "config.Env[0]", level: Warn},
		{name: "generic password in a config file", extra: []file{reg("app/settings.env.sh", 0o644, "export DB_PASSWORD=hunter2hunter2\n")},
			id: "CIS-DI-0010", path: "/app/settings.env.sh", level: Warn},
		{name: "dotenv file", extra: []file{reg("app/.env", 0o644, "DEBUG=1\n")},
			id: "CIS-DI-0010", path: "/app/.env", level: Warn},
		{name: "world-writable dir", extra: []file{dir("var/cache/app", 0o777)},
			id: "SPT-0005", path: "/var/cache/app", level: Warn},
		{name: "world-writable file", extra: []file{reg("etc/app.conf", 0o666, "x=1\n")},
			id: "SPT-0005", path: "/etc/app.conf", level: Warn},
		{name: "setuid binary", extra: []file{reg("usr/bin/su", 0o4755, "\x7fELF\x00")},
			id: "CIS-DI-0008", path: "/usr/bin/su", level: Warn},
		{name: "setgid binary", extra: []file{{name: "usr/sbin/unix_chkpwd", typ: tar.TypeReg, mode: 0o2755, gid: 42, body: "\x7fELF\x00"}},
			id: "CIS-DI-0008", path: "/usr/sbin/unix_chkpwd", level: Warn},
		{name: "empty password", extra: []file{reg("etc/shadow", 0o640, "root:*:19000:0:99999:7:::\nguest::19000::::::\n")},
			id: "DKL-LI-0001", path: "/etc/shadow", level: Fatal},
		{name: "shell", extra: []file{reg("usr/bin/dash", 0o755, "\x7fELF\x00"), symlink("usr/bin/sh", "dash")},
			id: "SPT-0001", path: "/usr/bin/sh", level: Warn},
		{name: "busybox at the root", extra: []file{reg("busybox", 0o755, "\x7fELF\x00")},
			id: "SPT-0001", path: "/busybox", level: Warn},
		{name: "package manager", extra: []file{reg("usr/bin/dpkg", 0o755, "\x7fELF\x00")},
			id: "SPT-0002", path: "/usr/bin/dpkg", level: Warn},
		{name: "pip", extra: []file{reg("usr/local/bin/pip3", 0o755, "#!/usr/bin/python3\n")},
			id: "SPT-0002", path: "/usr/local/bin/pip3", level: Warn},
		{name: "compiler", extra: []file{reg("usr/bin/x86_64-linux-gnu-gcc-14", 0o755, "\x7fELF\x00"), symlink("usr/bin/gcc", "x86_64-linux-gnu-gcc-14")},
			id: "SPT-0003", path: "/usr/bin/gcc", level: Warn},
		{name: "network tool", extra: []file{reg("usr/bin/curl", 0o755, "\x7fELF\x00")},
			id: "SPT-0004", path: "/usr/bin/curl", level: Warn},
		{name: "no USER", cfg: v1.Config{Env: []string{"PATH=/usr/bin"}},
			id: "CIS-DI-0001", path: "config.User", level: Warn},
		{name: "USER 0:0", cfg: v1.Config{User: "0:0"},
			id: "CIS-DI-0001", path: "config.User", level: Warn},
		{name: "named user with uid 0", cfg: v1.Config{User: "admin"}, extra: []file{reg("etc/passwd", 0o644, "root:x:0:0::/root:/sbin/nologin\nadmin:x:0:0::/:/sbin/nologin\n")},
			id: "CIS-DI-0001", path: "config.User", level: Warn},
		{name: "duplicate uid", extra: []file{reg("etc/passwd", 0o644, "root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/:/sbin/nologin\napp:x:65532:65532::/:/sbin/nologin\n")},
			id: "DKL-LI-0002", path: "/etc/passwd", level: Warn},
		{name: "orphan owner", extra: []file{{name: "srv/data", typ: tar.TypeReg, mode: 0o644, uid: 1001, body: "x"}},
			id: "SPT-0006", path: "/srv/data", level: Info},
		{name: ".git directory", extra: []file{dir("app/.git", 0o755), reg("app/.git/HEAD", 0o644, "ref: refs/heads/main\n")},
			id: "DKL-LI-0003", path: "/app/.git", level: Warn},
		{name: "sensitive volume", cfg: v1.Config{User: "65532", Volumes: map[string]struct{}{"/proc/sys": {}, "/data": {}}},
			id: "DKL-DI-0002", path: "config.Volumes", level: Warn},
		{name: "sudo in history", history: []v1.History{{CreatedBy: "/bin/sh -c sudo apt-get install -y vim"}},
			id: "DKL-DI-0001", path: "history[0]", level: Warn},
		{name: "ADD url in history", history: []v1.History{{CreatedBy: "ADD https://example.test/app.tgz /app # buildkit"}},
			id: "CIS-DI-0009", path: "history[0]", level: Warn},
		{name: "curl | sh in history", history: []v1.History{{CreatedBy: "RUN /bin/sh -c curl -fsSL https://get.example.test | sh"}},
			id: "SPT-0007", path: "history[0]", level: Warn},
		{name: "wget | bash in history", history: []v1.History{{CreatedBy: "RUN wget -qO- https://x.test/i.sh | sudo bash"}},
			id: "SPT-0007", path: "history[0]", level: Warn},
		{name: "dist-upgrade", history: []v1.History{{CreatedBy: "RUN apt-get update && apt-get dist-upgrade -y"}},
			id: "DKL-DI-0003", path: "history[0]", level: Warn},
		{name: "apk cache", history: []v1.History{{CreatedBy: "RUN apk add curl"}},
			id: "DKL-DI-0004", path: "history[0]", level: Info},
		{name: "apt lists left", extra: []file{reg("var/lib/apt/lists/x_Packages", 0o644, "Package: a\n")},
			id: "DKL-DI-0005", path: "/var/lib/apt/lists", level: Info},
		{name: "no healthcheck", id: "CIS-DI-0006", path: "config.Healthcheck", level: Info},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.User == "" && cfg.Env == nil && tt.id != "CIS-DI-0001" {
				cfg = nonroot
			}
			img := testImage(t, cfg, tt.history, cleanBase(), tt.extra)
			r := audit(t, img)
			if !has(r, tt.id, tt.path, tt.level) {
				t.Errorf("want %s %s at %s; got:\n%s", tt.level, tt.id, tt.path, dump(r))
			}
		})
	}
}

func TestCleanImage(t *testing.T) {
	img := testImage(t, v1.Config{User: "65532:65532", Env: []string{"PATH=/usr/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "PASSWORD_FILE=/run/secrets/pw"},
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/usr/bin/python3", "-c", "pass"}}},
		[]v1.History{{CreatedBy: "spartan: packages (python3.13)"}}, cleanBase())
	r := audit(t, img)
	if m := r.Max(); m >= Info {
		t.Fatalf("clean image has findings up to %s:\n%s", m, dump(r))
	}
	// Every check that applies reported a PASS.
	if got, want := r.Counts()[Pass]+len(r.Skipped), len(Checks); got != want {
		t.Errorf("PASS+skipped = %d, want one per check (%d)", got, want)
	}
}

func TestSecretScanFalsePositives(t *testing.T) {
	clean := []string{
		"PASSWORD=changeme\n",
		"# set DB_PASSWORD=$DB_PASSWORD from the environment\nDB_PASSWORD=${DB_PASSWORD}\n",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		"-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
		"access = AKIA-not-a-key\n",
		"API_TOKEN=\n",
	}
	for _, s := range clean {
		if hits := scanSecrets([]byte(s)); len(hits) > 0 {
			t.Errorf("%q: unexpected %+v", s, hits)
		}
	}
	for _, kv := range []string{"PATH=/usr/bin", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", "TOKEN_FILE=/run/secrets/t", "PASSWORD="} {
		if hits := scanEnv(kv); len(hits) > 0 {
			t.Errorf("%q: unexpected %+v", kv, hits)
		}
	}
	if hits := scanSecrets([]byte("a\nb\n" + pemKey)); len(hits) != 1 || hits[0].Line != 3 {
		t.Errorf("PEM key on line 3: got %+v", hits)
	}
}

func TestWhiteouts(t *testing.T) {
	img := testImage(t, nonroot, nil,
		append(cleanBase(),
			reg("usr/bin/bash", 0o755, "\x7fELF\x00"),
			dir("opt/tools", 0o755), reg("opt/tools/secret.pem", 0o600, pemKey),
			reg("etc/app.conf", 0o666, "x\n")),
		[]file{
			reg("usr/bin/.wh.bash", 0o644, ""),
			reg("opt/tools/.wh..wh..opq", 0o644, ""),
			reg("opt/tools/new.txt", 0o644, "fine\n"),
			reg("etc/app.conf", 0o644, "x\n"), // replaced with a safe mode
		})
	im, err := Read(&Target{Name: "wh", Kind: KindMemory, Image: img}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/usr/bin/bash", "/opt/tools/secret.pem", "/usr/bin/.wh.bash", "/opt/tools/.wh..wh..opq"} {
		if im.FS.Get(p) != nil {
			t.Errorf("%s should be gone", p)
		}
	}
	for _, p := range []string{"/opt/tools/new.txt", "/opt/tools", "/usr/bin/python3.13"} {
		if im.FS.Get(p) == nil {
			t.Errorf("%s should be there", p)
		}
	}
	if r := Run(im); r.Max() >= Warn {
		t.Errorf("whited-out problems still reported:\n%s", dump(r))
	}
	if len(im.Layers) != 2 || im.Layers[0].UncompressedSize <= 1024 || im.Layers[0].Size <= 0 {
		t.Errorf("layer sizes not measured: %+v", im.Layers)
	}
}

func TestIgnore(t *testing.T) {
	img := testImage(t, v1.Config{}, nil, cleanBase(), []file{
		reg("usr/bin/dash", 0o755, "\x7fELF\x00"), symlink("usr/bin/sh", "dash"),
		reg("usr/bin/su", 0o4755, "\x7fELF\x00"), reg("usr/bin/mount", 0o4755, "\x7fELF\x00"),
	})
	r := audit(t, img)
	ig, err := ParseIgnore("ignore", strings.NewReader(`# shells are fine in this image
SPT-0001
CIS-DI-0008:/usr/bin/su   # only su is accepted
CIS-DI-0006
`))
	if err != nil {
		t.Fatal(err)
	}
	ig.Apply(r)
	if has(r, "SPT-0001", "/usr/bin/sh", Warn) || has(r, "CIS-DI-0008", "/usr/bin/su", Warn) || has(r, "CIS-DI-0006", "config.Healthcheck", Info) {
		t.Errorf("ignored findings still present:\n%s", dump(r))
	}
	if !has(r, "CIS-DI-0008", "/usr/bin/mount", Warn) || !has(r, "CIS-DI-0001", "config.User", Warn) {
		t.Errorf("findings not in the ignore file were dropped:\n%s", dump(r))
	}
	if r.Ignored != 4 { // sh, dash, su, healthcheck
		t.Errorf("ignored = %d, want 4", r.Ignored)
	}
	if !r.Failed(Warn) || r.Failed(Fatal) {
		t.Errorf("exit levels: Failed(warn)=%v Failed(fatal)=%v; want true, false", r.Failed(Warn), r.Failed(Fatal))
	}
	for _, bad := range []string{"NOPE-1\n", "SPT-0001:[\n"} {
		if _, err := ParseIgnore("ignore", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "ignore:1") {
			t.Errorf("%q: want an error naming ignore:1, got %v", bad, err)
		}
	}
}

func TestSARIF(t *testing.T) {
	img := testImage(t, v1.Config{Env: []string{"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"}}, nil, cleanBase(),
		[]file{reg("usr/bin/bash", 0o755, "\x7fELF\x00")})
	r := audit(t, img)
	var buf bytes.Buffer
	if err := r.WriteSARIF(&buf, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name           string `json:"name"`
					Version        string `json:"version"`
					InformationURI string `json:"informationUri"`
					Rules          []struct {
						ID                   string                 `json:"id"`
						Name                 string                 `json:"name"`
						ShortDescription     struct{ Text string }  `json:"shortDescription"`
						Help                 struct{ Text string }  `json:"help"`
						DefaultConfiguration struct{ Level string } `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string                `json:"ruleId"`
				RuleIndex int                   `json:"ruleIndex"`
				Level     string                `json:"level"`
				Message   struct{ Text string } `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("SARIF is not the expected JSON: %v", err)
	}
	if doc.Version != "2.1.0" || !strings.Contains(doc.Schema, "sarif-2.1.0") || len(doc.Runs) != 1 {
		t.Fatalf("header: version %q schema %q runs %d", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Version != "1.2.3" || len(run.Tool.Driver.Rules) != len(Checks) {
		t.Errorf("driver: %+v", run.Tool.Driver)
	}
	levels := map[string]string{}
	uris := map[string]string{}
	for _, res := range run.Results {
		if rule := run.Tool.Driver.Rules[res.RuleIndex]; rule.ID != res.RuleID {
			t.Errorf("result %s points at rule %d (%s)", res.RuleID, res.RuleIndex, rule.ID)
		}
		if res.Message.Text == "" {
			t.Errorf("result %s without message", res.RuleID)
		}
		levels[res.RuleID] = res.Level
		if len(res.Locations) > 0 {
			uris[res.RuleID] = res.Locations[0].PhysicalLocation.ArtifactLocation.URI
		}
	}
	want := map[string]string{"CIS-DI-0010": "error", "SPT-0001": "warning", "CIS-DI-0001": "warning", "CIS-DI-0006": "note"}
	for id, lvl := range want {
		if levels[id] != lvl {
			t.Errorf("%s: level %q, want %q", id, levels[id], lvl)
		}
	}
	if uris["SPT-0001"] != "usr/bin/bash" {
		t.Errorf("SPT-0001 location %q, want usr/bin/bash", uris["SPT-0001"])
	}
	if _, ok := levels[""]; ok {
		t.Error("result without ruleId")
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	r := audit(t, testImage(t, v1.Config{}, nil, cleanBase()))
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != len(r.Findings) || back.Findings[0].Level != r.Findings[0].Level || back.Findings[0].ID != r.Findings[0].ID {
		t.Errorf("round trip changed the report: %+v vs %+v", back.Findings[0], r.Findings[0])
	}
}
