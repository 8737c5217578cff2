package testkit

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/vuln"
)

// TrackerDB imports a security-tracker JSON file (real format, usually an excerpt kept in
// testdata) into a fresh database under t.TempDir and opens it; the test's cleanup closes it.
// The import time is fixed, so what a test sees does not depend on the day it runs.
func TrackerDB(t testing.TB, file string) *vuln.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), vuln.DefaultFile)
	if _, err := vuln.ImportTrackerFile(path, file, time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	db, err := vuln.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
