import { TsbuildError } from "../errors.js";
import { OciLayoutDir } from "../oci/layout.js";
import type { ImageIndex } from "../oci/types.js";
import type { ContentStore, ImageRecord } from "../store/types.js";
import { CONTAINERD_NAME_ANNOTATION, exportBlobs, exportIndex } from "./export-set.js";

/**
 * Writes `images` and their blobs into the OCI image layout directory `dest` (created if needed).
 * An existing layout keeps its other images; an image of the same name is replaced.
 */
export async function exportOciLayout(
  store: ContentStore,
  images: ImageRecord[],
  dest: string,
): Promise<void> {
  const layout = new OciLayoutDir(dest);
  try {
    layout.init();
  } catch (err) {
    throw new TsbuildError(`output ${dest}: ${(err as Error).message}`, { cause: err });
  }
  for (const d of await exportBlobs(store, images)) layout.copyBlobFrom(store.blobPath(d.digest), d.digest);
  layout.syncBlobs();

  const index = exportIndex(images);
  const names = new Set(images.map((i) => i.name));
  const kept = (layout.readIndex()?.manifests ?? []).filter(
    (d) => !names.has(d.annotations?.[CONTAINERD_NAME_ANNOTATION] ?? ""),
  );
  const merged: ImageIndex = { ...index, manifests: [...kept, ...index.manifests] };
  layout.writeIndex(merged);
}
