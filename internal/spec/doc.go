// Package spec reads image specs: the YAML file (images/<name>/spartan.yaml)
// that says which Debian packages go into an image and how it runs.
//
// Decoding is strict and every problem is reported as file:line:col, with a
// suggestion for misspelt field names. Defaults are applied after variant
// overlays are merged, so a variant that switches the profile also gets that
// profile's defaults. docs/spec.md documents every field.
package spec
