package imagesource

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/sign"
)

// Layout opens the OCI image layout at dir: the one image or index in it that is not a
// cosign attachment (a layout written by `spartan build --oci`, then signed, holds the image
// and its signatures).
func Layout(dir string) (*Source, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("image %s: no such directory: give the OCI layout directory `spartan build --oci` wrote", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("image %s: not a directory: oci:DIR names an OCI layout directory; give an archive file without the oci: prefix", dir)
	}
	s, err := openLayout(dir)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", dir, err)
	}
	return s, nil
}

// openLayout opens a layout known to be a directory; its errors do not name dir, which may be
// a temporary copy.
func openLayout(dir string) (*Source, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return nil, errors.New("a directory but not an OCI image layout (no index.json): give the directory `spartan build --oci` or `skopeo copy … oci:DIR` wrote")
	}
	st, err := oci.OpenLayout(dir)
	if err != nil {
		return nil, err
	}
	entry, err := layoutSubject(st)
	if err != nil {
		return nil, err
	}
	a, err := st.Artifact(entry)
	if err != nil {
		return nil, err
	}
	repo := filepath.Base(filepath.Clean(dir))
	if entry.RefName != "" {
		if r, err := name.ParseReference(entry.RefName); err == nil {
			repo = r.Context().Name()
		}
	}
	return &Source{Name: dir, Kind: KindLayout, Artifact: a, Digest: entry.Descriptor.Digest.String(),
		Repo: repo, store: st, layout: st}, nil
}

// layoutSubject is the layout's one artifact that is not a signature or attestation; the
// same artifact may be listed under several ref names.
func layoutSubject(st *oci.LayoutStore) (oci.Entry, error) {
	entries, err := st.Entries()
	if err != nil {
		return oci.Entry{}, err
	}
	var subjects []oci.Entry
	seen := map[string]bool{}
	for _, e := range entries {
		if sign.IsAttachmentTag(e.RefName) || seen[e.Descriptor.Digest.String()] {
			continue
		}
		seen[e.Descriptor.Digest.String()] = true
		subjects = append(subjects, e)
	}
	switch len(subjects) {
	case 0:
		return oci.Entry{}, errors.New("the layout holds no image")
	case 1:
		return subjects[0], nil
	}
	return oci.Entry{}, fmt.Errorf("the layout holds %d different images or indexes; Spartan reads a layout with one (and its signatures): copy the one you mean to its own layout", len(subjects))
}

// OCIArchive opens an oci-archive, a tar of an OCI layout (`spartan build --archive` for a
// multi-arch build, `podman save --format oci-archive`). It is unpacked to a temporary
// directory that Close removes.
func OCIArchive(path string) (*Source, error) {
	dir, cleanup, err := oci.UnpackArchive(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, notAnArchive(err))
	}
	s, err := openLayout(dir)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("image %s: an oci-archive without a readable OCI layout: %w", path, err)
	}
	s.Name, s.Kind, s.cleanup = path, KindOCIArchive, cleanup
	return s, nil
}

// DockerArchive opens a docker-archive (`docker save`, `podman save`, `spartan build
// --archive` for one architecture) holding one image.
func DockerArchive(path string) (*Source, error) {
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, fmt.Errorf("image %s: not a readable docker-archive with one image (%w): save one image per archive, or check the file is complete", path, err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("image %s: damaged docker-archive: %w", path, err)
	}
	return &Source{Name: path, Kind: KindDockerArchive, Artifact: img, Digest: d.String(), Repo: filepath.Base(path)}, nil
}

// isTar tells a tar archive by its first header's magic ("ustar", which POSIX, GNU and pax
// archives, and so docker, podman, skopeo and Spartan's, all write).
func isTar(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var block [512]byte
	if _, err := io.ReadFull(f, block[:]); err != nil {
		return false
	}
	return bytes.Equal(block[257:262], []byte("ustar"))
}

// notAnArchive turns tar reading errors into what the user can act on.
func notAnArchive(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the archive is truncated or damaged (%w): write or copy it again", err)
	}
	return fmt.Errorf("%w: give an OCI layout directory, an oci-archive or docker-archive file, or a registry reference", err)
}
