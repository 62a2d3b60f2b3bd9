import { randomBytes } from "node:crypto";
import { TsbuildError } from "../src/errors.js";
import { chainIds } from "../src/oci/digest.js";
import type { Descriptor, Digest } from "../src/oci/types.js";
import type { ContentStore } from "../src/store/types.js";
import { applyLayer } from "./apply.js";
import type { Snapshotter } from "./types.js";

/** The committed snapshot name of the layer chain ending in `chainId`. */
export function chainSnapshotName(chainId: Digest): string {
  return `chain:${chainId}`;
}

async function exists(sn: Snapshotter, name: string): Promise<boolean> {
  try {
    await sn.stat(name);
    return true;
  } catch {
    return false;
  }
}

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
    if (!(await exists(sn, name))) {
      const key = `extract-${process.pid}-${randomBytes(6).toString("hex")} ${name}`;
      await sn.prepare(key, parent);
      try {
        await applyLayer({ store, layer, targetDir: await sn.upperDir(key), expectedDiffId: diffIds[i] });
        await sn.commit(name, key);
      } catch (err) {
        await sn.remove(key).catch(() => undefined);
        // Another process unpacking the same image may have committed it first: use theirs.
        if (!(await exists(sn, name))) throw err;
      }
    }
    parent = name;
  }
  return parent!;
}
