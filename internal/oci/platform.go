package oci

import v1 "github.com/google/go-containerregistry/pkg/v1"

// Arch maps a Debian architecture name to the OCI (Go) one; OCI names pass through.
func Arch(deb string) string {
	switch deb {
	case "ppc64el":
		return "ppc64le"
	case "armhf", "armel":
		return "arm"
	case "i386":
		return "386"
	}
	return deb
}

// Variant is the OCI CPU variant for a Debian architecture: what tells Debian's two 32-bit arm
// ports apart, and "v8" for arm64 as registries and engines normalise it.
func Variant(deb string) string {
	switch deb {
	case "armhf":
		return "v7"
	case "armel":
		return "v5"
	case "arm64":
		return "v8"
	}
	return ""
}

// DebianArch is the Debian architecture of an OCI platform, the inverse of Arch and Variant:
// the name specs use, and the suffix of per-architecture tags (python:3.13-arm64).
func DebianArch(p v1.Platform) string {
	switch {
	case p.Architecture == "ppc64le":
		return "ppc64el"
	case p.Architecture == "386":
		return "i386"
	case p.Architecture == "arm" && p.Variant == "v5":
		return "armel"
	case p.Architecture == "arm":
		return "armhf"
	}
	return p.Architecture
}
