package scan

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/vuln"
)

// An Alpine image's apk packages are matched against secdb records of its branch with apk's
// version order (2.1_rc1 is older than 2.1).
func TestScanAlpine(t *testing.T) {
	dir := t.TempDir()
	secdb := filepath.Join(dir, "main.json")
	if err := os.WriteFile(secdb, []byte(`{"distroversion": "v3.22", "reponame": "main", "packages": [
	  {"pkg": {"name": "hello", "secfixes": {"2.1-r0": ["CVE-2025-0001"], "2.0_rc1-r0": ["CVE-2024-0002"], "0": ["CVE-2023-0003"]}}},
	  {"pkg": {"name": "musl", "secfixes": {"1.2.5-r11": ["CVE-2025-26519"]}}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "vuln.db")
	if _, _, err := vuln.ImportSecDB(dbPath, []string{secdb}, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	db, err := vuln.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	installed := &inventory.Inventory{OS: inventory.OSRelease{ID: "alpine", VersionID: "3.22.1"}, Packages: []inventory.Package{
		{Type: "apk", Namespace: "alpine", Name: "hello", Version: "2.1_rc1-r0", Arch: "x86_64", Source: "hello", SourceVersion: "2.1_rc1-r0"},
		{Type: "apk", Namespace: "alpine", Name: "musl", Version: "1.2.5-r11", Arch: "x86_64", Source: "musl", SourceVersion: "1.2.5-r11"},
	}}
	inv, err := FromInstalled(installed, "img")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Release != "alpine-v3.22" {
		t.Errorf("release %q", inv.Release)
	}
	rep, err := Scan(db, inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].CVE != "CVE-2025-0001" || rep.Findings[0].Package != "hello" ||
		rep.Findings[0].FixedVersion != "2.1-r0" || rep.Findings[0].Status != StatusFixAvailable {
		t.Errorf("findings %+v", rep.Findings)
	}
	if _, err := FromInstalled(&inventory.Inventory{OS: inventory.OSRelease{ID: "alpine", VersionID: "3.22.1"}}, "img"); err == nil {
		t.Error("alpine image without packages accepted")
	}
}
