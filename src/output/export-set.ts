import { TsbuildError } from "../errors.js";
import { referencedBlobs } from "../image/walk.js";
import { parseReference } from "../oci/reference.js";
import { type Descriptor, type ImageIndex, MediaType, REF_NAME_ANNOTATION } from "../oci/types.js";
import type { ContentStore, ImageRecord } from "../store/types.js";

/** The annotation containerd and BuildKit put the full image name in (ref.name holds only the tag). */
export const CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name";

/** The index.json entry of an exported image, annotated the way BuildKit's OCI exporter does. */
export function exportDescriptor(image: ImageRecord): Descriptor {
  const { tag } = parseReference(image.name);
  const annotations: Record<string, string> = { ...image.target.annotations };
  annotations[CONTAINERD_NAME_ANNOTATION] = image.name;
  if (tag !== undefined) annotations[REF_NAME_ANNOTATION] = tag;
  return { ...image.target, annotations };
}

export function exportIndex(images: ImageRecord[]): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.imageIndex, manifests: images.map(exportDescriptor) };
}

/** Every blob the images reference, each once, sorted by digest; fails naming the image if one is missing. */
export async function exportBlobs(store: ContentStore, images: ImageRecord[]): Promise<Descriptor[]> {
  const byDigest = new Map<string, Descriptor>();
  for (const image of images) {
    const { present, missing } = await referencedBlobs(store, [image.target]);
    if (missing.length > 0) {
      throw new TsbuildError(
        `image ${image.name}: blob ${missing[0]!.digest} is missing from the content store`,
      );
    }
    for (const d of present) byDigest.set(d.digest, d);
  }
  return [...byDigest.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}
