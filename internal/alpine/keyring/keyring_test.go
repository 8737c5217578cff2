package keyring

import (
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	kr, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub",
		"alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
		"alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub",
	} {
		if kr[name] == nil {
			t.Errorf("embedded keyring lacks %s", name)
		}
	}
	delete(kr, "alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub")
	again, _ := Default()
	if again["alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub"] == nil {
		t.Error("Default returned a shared map")
	}
}

func TestAddErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"../x.rsa.pub", "", "plain file name"},
		{"k.rsa.pub", "not pem", "no PEM block"},
		{"k.rsa.pub", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "want PUBLIC KEY"},
		{"k.rsa.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "k.rsa.pub"},
	} {
		err := Keyring{}.Add(tc.name, []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%q) error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestVerifyUnsigned(t *testing.T) {
	_, err := Keyring{}.Verify("x.apk", nil, Digests{})
	if err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("error %v", err)
	}
}
