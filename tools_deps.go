//go:build tools

package tools

import (
	_ "github.com/ProtonMail/go-crypto/openpgp"
	_ "github.com/google/go-containerregistry/pkg/v1/layout"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "github.com/ulikunitz/xz"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/term"
	_ "gopkg.in/yaml.v3"

	// Supply chain (SBOM, attestations, signing).
	_ "github.com/CycloneDX/cyclonedx-go"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/in-toto/attestation/go/v1"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/secure-systems-lab/go-securesystemslib/dsse"
	_ "github.com/secure-systems-lab/go-securesystemslib/encrypted"
	_ "github.com/spdx/tools-golang/spdx/v2/v2_3"

	// Java truststores (PKCS#12) generated from the CA bundle.
	_ "software.sslmate.com/src/go-pkcs12"
)
