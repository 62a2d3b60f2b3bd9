import type { Descriptor, ImageIndex, ImageManifest } from "../oci/types.js";
import type { ContentStore } from "../store/types.js";
import { isIndexType, isManifestType } from "./media-types.js";
import { readJsonBlob } from "./read.js";

export interface ReferencedBlobs {
  /** Every blob reachable from the roots and present, each once, roots first. */
  present: Descriptor[];
  /** Blobs referenced but absent from the store. */
  missing: Descriptor[];
}

/** Follows manifests and indexes from `roots` to every blob they reference (configs, layers, children). */
export async function referencedBlobs(store: ContentStore, roots: Descriptor[]): Promise<ReferencedBlobs> {
  const seen = new Set<string>();
  const out: ReferencedBlobs = { present: [], missing: [] };
  const visit = async (d: Descriptor): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    if (!store.has(d.digest)) {
      out.missing.push(d);
      return;
    }
    out.present.push(d);
    if (isManifestType(d.mediaType)) {
      const m = await readJsonBlob<ImageManifest>(store, d.digest);
      for (const child of [m.config, ...m.layers]) await visit(child);
    } else if (isIndexType(d.mediaType)) {
      const index = await readJsonBlob<ImageIndex>(store, d.digest);
      for (const child of index.manifests) await visit(child);
    }
  };
  for (const root of roots) await visit(root);
  return out;
}
