import { TsbuildError } from "../errors.js";
import { canonicalJson } from "../oci/canonical-json.js";
import { type Descriptor, type ImageConfig, type ImageManifest, MediaType } from "../oci/types.js";
import type { ContentStore } from "../store/types.js";

export interface ImageContent {
  config: ImageConfig;
  /** The layer descriptors, bottom first, matching config.rootfs.diff_ids one to one. */
  layers: Descriptor[];
}

/** Writes the config and OCI manifest blobs of an image; returns the manifest's descriptor. */
export async function writeImage(store: ContentStore, image: ImageContent): Promise<Descriptor> {
  const diffIds = image.config.rootfs.diff_ids;
  if (diffIds.length !== image.layers.length) {
    throw new TsbuildError(
      `image config has ${diffIds.length} diff ids for ${image.layers.length} layers: they must match`,
    );
  }
  const config = await store.writeBlob(canonicalJson(image.config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
    config: { mediaType: MediaType.imageConfig, digest: config.digest, size: config.size },
    layers: image.layers,
  };
  const written = await store.writeBlob(canonicalJson(manifest));
  return { mediaType: MediaType.imageManifest, digest: written.digest, size: written.size };
}
