// Package cache is Spartan's content-addressed download cache and the parallel
// downloader that fills it.
//
// Layout under Cache.Dir:
//
//	blobs/sha256/<hex>   downloaded files, named by the SHA-256 of their content
//	derived/<key>        data computed from blobs (parsed indexes), checksummed
//	tmp/                 files being written; same filesystem, so rename is atomic
//
// Several builds, in several processes, may share one directory without locks:
// every writer streams into its own temp file, checks the digest while writing,
// and renames the finished file into place. Two writers of the same blob write
// the same bytes, so whichever rename lands last is as good as the first. A
// partial or unverified file is never visible under blobs/.
//
// Verification policy: a blob is verified in full when it enters the cache. A
// cache hit only checks that the file exists and, when the expected size is
// known, that its size matches, so warm builds do not re-hash hundreds of
// megabytes. A blob of the wrong size is removed and downloaded again.
// Corruption that keeps the size (bit rot, a careless edit) is found by
// (*Cache).Verify, which re-hashes everything and removes what no longer
// matches; derived entries carry their own checksum and read as a miss when
// damaged.
package cache
