package oci

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
