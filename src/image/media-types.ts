import { MediaType } from "../oci/types.js";

const MANIFESTS: ReadonlySet<string> = new Set([MediaType.imageManifest, MediaType.dockerManifest]);
const INDEXES: ReadonlySet<string> = new Set([MediaType.imageIndex, MediaType.dockerManifestList]);

/** An image manifest, OCI or Docker schema 2. */
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && MANIFESTS.has(mediaType);
}

/** A multi-platform index, OCI or Docker manifest list. */
export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEXES.has(mediaType);
}
