import { randomBytes } from "node:crypto";
import { TsbuildError } from "../src/errors.js";
import type { Descriptor, Digest } from "../src/oci/types.js";
import type { ContentStore } from "../src/store/types.js";
import { applyLayer } from "./apply.js";
import { chainIds, chainSnapshotName } from "./chain.js";
import { snapshotExists } from "./exists.js";
import { upperDirOf } from "./mount.js";
import type { Snapshotter } from "./types.js";

/**
 * Makes each layer a committed snapshot `chain:<chainID>` (once: existing ones are reused) and
 * returns the top one's name. A failed layer leaves no snapshot behind.
 */
export async function unpackLayers(
  sn: Snapshotter,
  store: ContentStore,
  layers: Descriptor[],
  diffIds: Digest[],
): Promise<string> {
  if (layers.length !== diffIds.length) {
    throw new TsbuildError(`image has ${layers.length} layers but ${diffIds.length} diff ids`);
  }
  if (layers.length === 0) throw new TsbuildError("image has no layers to unpack");
  const chains = chainIds(diffIds);
  let parent: string | undefined;
  for (const [i, layer] of layers.entries()) {
    const name = chainSnapshotName(chains[i]!);
    if (!(await snapshotExists(sn, name))) {
      const key = `extract-${process.pid}-${randomBytes(6).toString("hex")} ${name}`;
      // Extracted straight into the new snapshot's own dir, OCI whiteouts becoming overlay markers
      // (containerd's overlay applier does the same): through the mount, a whiteout would be a delete.
      const mounts = await sn.prepare(key, parent);
      try {
        await applyLayer({ store, layer, targetDir: upperDirOf(mounts), expectedDiffId: diffIds[i] });
        await sn.commit(name, key);
      } catch (err) {
        await sn.remove(key).catch(() => undefined);
        // Another process unpacking the same image may have committed it first: use theirs.
        if (!(await snapshotExists(sn, name))) throw err;
      }
    }
    parent = name;
  }
  return parent!;
}
