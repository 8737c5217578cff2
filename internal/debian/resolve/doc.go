// Package resolve turns a list of requested package names into the closure of binary packages
// an image needs, following Pre-Depends and Depends only, and applying a hardening policy that
// cuts shells, package managers and other tools a runtime image must not carry. Every cut of a
// declared dependency is reported with its reason, so a build can show exactly what was dropped.
//
// Resolution is deliberately simpler than apt's: one version per package name (the highest for
// the target architecture across all suites, unless pinned), no conflicts or breaks handling
// (nothing is installed by dpkg, so there is nothing to break), and alternatives are chosen in
// declaration order. Ambiguity that apt would settle by priorities is an error that tells the
// user which package to name, because an image recipe should say what it contains.
package resolve
