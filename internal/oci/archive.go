package oci

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spartan-images/spartan/internal/atomicfile"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ociLayoutFile is the content of a layout's oci-layout marker.
const ociLayoutFile = `{"imageLayoutVersion":"1.0.0"}`

// WriteArchive writes img as a docker-archive (the `docker save` format:
// manifest.json plus config and gzipped layers), which `docker load -i` and
// `podman load -i` accept, with RepoTags set to tags (e.g. "spartan/base:1").
// A tag without ":tag" gets ":latest". Loaders convert the image to their own
// manifest format, so the loaded digest is not img's; use an OCI layout or
// oci-archive to keep it.
//
// go-containerregistry decides what manifest.json says (tarball.ComputeManifest)
// but its writer lists RepoTags in map order, so the tar is written here to
// make the archive itself byte-for-byte reproducible.
func WriteArchive(path string, img v1.Image, tags []string) error {
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("write archive %s: tag %q: %w", path, t, err)
		}
		refs[tag] = img
	}
	if len(refs) == 0 {
		// Without a tag the image loads unnamed; a digest reference gives
		// ComputeManifest the image without inventing a name.
		h, err := img.Digest()
		if err != nil {
			return fmt.Errorf("write archive %s: %w", path, err)
		}
		d, err := name.NewDigest("spartan@" + h.String())
		if err != nil {
			return fmt.Errorf("write archive %s: %w", path, err)
		}
		refs[d] = img
	}
	m, err := tarball.ComputeManifest(refs)
	if err != nil {
		return fmt.Errorf("write archive %s: %w", path, err)
	}
	if len(m) != 1 {
		return fmt.Errorf("write archive %s: expected one image in manifest.json, got %d", path, len(m))
	}
	sort.Strings(m[0].RepoTags)
	rawManifest, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("write archive %s: %w", path, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("write archive %s: %w", path, err)
	}
	if len(layers) != len(m[0].Layers) {
		return fmt.Errorf("write archive %s: image has %d layers but manifest.json names %d", path, len(layers), len(m[0].Layers))
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("write archive %s: %w", path, err)
	}

	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := writeTarFile(tw, m[0].Config, bytes.NewReader(rawConfig), int64(len(rawConfig))); err != nil {
			return err
		}
		written := map[string]bool{}
		for i, l := range layers {
			file := m[0].Layers[i]
			if written[file] {
				continue
			}
			written[file] = true
			if err := writeTarLayer(tw, file, l); err != nil {
				return err
			}
		}
		if err := writeTarFile(tw, "manifest.json", bytes.NewReader(rawManifest), int64(len(rawManifest))); err != nil {
			return err
		}
		return tw.Close()
	})
}

// WriteOCIArchive writes a (an image or a multi-arch index) as an
// oci-archive: a tar of an OCI image layout, which `podman load -i` and
// `skopeo copy oci-archive:...` accept and which keeps a's digest. index.json
// has one entry per tag, annotated with org.opencontainers.image.ref.name.
// podman load needs exactly one entry to pick an image, so pass one tag (the
// full name, e.g. "localhost/spartan/base:1") for archives meant for podman.
func WriteOCIArchive(path string, a Artifact, tags []string) error {
	root, err := rootIndex(a, tags)
	if err != nil {
		return fmt.Errorf("write oci-archive %s: %w", path, err)
	}
	rawIndex, err := root.RawManifest()
	if err != nil {
		return fmt.Errorf("write oci-archive %s: %w", path, err)
	}
	blobs := map[v1.Hash]blob{}
	if err := collectIndex(blobs, root, false); err != nil {
		return fmt.Errorf("write oci-archive %s: %w", path, err)
	}
	digests := make([]v1.Hash, 0, len(blobs))
	for h := range blobs {
		digests = append(digests, h)
	}
	sort.Slice(digests, func(i, j int) bool { return digests[i].String() < digests[j].String() })

	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := writeTarFile(tw, "oci-layout", bytes.NewReader([]byte(ociLayoutFile)), int64(len(ociLayoutFile))); err != nil {
			return err
		}
		if err := writeTarFile(tw, "index.json", bytes.NewReader(rawIndex), int64(len(rawIndex))); err != nil {
			return err
		}
		if err := writeTarDir(tw, "blobs/"); err != nil {
			return err
		}
		dirs := map[string]bool{}
		for _, h := range digests {
			dir := "blobs/" + h.Algorithm + "/"
			if !dirs[dir] {
				dirs[dir] = true
				if err := writeTarDir(tw, dir); err != nil {
					return err
				}
			}
			b := blobs[h]
			rc, err := b.open()
			if err != nil {
				return fmt.Errorf("blob %s: %w", h, err)
			}
			err = writeTarFile(tw, dir+h.Hex, rc, b.size)
			rc.Close()
			if err != nil {
				return fmt.Errorf("blob %s: %w", h, err)
			}
		}
		return tw.Close()
	})
}

// blob is one file of a layout's blobs/ directory.
type blob struct {
	size int64
	open func() (io.ReadCloser, error)
}

func bytesBlob(b []byte) blob {
	return blob{size: int64(len(b)), open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

// collectIndex adds every blob reachable from idx (and idx's own manifest if
// self is set: the root index of a layout is index.json, not a blob).
func collectIndex(into map[v1.Hash]blob, idx v1.ImageIndex, self bool) error {
	if self {
		raw, err := idx.RawManifest()
		if err != nil {
			return err
		}
		h, err := idx.Digest()
		if err != nil {
			return err
		}
		into[h] = bytesBlob(raw)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, desc := range im.Manifests {
		switch {
		case desc.MediaType.IsIndex():
			child, err := idx.ImageIndex(desc.Digest)
			if err != nil {
				return err
			}
			if err := collectIndex(into, child, true); err != nil {
				return err
			}
		case desc.MediaType.IsImage():
			img, err := idx.Image(desc.Digest)
			if err != nil {
				return err
			}
			if err := collectImage(into, img); err != nil {
				return err
			}
		default:
			return fmt.Errorf("index entry %s has media type %q, which is neither an image nor an index", desc.Digest, desc.MediaType)
		}
	}
	return nil
}

func collectImage(into map[v1.Hash]blob, img v1.Image) error {
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	h, err := img.Digest()
	if err != nil {
		return err
	}
	into[h] = bytesBlob(raw)
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	ch, err := img.ConfigName()
	if err != nil {
		return err
	}
	into[ch] = bytesBlob(cfg)
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		lh, err := l.Digest()
		if err != nil {
			return err
		}
		size, err := l.Size()
		if err != nil {
			return err
		}
		into[lh] = blob{size: size, open: l.Compressed}
	}
	return nil
}

// Fixed tar headers: owner root, Unix-epoch mtime, no user or group names,
// so that the archive bytes depend only on its content.
var epoch = time.Unix(0, 0).UTC()

func writeTarDir(tw *tar.Writer, name string) error {
	return tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeDir,
		Name:     name,
		Mode:     0o755,
		ModTime:  epoch,
		Format:   tar.FormatPAX,
	})
}

func writeTarFile(tw *tar.Writer, name string, r io.Reader, size int64) error {
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o644,
		Size:     size,
		ModTime:  epoch,
		Format:   tar.FormatPAX,
	}); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	n, err := io.Copy(tw, r)
	if err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("tar %s: wrote %d bytes, expected %d", name, n, size)
	}
	return nil
}

func writeTarLayer(tw *tar.Writer, name string, l v1.Layer) error {
	size, err := l.Size()
	if err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	defer rc.Close()
	return writeTarFile(tw, name, rc, size)
}
