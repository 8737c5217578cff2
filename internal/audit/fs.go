package audit

import (
	"bytes"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/rootfs"
)

// Setuid and friends in tar header mode bits (archive/tar's c_ISUID…).
const (
	modeSetuid = 0o4000
	modeSetgid = 0o2000
	modeSticky = 0o1000
)

// keepContent says which files' content the checks need: account databases, and what the
// inventory reads (package databases, os-release) for the vulnerability check and compare.
func keepContent(p string) bool {
	switch p {
	case "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow":
		return true
	}
	return inventory.Records.Wants(p)
}

// maxScan is the largest file searched for secrets: keys and credential files are small, and
// reading every large file would make auditing a general-purpose image slow.
const maxScan = 64 << 10

// flatten reads the image's file system once: modes and owners of every path, the content of
// the files the checks parse, secrets found in small text files. Layer sizes are measured on
// the way, since the uncompressed bytes are read anyway.
func flatten(img v1.Image) (*rootfs.FS, error) {
	fs, err := rootfs.Flatten(img, rootfs.Options{Keep: keepContent, Inspect: inspectSecrets, InspectLimit: maxScan})
	if err != nil {
		return nil, fmt.Errorf("flatten: %w", err)
	}
	return fs, nil
}

// inspectSecrets searches a small file that is not binary; nil when nothing was found.
func inspectSecrets(_ string, b []byte) any {
	if bytes.Contains(b[:min(len(b), 8192)], []byte{0}) {
		return nil
	}
	if hits := scanSecrets(b); len(hits) > 0 {
		return hits
	}
	return nil
}

// secretsIn is what inspectSecrets found in a file.
func secretsIn(f *rootfs.File) []SecretHit {
	hits, _ := f.Note.([]SecretHit)
	return hits
}
