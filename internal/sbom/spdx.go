package sbom

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// namespaceBase prefixes document namespaces; the digest makes each unique and stable.
const namespaceBase = "https://github.com/spartan-images/spartan/spdx/"

const (
	imageID = common.ElementID("Image")
	osID    = common.ElementID("OperatingSystem")
)

func writeSPDX(inv *Inventory, o Options) ([]byte, error) {
	created := spdxTime(inv.Created)
	imgName := o.name(inv)
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      imgName,
		DocumentNamespace: namespaceBase + sanitizeID(imgName) + "/" + strings.ReplaceAll(inv.Digest, ":", "-"),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: o.tool()}},
			Created:  created,
		},
	}
	tool := common.Annotator{AnnotatorType: "Tool", Annotator: o.tool()}
	rel := func(a common.ElementID, typ string, b common.ElementID) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.DocElementID{ElementRefID: a}, RefB: common.DocElementID{ElementRefID: b}, Relationship: typ,
		})
	}

	image := &spdx.Package{
		PackageName:             imgName,
		PackageSPDXIdentifier:   imageID,
		PackageVersion:          inv.Digest,
		PackageDownloadLocation: NoAssertion,
		PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: strings.TrimPrefix(inv.Digest, "sha256:")}},
		PackageLicenseConcluded: NoAssertion,
		PackageLicenseDeclared:  NoAssertion,
		PackageCopyrightText:    NoAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
		PackageComment:          "container image; arch " + inv.Arch,
	}
	if p := imagePURL(o.Name, inv.Digest, inv.Arch); p != "" {
		image.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p}}
	}
	doc.Packages = append(doc.Packages, image)
	rel("DOCUMENT", common.TypeRelationshipDescribe, imageID)

	if inv.OS.ID != "" {
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName:             inv.OS.ID,
			PackageSPDXIdentifier:   osID,
			PackageVersion:          firstNonEmpty(inv.OS.VersionID, inv.OS.Codename),
			PackageDownloadLocation: NoAssertion,
			PackageLicenseConcluded: NoAssertion,
			PackageLicenseDeclared:  NoAssertion,
			PackageCopyrightText:    NoAssertion,
			PrimaryPackagePurpose:   "OPERATING_SYSTEM", // the JSON schema's spelling (the 2.3 text says OPERATING-SYSTEM)
			PackageDescription:      inv.OS.PrettyName,
		})
		rel(imageID, common.TypeRelationshipContains, osID)
	}

	ids := elementIDs("Package-deb-", len(inv.Packages), func(i int) string { return inv.Packages[i].Name })
	byName := map[string]common.ElementID{}
	for i, p := range inv.Packages {
		byName[p.Name] = ids[i]
	}
	cuts := cutsByPackage(o.Cuts)
	refs := map[string]string{}
	filesOf := map[string][]File{}
	for _, f := range inv.Files {
		filesOf[f.Owner] = append(filesOf[f.Owner], f)
	}
	fileIDs := elementIDs("File-", len(inv.Files), func(i int) string { return inv.Files[i].Path })
	fileID := map[string]common.ElementID{}
	for i, f := range inv.Files {
		fileID[f.Path] = fileIDs[i]
	}

	for i, p := range inv.Packages {
		sp := &spdx.Package{
			PackageName:             p.Name,
			PackageSPDXIdentifier:   ids[i],
			PackageVersion:          p.Version,
			PackageDownloadLocation: NoAssertion,
			PackageLicenseConcluded: NoAssertion,
			PackageLicenseDeclared:  p.SPDX.Expression,
			PackageCopyrightText:    NoAssertion,
			PackageHomePage:         p.Homepage,
			PackageSummary:          p.Summary,
			PrimaryPackagePurpose:   "LIBRARY",
			PackageSourceInfo:       fmt.Sprintf("built package from: %s %s", p.Source, p.SourceVersion),
			PackageSupplier:         &common.Supplier{Supplier: NoAssertion},
			PackageExternalReferences: []*spdx.PackageExternalReference{{
				Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL(inv.OS).String(),
			}},
		}
		if p.SPDX.Expression == "" {
			sp.PackageLicenseDeclared = NoAssertion
		}
		if n, mail := maintainer(p.Maintainer); n != "" {
			s := n
			if mail != "" {
				s += " (" + mail + ")"
			}
			sp.PackageSupplier = &common.Supplier{SupplierType: "Organization", Supplier: s}
		}
		if d, ok := o.Debs[p.Name]; ok {
			if d.SHA256 != "" {
				sp.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: strings.ToLower(d.SHA256)}}
			}
			if d.URL != "" {
				sp.PackageDownloadLocation = d.URL
			}
			sp.PackageFileName = fmt.Sprintf("%s_%s_%s.deb", p.Name, stripEpoch(p.Version), p.Arch)
		}
		for ref, text := range p.SPDX.Refs {
			if _, ok := refs[ref]; !ok {
				refs[ref] = text
			}
		}
		for _, text := range sortedCutTexts(cuts[p.Name]) {
			sp.Annotations = append(sp.Annotations, spdx.Annotation{
				Annotator: tool, AnnotationDate: created, AnnotationType: "OTHER", AnnotationComment: "spartan:cut " + text,
			})
		}
		if files := filesOf[p.Name]; len(files) > 0 && p.Name == RootfsPackage {
			// Spartan's own record: its files are all known, so they are analyzed.
			sp.FilesAnalyzed = true
			sp.IsFilesAnalyzedTagPresent = true
			sp.PackageVerificationCode = verificationCode(files)
			sp.PackageLicenseInfoFromFiles = []string{NoAssertion}
		}
		doc.Packages = append(doc.Packages, sp)
		rel(imageID, common.TypeRelationshipContains, ids[i])
		for _, d := range p.Depends {
			rel(ids[i], common.TypeRelationshipDependsOn, byName[d])
		}
	}

	for _, f := range inv.Files {
		doc.Files = append(doc.Files, &spdx.File{
			FileName:           "." + f.Path,
			FileSPDXIdentifier: fileID[f.Path],
			Checksums: []common.Checksum{
				{Algorithm: common.SHA1, Value: f.SHA1},
				{Algorithm: common.SHA256, Value: f.SHA256},
			},
			LicenseConcluded:  NoAssertion,
			FileCopyrightText: NoAssertion,
			FileComment:       "synthesized by Spartan at build time (no maintainer script ran)",
		})
		owner := imageID
		if id, ok := byName[f.Owner]; ok {
			owner = id
		}
		if f.Owner == RootfsPackage || owner == imageID {
			rel(owner, common.TypeRelationshipContains, fileID[f.Path])
		} else {
			// The CA bundle is generated from ca-certificates' files, not shipped in its .deb.
			rel(fileID[f.Path], common.TypeRelationshipGeneratedFrom, owner)
			rel(imageID, common.TypeRelationshipContains, fileID[f.Path])
		}
	}

	refIDs := make([]string, 0, len(refs))
	for r := range refs {
		refIDs = append(refIDs, r)
	}
	sort.Strings(refIDs)
	for _, r := range refIDs {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: r,
			ExtractedText:     refs[r],
			LicenseName:       strings.TrimPrefix(r, "LicenseRef-"),
		})
	}

	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("write SPDX JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// spdxTime formats t as SPDX wants it: UTC, seconds, "Z".
func spdxTime(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// elementIDs gives n elements SPDX ids prefix+sanitized key, unique even when two keys
// sanitize alike.
func elementIDs(prefix string, n int, key func(int) string) []common.ElementID {
	ids := make([]common.ElementID, n)
	used := map[string]bool{}
	for i := range n {
		base := prefix + strings.Trim(sanitizeID(key(i)), "-")
		id := base
		for k := 2; used[id]; k++ {
			id = fmt.Sprintf("%s-%d", base, k)
		}
		used[id] = true
		ids[i] = common.ElementID(id)
	}
	return ids
}

// verificationCode is SPDX's package verification code: the SHA-1 of the sorted, concatenated
// SHA-1s of the package's files.
func verificationCode(files []File) *common.PackageVerificationCode {
	sums := make([]string, len(files))
	for i, f := range files {
		sums[i] = f.SHA1
	}
	sort.Strings(sums)
	h := sha1.Sum([]byte(strings.Join(sums, "")))
	return &common.PackageVerificationCode{Value: hex.EncodeToString(h[:])}
}

func stripEpoch(v string) string {
	if _, after, ok := strings.Cut(v, ":"); ok {
		return after
	}
	return v
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
