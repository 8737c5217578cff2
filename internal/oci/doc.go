// Package oci turns the uncompressed layer tars made by internal/assemble into
// OCI images and multi-arch indexes, and writes them as OCI image layouts,
// docker-archives and oci-archives.
//
// Everything here is deterministic: the same layers and Config give the same
// manifest digest on any machine, in any time zone, on any day. That is why
// layers are gzipped here at a fixed level with a fixed header instead of by
// go-containerregistry, why the config and manifest are marshalled from
// explicit values (no hostname, no container ID, no wall-clock time), and why
// the archives are written with fixed tar headers in a fixed order.
//
// The digests do depend on the gzip encoder, internal/deflate, whose output is
// pinned by its golden tests: changing it changes layer digests (never the
// DiffIDs).
package oci
