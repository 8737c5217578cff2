package inventory

import (
	"strings"
	"testing"
)

// A database in the format apk writes (record layout as in Alpine 3.16's alpine-baselayout
// and musl entries).
const apkInstalledText = `C:Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=
P:alpine-baselayout
V:3.2.0-r23
A:x86_64
S:11136
I:348160
T:Alpine base dir structure and init scripts
U:https://git.alpinelinux.org/cgit/aports/tree/main/alpine-baselayout
L:GPL-2.0-only
o:alpine-baselayout
m:Natanael Copa <ncopa@alpinelinux.org>
t:1662926906
c:348653a9ba0701e8e968b3344e72313a9ef334e4
D:alpine-baselayout-data=3.2.0-r23 /bin/sh so:libc.musl-x86_64.so.1
p:cmd:mkmntdirs=3.2.0-r23
F:etc
R:motd
Z:Q1XmduVVNURHQ27TvYp1Lr5TMtFcA=
F:etc/crontabs
R:root
a:0:0:600
Z:Q1vfk1apUWI4yLJGhhNRd0kJixfvY=

C:Q1VUBxlP54+nXCR+xuJZq3y37aJ8A=
P:musl
V:1.2.3-r2
A:x86_64
L:MIT
o:musl
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
Z:Q1zrNVNAqTNyCMC4PGWo1mmjoe9wI=
R:libc.musl-x86_64.so.1
`

func TestAPKInstalled(t *testing.T) {
	fs := fsOf(t, []ent{
		{name: "lib/apk/db/installed", body: apkInstalledText},
		{name: "etc/os-release", body: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.16.3\n"},
	})
	inv, err := Read(fs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(inv.Databases, ",") != "apk" {
		t.Errorf("databases %v", inv.Databases)
	}
	if got := summary(inv); got != "alpine-baselayout:x86_64=3.2.0-r23(alpine-baselayout@3.2.0-r23) musl:x86_64=1.2.3-r2(musl@1.2.3-r2)" {
		t.Errorf("packages %s", got)
	}
	bl := inv.Package("alpine-baselayout")
	if strings.Join(bl.Depends, ",") != "musl" {
		t.Errorf("depends %v (so: must map to musl, /bin/sh and the absent data package drop)", bl.Depends)
	}
	if len(bl.Files) != 2 || bl.Files[1].Path != "/etc/crontabs/root" || bl.Files[1].Digest != "sha1:bdf9356a9516238c8b2468613517749098b17ef6" {
		t.Errorf("files %+v", bl.Files)
	}
	if bl.License.Format != SPDXExpression || string(bl.License.Text) != "GPL-2.0-only" {
		t.Errorf("license %+v", bl.License)
	}
	if got := bl.PURL(inv.OS).String(); got != "pkg:apk/alpine/alpine-baselayout@3.2.0-r23?arch=x86_64&distro=alpine-3.16.3" {
		t.Errorf("purl %s", got)
	}
	m := inv.Package("musl")
	if len(m.Files) != 2 || m.Files[1].Path != "/lib/libc.musl-x86_64.so.1" || m.Files[1].Digest != "" {
		t.Errorf("musl files %+v", m.Files)
	}
}

func TestAPKInstalledCorrupt(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"P:a\nnonsense\n", "line 2"},
		{"P:a\nA:x86_64\n\n", "no P: or V:"},
	} {
		_, err := Read(fsOf(t, []ent{{name: "lib/apk/db/installed", body: tc.text}}))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "/lib/apk/db/installed") {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}
