import { TsbuildError } from "../errors.js";
import { sha256 } from "../oci/digest.js";
import type { Descriptor, Digest, ImageConfig, ImageManifest } from "../oci/types.js";
import { MediaType } from "../oci/types.js";
import type { ContentStore } from "../store/types.js";
import { isIndexType, isManifestType } from "./media-types.js";

export interface LoadedImage {
  manifest: ImageManifest;
  config: ImageConfig;
  configDescriptor: Descriptor;
}

/** Reads a JSON blob, checking that its bytes still match their digest. */
export async function readJsonBlob<T>(store: ContentStore, digest: Digest): Promise<T> {
  const data = await store.readBlob(digest);
  if (sha256(data) !== digest) throw new TsbuildError(`blob ${digest}: content does not match its digest`);
  try {
    return JSON.parse(data.toString("utf8")) as T;
  } catch (err) {
    throw new TsbuildError(`blob ${digest}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads an image's manifest (OCI or Docker schema 2) and its config from the store. */
export async function readImage(store: ContentStore, manifestDigest: Digest): Promise<LoadedImage> {
  const manifest = await readJsonBlob<ImageManifest>(store, manifestDigest);
  // OCI manifests may leave mediaType out; their config descriptor still says what they are.
  const mediaType =
    manifest.mediaType ??
    (manifest.config?.mediaType === MediaType.imageConfig ? MediaType.imageManifest : "");
  if (isIndexType(mediaType)) {
    throw new TsbuildError(`manifest ${manifestDigest}: is an image index, not a single-platform image`);
  }
  if (
    !isManifestType(mediaType) ||
    manifest.schemaVersion !== 2 ||
    !manifest.config ||
    !Array.isArray(manifest.layers)
  ) {
    throw new TsbuildError(
      `manifest ${manifestDigest}: unsupported manifest (media type ${mediaType || "none"})`,
    );
  }
  const config = await readJsonBlob<ImageConfig>(store, manifest.config.digest);
  return { manifest: { ...manifest, mediaType }, config, configDescriptor: manifest.config };
}
