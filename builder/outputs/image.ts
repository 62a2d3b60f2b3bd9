// The image of a build: the target stage's config and layers written as an OCI manifest, named by
// every -t tag in the store's index.
import { writeImage } from "../../src/image/write.js";
import { normalizeImageName } from "../../src/oci/reference.js";
import type { Descriptor, ImageConfig } from "../../src/oci/types.js";
import type { ContentStore } from "../../src/store/types.js";
import type { StageState } from "../state.js";

export interface BuiltImage {
  manifest: Descriptor;
  config: ImageConfig;
  /** The -t names, normalized ("docker.io/library/app:1"). */
  names: string[];
}

export async function writeBuiltImage(
  store: ContentStore,
  final: StageState,
  tags: string[],
): Promise<BuiltImage> {
  const config = structuredClone(final.config);
  // The time of the newest layer: a rebuild with nothing changed is byte-identical.
  config.created = final.lastCreated;
  const manifest = await writeImage(store, { config, layers: final.layers });
  const names = tags.map(normalizeImageName);
  for (const name of names) await store.setImage(name, manifest);
  return { manifest, config, names };
}
